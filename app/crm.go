package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/hubspot"
	"github.com/callcentre/softphone/crm/local"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/servicenow"
	"github.com/callcentre/softphone/crm/webhook"
	"github.com/callcentre/softphone/crm/zendesk"
	"github.com/callcentre/softphone/secrets"
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

// buildCRM builds the CRM side: the local directory (no external CRM), or
// the one external connector (Salesforce or the webhook) with its
// Directory and outbox worker.
func (a *App) buildCRM(cfg Config) (crmWiring, error) {
	var conn crm.Connector
	n := 0
	for _, set := range []bool{cfg.Salesforce != nil, cfg.Webhook != nil, cfg.HubSpot != nil, cfg.Dynamics != nil,
		cfg.ServiceNow != nil, cfg.Zendesk != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return crmWiring{}, ErrTwoCRMs
	}
	var err error
	switch {
	case cfg.Salesforce != nil:
		var sf *salesforce.Connector
		if sf, err = a.buildSalesforce(cfg); err == nil {
			a.Salesforce, conn = sf, sf
		}
	case cfg.Webhook != nil:
		var wh *webhook.Connector
		if wh, err = a.buildWebhook(cfg); err == nil {
			a.Webhook, conn = wh, wh
		}
	case cfg.HubSpot != nil:
		c := *cfg.HubSpot
		if err = a.connectorDeps(cfg, "hubspot", &c.Keyring, &c.Logger, &c.Region); err == nil {
			conn, err = hubspot.New(c)
		}
	case cfg.Dynamics != nil:
		c := *cfg.Dynamics
		if err = a.connectorDeps(cfg, "dynamics", &c.Keyring, &c.Logger, &c.Region); err == nil {
			conn, err = dynamics.New(c)
		}
	case cfg.ServiceNow != nil:
		c := *cfg.ServiceNow
		if err = a.connectorDeps(cfg, "servicenow", &c.Keyring, &c.Logger, &c.Region); err == nil {
			conn, err = servicenow.New(c)
		}
	case cfg.Zendesk != nil:
		c := *cfg.Zendesk
		if err = a.connectorDeps(cfg, "zendesk", &c.Keyring, &c.Logger, &c.Region); err == nil {
			conn, err = zendesk.New(c)
		}
	default:
		return a.buildLocal()
	}
	if err != nil {
		return crmWiring{}, err
	}
	a.ssoOK = ssoCapable(cfg)
	a.agentIDFromCRM = cfg.AgentIDFromCRM
	a.Connector = conn
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
	a.Outbox = outbox.New(a.Store, conn, append(wopts, cfg.OutboxOptions...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = a.Outbox.Run(ctx) }()
	a.closers = append(a.closers, func() error { cancel(); <-done; return nil })
	return crmWiring{directory: a.heldDirectory(a.CRM), targets: []string{conn.Name()}}, nil
}

// buildLocal builds the local CRM over an empty backend; the signed-in
// agent's profile becomes its backend at sign-in.
func (a *App) buildLocal() (crmWiring, error) {
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
	return crmWiring{directory: a.heldDirectory(d)}, nil
}

// maxHeldLookups bounds the caller lookups held while the agent's
// directory loads (a few calls at most arrive in that window); past it a
// lookup runs at once against whatever the directory holds.
const maxHeldLookups = 64

// heldLookup is one caller lookup waiting for the agent's directory.
type heldLookup struct{ key, number string }

// heldDir is the agent's Directory port in front of the CRM's: a caller
// lookup asked while no signed-in agent's directory is ready (the local
// directory is loaded, or the external CRM's contact cache set, by the
// sign-in watcher a moment after the core signs the agent in) is held
// and runs as soon as it is ready. So a call offered in the first
// moments after sign-in is still matched, popped and logged with its
// contact (before, it was looked up in the empty directory and never
// again). Screen pops pass straight through.
type heldDir struct {
	next domain.Directory
	log  *slog.Logger

	mu    sync.Mutex
	sink  domain.EventSink
	ready bool
	held  []heldLookup
}

// heldDirectory wraps the CRM's directory port and remembers it for the
// sign-in watcher (crmSession), which opens and closes it.
func (a *App) heldDirectory(next domain.Directory) domain.Directory {
	h := &heldDir{next: next, log: a.log}
	a.crmSess = &crmSession{a: a, dir: h}
	return h
}

// Lookup implements domain.Directory: it holds the lookup while the
// directory is not ready, and asks the CRM's directory otherwise.
func (h *heldDir) Lookup(key, number string) error {
	h.mu.Lock()
	if !h.ready && len(h.held) < maxHeldLookups {
		h.held = append(h.held, heldLookup{key: key, number: number})
		h.mu.Unlock()
		return nil
	}
	h.mu.Unlock()
	return h.next.Lookup(key, number)
}

// ScreenPop implements domain.Directory.
func (h *heldDir) ScreenPop(key string, rec domain.CRMRecord) error {
	return h.next.ScreenPop(key, rec)
}

// ScreenPopNew implements domain.Directory.
func (h *heldDir) ScreenPopNew(key, number string) error {
	return h.next.ScreenPopNew(key, number)
}

// attach sets where a held lookup that the CRM's directory refuses is
// reported (the core, as a failed match).
func (h *heldDir) attach(sink domain.EventSink) {
	h.mu.Lock()
	h.sink = sink
	h.mu.Unlock()
}

// open marks the directory ready and runs the held lookups against it.
func (h *heldDir) open() {
	h.mu.Lock()
	h.ready = true
	held, sink := h.held, h.sink
	h.held = nil
	h.mu.Unlock()
	for _, l := range held {
		h.lookup(sink, l.key, l.number)
	}
}

// lookupNow asks the CRM's directory at once (a repeated lookup).
func (h *heldDir) lookupNow(key, number string) {
	h.mu.Lock()
	sink := h.sink
	h.mu.Unlock()
	h.lookup(sink, key, number)
}

// lookup asks the CRM's directory; a refusal goes to sink as a failed
// match, as the core would have made of it.
func (h *heldDir) lookup(sink domain.EventSink, key, number string) {
	err := h.next.Lookup(key, number)
	if err == nil {
		return
	}
	h.log.Info("crm: caller lookup refused", "call_key", key, "err", err)
	if sink != nil {
		if perr := sink.Post(domain.CallerMatched{Key: key, Number: number, Err: err.Error()}); perr != nil {
			h.log.Debug("caller match not delivered", "call_key", key, "err", perr)
		}
	}
}

// close holds lookups again (sign-out: the next agent's directory is not
// loaded yet).
func (h *heldDir) close() {
	h.mu.Lock()
	h.ready = false
	h.mu.Unlock()
}

// connectorDeps fills a connector configuration's keyring (the OS
// keyring), logger and region from the app's where they are unset.
func (a *App) connectorDeps(cfg Config, name string, kr *crm.Keyring, log **slog.Logger, region *string) error {
	if *kr == nil {
		if cfg.Secrets == nil {
			return fmt.Errorf("%s: %w", name, ErrNoKeyring)
		}
		*kr = cfg.Secrets
	}
	if a.ssoKR == nil {
		a.ssoKR = newSSOKeyring(*kr)
	}
	*kr = a.ssoKR
	if *log == nil {
		*log = a.log
	}
	if *region == "" {
		*region = cfg.Region
	}
	return nil
}

func (a *App) buildSalesforce(cfg Config) (*salesforce.Connector, error) {
	sc := *cfg.Salesforce
	if err := a.connectorDeps(cfg, "salesforce", &sc.Keyring, &sc.Logger, &sc.Region); err != nil {
		return nil, err
	}
	return salesforce.New(sc)
}

// buildWebhook builds the webhook connector with its signing secret and
// bearer token read from the OS keyring (never from the configuration).
func (a *App) buildWebhook(cfg Config) (*webhook.Connector, error) {
	wc := *cfg.Webhook
	if len(wc.Secret) != 0 || wc.BearerToken != "" {
		return nil, fmt.Errorf("webhook: %w", ErrSecretInConfig)
	}
	if cfg.Secrets == nil {
		return nil, fmt.Errorf("webhook: %w", ErrNoKeyring)
	}
	if wc.Name == "" {
		wc.Name = webhook.DefaultName
	}
	secret, bearer, err := webhookSecrets(cfg.Secrets, wc.Name)
	if err != nil {
		return nil, err
	}
	wc.Secret, wc.BearerToken = []byte(secret), bearer
	if wc.Logger == nil {
		wc.Logger = a.log
	}
	return webhook.New(wc)
}

// WebhookAccount is the keyring account (under MachineAgent) holding the
// secrets of the webhook connector named name ("" is webhook.DefaultName).
func WebhookAccount(name string) string {
	if name == "" {
		name = webhook.DefaultName
	}
	return "crm-webhook:" + name
}

// webhookSecrets reads the signing secret (required) and the bearer token
// (optional) of the webhook named name.
func webhookSecrets(kr crm.Keyring, name string) (secret, bearer string, err error) {
	acct := WebhookAccount(name)
	secret, err = kr.Get(MachineAgent, acct, secrets.KindClientSecret)
	switch {
	case errors.Is(err, secrets.ErrNotFound) || (err == nil && secret == ""):
		return "", "", fmt.Errorf("webhook %s: %w", name, ErrNoWebhookSecret)
	case err != nil:
		return "", "", fmt.Errorf("webhook %s: signing secret: %w", name, err)
	}
	bearer, err = kr.Get(MachineAgent, acct, secrets.KindAccessToken)
	if errors.Is(err, secrets.ErrNotFound) {
		return secret, "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("webhook %s: bearer token: %w", name, err)
	}
	return secret, bearer, nil
}

// SetWebhookSecrets stores the signing secret (at least 16 bytes) and the
// bearer token ("" removes it) of the webhook named name in kr, the OS
// keyring (*secrets.Store), where Build reads them. cmd calls it from its
// administration command; the values never go to a file.
func SetWebhookSecrets(kr crm.Keyring, name, signingSecret, bearerToken string) error {
	if len(signingSecret) < 16 {
		return fmt.Errorf("webhook: %w", ErrWeakWebhookSecret)
	}
	acct := WebhookAccount(name)
	if err := kr.Set(MachineAgent, acct, secrets.KindClientSecret, signingSecret); err != nil {
		return fmt.Errorf("webhook: signing secret: %w", err)
	}
	if bearerToken == "" {
		if err := kr.Delete(MachineAgent, acct, secrets.KindAccessToken); err != nil && !errors.Is(err, secrets.ErrNotFound) {
			return fmt.Errorf("webhook: bearer token: %w", err)
		}
		return nil
	}
	if err := kr.Set(MachineAgent, acct, secrets.KindAccessToken, bearerToken); err != nil {
		return fmt.Errorf("webhook: bearer token: %w", err)
	}
	return nil
}

func (a *App) pop(p ScreenPop) {
	if a.onPop != nil {
		a.onPop(p)
	}
}

// crmSession follows the signed-in agent: it switches the local directory
// to the agent's store profile (seeding the demo contacts in demo mode),
// or resumes the agent's session of the external CRM (Salesforce from the
// keyring; the webhook always); at sign-out it flushes the agent's outbox
// (and, on a shared PC, signs out of the CRM: Salesforce revokes its
// tokens, the webhook has nothing to revoke).
type crmSession struct {
	a     *App
	dir   *heldDir
	flush time.Duration

	mu      sync.Mutex
	agentID string
	sess    crm.Session
}

// watchAgent starts following sign-ins and sign-outs; the returned
// function stops it (and interrupts a running flush).
func (a *App) watchAgent(flush time.Duration) func() error {
	cs := a.crmSess // made with the directory port by buildCRM
	cs.flush = flush
	cs.dir.attach(a.Agent)
	ctx, cancel := context.WithCancel(context.Background())
	stop := a.Agent.Watch(ctx, func(n agent.Notify) {
		if n.Agent != nil {
			cs.agentChanged(ctx, n.Agent.Agent.ID)
		}
		a.ends.note(n)
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
		cs.dir.close()
		cs.signedOut(ctx, prev)
	}
	if id != "" {
		cs.signedIn(ctx, id)
	}
}

// signedIn loads the agent's directory and then opens the held directory
// port: the lookups held since sign-in run against it (or, when it could
// not be loaded, against the empty directory: they are answered, not lost).
func (cs *crmSession) signedIn(ctx context.Context, id string) {
	a := cs.a
	p, err := a.Store.Profile(id)
	if err != nil {
		a.log.Error("crm: profile not opened", "agent", id, "err", err)
		cs.dir.open()
		return
	}
	if a.Local != nil {
		defer cs.dir.open()
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
	// Cached caller id while the session resumes, unless a session was
	// set meanwhile (the agent's sign-in, SignInCRM, finished before this
	// watcher got here): that one is kept.
	cs.mu.Lock()
	if cs.sess == nil && cs.agentID == id {
		a.CRM.SetSession(nil, p)
	}
	cs.mu.Unlock()
	cs.dir.open()
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	sess, err := a.Connector.Resume(rctx, id)
	cancel()
	if err != nil {
		a.log.Info("crm: sign-in needed", "crm", a.Connector.Name(), "agent", id, "kind", crm.KindOf(err).String())
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
	cs.relookFailed()
}

// relookFailed asks the CRM again about the live inbound calls whose
// lookup failed: offered after sign-in but before the agent's CRM session
// (resumed, or the interactive sign-in), they were answered from the
// contact cache alone, or not at all. Their answers are in (the match
// is failed, not pending), so no older answer can overtake the new one.
func (cs *crmSession) relookFailed() {
	if cs.a.Agent == nil {
		return
	}
	st := cs.a.Agent.Snapshot()
	for _, ix := range st.Interactions {
		if ix.Phase == domain.PhaseLive && ix.Direction == domain.DirectionInbound && ix.Match == domain.MatchFailed {
			cs.dir.lookupNow(ix.Key, ix.Remote.Number)
		}
	}
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
		a.log.Warn("crm: sign-out failed", "crm", a.Connector.Name(), "agent", id, "err", err)
	}
}

// SignInCRM runs the external CRM's interactive sign-in for the signed-in
// agent and starts using the session: for Salesforce the system browser
// with a loopback redirect (it blocks until the round trip ends; call it
// off the UI goroutine); the webhook has no interactive sign-in, so it
// just resumes. Without an external CRM it returns ErrNoCRM.
func (a *App) SignInCRM(ctx context.Context) error {
	if a.Connector == nil || a.crmSess == nil {
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
	sess, err := a.Connector.SignIn(ctx, id, crm.SignInOptions{ForceLogin: m.Shared})
	if err != nil {
		return err
	}
	a.crmSess.setSession(id, sess)
	return nil
}

// CRMState reports the external CRM's display name ("" without one) and
// whether the signed-in agent still needs its interactive sign-in (no
// session: no caller lookup in the CRM, call logs wait in the outbox).
// It never blocks on the network.
func (a *App) CRMState() (name string, signInNeeded bool) {
	if a.Connector == nil || a.crmSess == nil {
		return "", false
	}
	cs := a.crmSess
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return crm.DisplayName(a.Connector.Name()), cs.agentID != "" && cs.sess == nil
}
