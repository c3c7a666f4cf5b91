package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/local"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/sip/demopbx"
)

// DefaultFlushTimeout bounds the outbox flush at sign-out.
const DefaultFlushTimeout = 30 * time.Second

// ScreenPop is an in-app screen pop of the local CRM: the matched contact
// (at ringing or at answer, per the agent's setting), or the new-contact
// form for an unknown number (the agent's "create contact").
type ScreenPop struct {
	// Key is the interaction (call key).
	Key string
	// Contact is the matched contact; nil for the new-contact form.
	Contact *local.Contact
	// Number is the caller's E.164 number for the new-contact form.
	Number string
}

// errNotSignedIn refuses a local directory change while nobody is signed
// in: the directory belongs to an agent's profile.
var errNotSignedIn = errors.New("the local directory belongs to a signed-in agent")

// noProfile is the local directory's backend while nobody is signed in:
// empty, and it refuses to save.
type noProfile struct{}

func (noProfile) Load() ([]local.Contact, error) { return nil, nil }
func (noProfile) Save([]local.Contact) error     { return errNotSignedIn }

// logSink forwards the store's events to the agent and wakes the outbox
// worker when a call log (and so its outbox entry) is durable.
type logSink struct {
	next domain.EventSink
	wake func()
}

func (s logSink) Post(in domain.Input) error {
	err := s.next.Post(in)
	if _, ok := in.(domain.CallLogSaved); ok && s.wake != nil {
		s.wake()
	}
	return err
}

// crmWiring is what buildCRM made; the agent ports come out of it.
type crmWiring struct {
	directory domain.Directory
	targets   []string
}

