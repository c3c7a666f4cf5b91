package app

import (
	"context"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/agenttest"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/sip/demopbx"
	"github.com/callcentre/softphone/store"
)

// TestLookupHeldUntilDirectoryLoaded offers a call after the core signed
// the agent in but before the sign-in watcher loaded the agent's local
// directory (the watcher starts only afterwards here, so the order is
// certain). The lookup must run once the directory is loaded: the
// interaction is matched to the contact, it pops up, and the call's log
// names the contact. Before the fix the lookup ran in the empty directory
// and was never repeated.
func TestLookupHeldUntilDirectoryLoaded(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.WithLogger(quietLog()))
	if err != nil {
		t.Fatal(err)
	}
	pops := make(chan ScreenPop, 4)
	a := &App{Store: st, Demo: true, log: quietLog(), Normalizer: crm.NewNormalizer("DE"),
		onPop: func(p ScreenPop) { pops <- p }}
	a.closers = append(a.closers, st.Close)
	w, err := a.buildLocal()
	if err != nil {
		t.Fatal(err)
	}
	rec := agenttest.NewRecorder()
	tel, media, calls, _ := rec.Ports()
	a.Agent = agent.New(agent.Ports{Telephony: tel, Media: media, CallLog: calls, Directory: w.directory},
		agent.WithLogger(quietLog()))
	a.Local.Attach(a.Agent)
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- a.Agent.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-ran
		for i := len(a.closers) - 1; i >= 0; i-- {
			if err := a.closers[i](); err != nil {
				t.Errorf("close: %v", err)
			}
		}
	})
	sync := func() {
		t.Helper()
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		if err := a.Agent.Sync(sctx); err != nil {
			t.Fatal(err)
		}
	}

	cfg := domain.DefaultConfig()
	cfg.LoginStatus = domain.Status{Presence: domain.PresenceAvailable}
	if err := a.Agent.Login(domain.AgentInfo{ID: "early", Name: "Early Agent"}, cfg); err != nil {
		t.Fatal(err)
	}
	if err := a.Agent.Post(domain.RegistrationChanged{State: domain.RegRegistered}); err != nil {
		t.Fatal(err)
	}
	customer := demopbx.Contacts()[0]
	if err := a.Agent.Post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: customer.Number}}); err != nil {
		t.Fatal(err)
	}
	sync()
	interaction := func(key string) *domain.Interaction {
		s := a.Agent.Snapshot()
		return s.Interaction(key)
	}
	if ix := interaction("c1"); ix == nil || ix.Phase != domain.PhaseLive {
		t.Fatalf("the call was not offered: %+v", ix)
	}

	// Now the watcher sees the sign-in and loads (and seeds) the directory.
	a.closers = append(a.closers, a.watchAgent(time.Second))

	var pop ScreenPop
	select {
	case pop = <-pops:
	case <-time.After(30 * time.Second):
		t.Fatalf("no screen pop for the call offered while the directory loaded; interaction %+v",
			interaction("c1"))
	}
	if pop.Key != "c1" || pop.Contact == nil || pop.Contact.Name != customer.Name {
		t.Fatalf("screen pop %+v, want %s for c1", pop, customer.Name)
	}
	sync()
	ix := interaction("c1")
	if ix == nil || ix.Match != domain.MatchOne || ix.RecordID != pop.Contact.ID {
		t.Fatalf("interaction %+v, want matched to %s", ix, pop.Contact.ID)
	}

	// The caller hangs up unanswered: the missed call's log names the
	// contact.
	if err := a.Agent.Post(domain.CallEnded{ID: "c1", Cause: domain.CauseRemoteHangup}); err != nil {
		t.Fatal(err)
	}
	sync()
	logs := rec.Logs()
	if len(logs) != 1 || logs[0].RecordID != pop.Contact.ID {
		t.Fatalf("call logs %+v, want one naming %s", logs, pop.Contact.ID)
	}
}