// buildCRM builds the CRM side: the local directory (no external CRM) or
// the Salesforce connector with its Directory and outbox worker.
func (a *App) buildCRM(cfg Config) (crmWiring, error) {
	if cfg.Salesforce == nil {
		pop := func(key string, c local.Contact) { a.pop(ScreenPop{Key: key, Contact: &c}) }
		popNew := func(key, e164 string) { a.pop(ScreenPop{Key: key, Number: e164}) }
		opts := []local.Option{local.WithLogger(a.log)}
		if a.onPop != nil {
			opts = append(opts, local.WithPop(pop), local.WithPopNew(popNew))
		}
		d, err := local.New(noProfile{}, a.Normalizer, opts...)
		if err != nil {
			return crmWiring{}, err
		}
		a.Local = d
		a.closers = append(a.closers, func() error { d.Wait(); return nil })
		return crmWiring{directory: d}, nil
	}
	sc := *cfg.Salesforce
	if sc.Keyring == nil {
		if cfg.Secrets == nil {
			return crmWiring{}, fmt.Errorf("salesforce: %w", ErrNoKeyring)
		}
		sc.Keyring = cfg.Secrets
	}
	if sc.Logger == nil {
		sc.Logger = a.log
	}
	if sc.Region == "" {
		sc.Region = cfg.Region
	}
	sf, err := salesforce.New(sc)
	if err != nil {
		return crmWiring{}, err
	}
	a.Salesforce = sf
	dopts := []crm.DirectoryOption{crm.WithDirectoryLogger(a.log)}
	if cfg.Opener != nil {
		dopts = append(dopts, crm.WithOpener(cfg.Opener))
	}
	a.CRM = crm.NewDirectory(a.Normalizer, dopts...)
	a.closers = append(a.closers, func() error { a.CRM.Wait(); return nil })
	wopts := []outbox.Option{outbox.WithLogger(a.log)}
	if cfg.OnOutboxChange != nil {
		wopts = append(wopts, outbox.OnChange(cfg.OnOutboxChange))
	}
	a.Outbox = outbox.New(a.Store, sf, append(wopts, cfg.OutboxOptions...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Outbox.Run(ctx) }()
	a.closers = append(a.closers, func() error { cancel(); <-done; return nil })
	return crmWiring{directory: a.CRM, targets: []string{sf.Name()}}, nil
}

func (a *App) pop(p ScreenPop) {
	if a.onPop != nil {
		a.onPop(p)
	}
}

// crmSession follows the signed-in agent: it switches the local directory
// to the agent's store profile (seeding the demo contacts in demo mode),
// or resumes the agent's Salesforce session; at sign-out it flushes the
// agent's outbox (and, on a shared PC, signs out of Salesforce).
type crmSession struct {
	a     *App
	flush time.Duration

	mu      sync.Mutex
	agentID string
	sess    crm.Session
}

// watchAgent starts following sign-ins and sign-outs; the returned
// function stops it (and interrupts a running flush).
func (a *App) watchAgent(flush time.Duration) func() error {
	cs := &crmSession{a: a, flush: flush}
	a.crmSess = cs
	ctx, cancel := context.WithCancel(context.Background())
	stop := a.Agent.Watch(ctx, func(n agent.Notify) {
		if n.Agent != nil {
			cs.agentChanged(ctx, n.Agent.Agent.ID)
		}
	})
	return func() error { cancel(); stop(); return nil }
}

func (cs *crmSession) agentChanged(ctx context.Context, id string) {
	cs.mu.Lock()
	prev := cs.agentID
	cs.agentID = id
	cs.mu.Unlock()
	if id == prev {
		return
	}
	if prev != "" {
		cs.signedOut(ctx, prev)
	}
	if id != "" {
		cs.signedIn(ctx, id)
	}
}

func (cs *crmSession) signedIn(ctx context.Context, id string) {
	a := cs.a
	p, err := a.Store.Profile(id)
	if err != nil {
		a.log.Error("crm: profile not opened", "agent", id, "err", err)
		return
	}
	if a.Local != nil {
		if err := a.Local.SetBackend(local.NewStoreBackend(p)); err != nil {
			a.log.Error("crm: local directory not loaded", "agent", id, "err", err)
			return
		}
		if a.Demo && len(a.Local.Contacts()) == 0 {
			var seed []local.Contact
			for _, c := range demopbx.Contacts() {
				seed = append(seed, local.Contact{Name: c.Name, Company: c.Company, Email: c.Email, Phones: []string{c.Number}})
			}
			if _, err := a.Local.Add(seed); err != nil {
				a.log.Error("crm: demo contacts not seeded", "err", err)
			}
		}
		a.log.Info("local directory loaded", "agent", id, "contacts", len(a.Local.Contacts()))
		return
	}
	a.CRM.SetSession(nil, p) // cached caller id while the session resumes
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	sess, err := a.Salesforce.Resume(rctx, id)
	cancel()
	if err != nil {
		a.log.Info("crm: salesforce sign-in needed", "agent", id, "kind", crm.KindOf(err).String())
		return
	}
	cs.setSession(id, sess)
}

func (cs *crmSession) setSession(id string, sess crm.Session) {
	a := cs.a
	p, err := a.Store.Profile(id)
	if err != nil {
		a.log.Error("crm: profile not opened", "agent", id, "err", err)
		return
	}
	cs.mu.Lock()
	if cs.agentID != id {
		cs.mu.Unlock()
		return // signed out meanwhile
	}
	cs.sess = sess
	cs.mu.Unlock()
	a.CRM.SetSession(sess, p)
	a.Outbox.Wake()
}

func (cs *crmSession) signedOut(ctx context.Context, id string) {
	a := cs.a
	if a.Local != nil {
		if err := a.Local.SetBackend(noProfile{}); err != nil {
			a.log.Error("crm: local directory not cleared", "err", err)
		}
		return
	}
	a.CRM.SetSession(nil, nil)
	cs.mu.Lock()
	sess := cs.sess
	cs.sess = nil
	cs.mu.Unlock()
	fctx, cancel := context.WithTimeout(ctx, cs.flush)
	defer cancel()
	if err := a.Outbox.Flush(fctx, id); err != nil {
		a.log.Warn("crm: call logs left queued at sign-out; they are sent at the agent's next sign-in", "agent", id, "err", err)
	}
	if sess == nil {
		return
	}
	m, err := a.Store.MachineSettings()
	if err != nil || !m.Shared {
		return // a personal PC keeps the session for the next shift
	}
	if err := sess.SignOut(fctx); err != nil {
		a.log.Warn("crm: salesforce sign-out failed", "agent", id, "err", err)
	}
}

// SignInCRM runs the interactive Salesforce sign-in (system browser,
// loopback redirect) for the signed-in agent and starts using the
// session. It blocks until the browser round trip ends; call it off the
// UI goroutine. Without Salesforce configured it returns ErrNoCRM.
func (a *App) SignInCRM(ctx context.Context) error {
	if a.Salesforce == nil || a.crmSess == nil {
		return ErrNoCRM
	}
	a.crmSess.mu.Lock()
	id := a.crmSess.agentID
	a.crmSess.mu.Unlock()
	if id == "" {
		return ErrNotSignedIn
	}
	m, err := a.Store.MachineSettings()
	if err != nil {
		return err
	}
	sess, err := a.Salesforce.SignIn(ctx, id, crm.SignInOptions{ForceLogin: m.Shared})
	if err != nil {
		return err
	}
	a.crmSess.setSession(id, sess)
	return nil
}