// TestLookupAgainAfterCRMSignIn: with an external CRM whose session the
// agent has not signed in to yet, a ringing call's lookup fails (no
// session, nothing cached). When the agent signs in to the CRM while it
// still rings, the caller is looked up again and matched.
func TestLookupAgainAfterCRMSignIn(t *testing.T) {
	var tc crmCase
	for _, c := range crmCases {
		if c.name == "servicenow" {
			tc = c
		}
	}
	customer := demopbx.Contacts()[0]
	kr := crmtest.NewKeyring()
	setCRM, recordID, _ := tc.start(t, kr, customer.Name, customer.Number)
	cfg := domain.DefaultConfig()
	cfg.LoginStatus = domain.Status{Presence: domain.PresenceAvailable}
	cfg.RingTimeout = 2 * time.Minute // it rings until the test is done
	bc := Config{
		DataDir: t.TempDir(), Demo: true, InstanceSocket: "off", AgentConfig: &cfg, ControlAddr: "off",
		DemoOptions: demopbx.Options{AnswerDelay: 150 * time.Millisecond}, Logger: quietLog(), Region: "GB", NoAudio: true,
		Opener: (&urlRecorder{}).open,
	}
	setCRM(&bc)
	a, err := Build(context.Background(), bc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err := a.Agent.Login(domain.AgentInfo{ID: "demo-agent", Name: "Demo Agent"}, cfg); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, limit time.Duration, cond func() bool) {
		t.Helper()
		for end := time.Now().Add(limit); !cond(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(end) {
				t.Fatalf("no %s within %v", what, limit)
			}
		}
	}
	waitFor("crm sign-in needed", 30*time.Second, func() bool { _, needed := a.CRMState(); return needed })
	waitFor("registration", 30*time.Second, func() bool {
		s := a.Agent.Snapshot()
		return s.Registration.State == domain.RegRegistered
	})
	if _, err := a.PBX.CallAgent(customer.Number); err != nil {
		t.Fatal(err)
	}
	var key string
	waitFor("failed lookup of the ringing call", 30*time.Second, func() bool {
		s := a.Agent.Snapshot()
		if len(s.Interactions) != 1 || s.Interactions[0].Match != domain.MatchFailed {
			return false
		}
		key = s.Interactions[0].Key
		return true
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.SignInCRM(ctx); err != nil {
		t.Fatalf("crm sign-in: %v", err)
	}
	waitFor("match after the crm sign-in", 30*time.Second, func() bool {
		s := a.Agent.Snapshot()
		ix := s.Interaction(key)
		return ix != nil && ix.Phase == domain.PhaseLive && ix.Match == domain.MatchOne && ix.RecordID == recordID
	})
}

// stallConn is a connector whose Resume waits until the test lets it
// fail; stubSess is a session that knows one number.
type stallConn struct {
	resuming chan struct{}
	release  chan struct{}
}

func (stallConn) Name() string { return "stall" }
func (stallConn) Capabilities() crm.Capabilities {
	return crm.Capabilities{MaxBatch: 1, Idempotent: true}
}
func (stallConn) SignIn(context.Context, string, crm.SignInOptions) (crm.Session, error) {
	return nil, crm.ErrSignInRequired
}
func (c stallConn) Resume(ctx context.Context, _ string) (crm.Session, error) {
	c.resuming <- struct{}{}
	select {
	case <-c.release:
	case <-ctx.Done():
	}
	return nil, crm.ErrSignInRequired
}

type stubSess struct {
	agent  string
	number string
	rec    domain.CRMRecord
}

func (s stubSess) AgentID() string               { return s.agent }
func (s stubSess) Identity() crm.Identity        { return crm.Identity{UserID: "u1"} }
func (s stubSess) Health(context.Context) error  { return nil }
func (s stubSess) SignOut(context.Context) error { return nil }
func (s stubSess) LookupPhone(_ context.Context, p crm.Phone) ([]domain.CRMRecord, error) {
	if p.E164 == s.number {
		return []domain.CRMRecord{s.rec}, nil
	}
	return nil, nil
}
func (s stubSess) Search(context.Context, string, int) ([]domain.CRMRecord, error) { return nil, nil }
func (s stubSess) LogCalls(context.Context, []crm.LogItem) ([]crm.LogResult, error) {
	return nil, crm.ErrSignInRequired
}
func (s stubSess) RecordURL(domain.CRMRecord) (string, error) { return "", crm.ErrSignInRequired }
func (s stubSess) NewRecordURL(crm.Phone) (string, error)     { return "", crm.ErrSignInRequired }

// TestLateWatcherKeepsTheSignedInSession: the agent's CRM sign-in
// (SignInCRM) finishes before the sign-in watcher has set up the agent's
// directory. The watcher must not drop that session while it resumes
// one: a call looked up meanwhile is matched through it.
func TestLateWatcherKeepsTheSignedInSession(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.WithLogger(quietLog()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	conn := stallConn{resuming: make(chan struct{}, 1), release: make(chan struct{})}
	a := &App{Store: st, log: quietLog(), Normalizer: crm.NewNormalizer("GB"), Connector: conn}
	a.CRM = crm.NewDirectory(a.Normalizer, crm.WithDirectoryLogger(quietLog()))
	a.Outbox = outbox.New(st, conn, outbox.WithLogger(quietLog())) // woken, never run
	port := a.heldDirectory(a.CRM)
	sink := crmtest.NewSink(4)
	a.CRM.Attach(sink)
	cs := a.crmSess
	cs.agentID = "a1" // what agentChanged sets before signedIn runs
	customer := demopbx.Contacts()[0]
	rec := domain.CRMRecord{ID: "c-1", Type: "Contact", Name: customer.Name}
	cs.setSession("a1", stubSess{agent: "a1", number: customer.Number, rec: rec}) // SignInCRM done first

	done := make(chan struct{})
	go func() { defer close(done); cs.signedIn(context.Background(), "a1") }() // the watcher, late
	select {
	case <-conn.resuming:
	case <-time.After(30 * time.Second):
		t.Fatal("the watcher did not resume the session")
	}
	if err := port.Lookup("k1", customer.Number); err != nil {
		t.Fatal(err)
	}
	select {
	case in := <-sink.C:
		m, ok := in.(domain.CallerMatched)
		if !ok || m.Err != "" || len(m.Records) != 1 || m.Records[0].ID != rec.ID {
			t.Fatalf("lookup while the watcher resumes: %+v, want a match through the signed-in session", in)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no answer to the lookup")
	}
	close(conn.release)
	<-done
	a.CRM.Wait()
}
