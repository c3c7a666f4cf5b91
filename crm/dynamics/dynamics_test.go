package dynamics_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/dynamicsemu"
	"github.com/callcentre/softphone/crm/emukit"
	"github.com/callcentre/softphone/secrets"
)

type fixture struct {
	emu     *dynamicsemu.Server
	conn    *dynamics.Connector
	keyring *crmtest.Keyring
	browser *crmtest.Browser
	cfg     dynamics.Config
	logs    *syncBuffer
}

// syncBuffer collects the connector's log output for the leak check.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFixture(t testing.TB, emuCfg dynamicsemu.Config, mod func(*dynamics.Config)) *fixture {
	t.Helper()
	emuCfg.CustomColumns = append(emuCfg.CustomColumns, "cti_callkey", "cti_outcome")
	emu := dynamicsemu.New(emuCfg)
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	f := &fixture{emu: emu, keyring: crmtest.NewKeyring(), browser: &crmtest.Browser{}, logs: &syncBuffer{}}
	f.cfg = dynamics.Config{
		OrgURL:     emu.URL(),
		Authority:  emu.AuthorityURL(),
		Tenant:     emu.Tenant(),
		ClientID:   emu.ClientID(),
		Leads:      true,
		Columns:    map[string]string{dynamics.ColumnCallKey: "cti_callkey", dynamics.ColumnOutcome: "cti_outcome"},
		Keyring:    f.keyring,
		Opener:     f.browser.Open,
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Logger:     slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&f.cfg)
	}
	var err error
	if f.conn, err = dynamics.New(f.cfg); err != nil {
		t.Fatal(err)
	}
	return f
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func (f *fixture) signIn(t testing.TB, agent string) crm.Session {
	t.Helper()
	s, err := f.conn.SignIn(ctx(t), agent, crm.SignInOptions{Timeout: time.Minute})
	if err != nil {
		t.Fatalf("sign in: %v (browser: %v)", err, f.browser.Wait())
	}
	return s
}

func phone(t testing.TB, raw string) crm.Phone {
	t.Helper()
	p, err := crm.NewNormalizer("US").Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func callLog(agent, key string) domain.CallLog {
	t0 := time.Date(2026, 5, 7, 15, 4, 5, 0, time.UTC)
	return domain.CallLog{Key: key, AgentID: agent, Direction: domain.DirectionInbound,
		Remote: domain.Party{Number: "+14155551212"}, Queue: "support", StartedAt: t0, AnsweredAt: t0.Add(5 * time.Second),
		EndedAt: t0.Add(5*time.Minute + 17*time.Second), Talk: 312 * time.Second, Outcome: "Resolved", Notes: "invoice 1042",
		Recordings: []string{"https://rec.example/1.wav"}}
}

func kindOf(t *testing.T, err error, want crm.Kind) *crm.Error {
	t.Helper()
	var e *crm.Error
	if !errors.As(err, &e) || e.Kind != want {
		t.Fatalf("error %v (kind %v), want kind %v", err, crm.KindOf(err), want)
	}
	return e
}

func TestNewValidatesConfig(t *testing.T) {
	kr := crmtest.NewKeyring()
	good := dynamics.Config{OrgURL: "https://contoso.crm.dynamics.com", ClientID: "c", Keyring: kr}
	if _, err := dynamics.New(good); err != nil {
		t.Fatalf("a minimal config: %v", err)
	}
	for name, mod := range map[string]func(*dynamics.Config){
		"no org url":        func(c *dynamics.Config) { c.OrgURL = "" },
		"org url not http":  func(c *dynamics.Config) { c.OrgURL = "contoso.crm.dynamics.com" },
		"no client id":      func(c *dynamics.Config) { c.ClientID = "" },
		"no keyring":        func(c *dynamics.Config) { c.Keyring = nil },
		"redirect not loop": func(c *dynamics.Config) { c.RedirectURL = "https://example.com/cb" },
		"bad tenant":        func(c *dynamics.Config) { c.Tenant = "a/b" },
		"bad authority":     func(c *dynamics.Config) { c.Authority = "::" },
		"unknown column":    func(c *dynamics.Config) { c.Columns = map[string]string{"colour": "x"} },
	} {
		t.Run(name, func(t *testing.T) {
			c := good
			mod(&c)
			if _, err := dynamics.New(c); !errors.Is(err, dynamics.ErrConfig) {
				t.Fatalf("New accepted it: %v", err)
			}
		})
	}
}

func TestSignInResumeAndIdentity(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	s := f.signIn(t, "alice")
	urls := f.browser.URLs()
	if len(urls) != 1 {
		t.Fatalf("opened %v", urls)
	}
	u, _ := url.Parse(urls[0])
	q := u.Query()
	if u.Path != "/"+f.emu.Tenant()+"/oauth2/v2.0/authorize" || q.Get("code_challenge_method") != "S256" ||
		q.Get("prompt") != "select_account" || !strings.Contains(q.Get("scope"), "/user_impersonation offline_access") {
		t.Fatalf("authorize url %s", urls[0])
	}
	if ru, _ := url.Parse(q.Get("redirect_uri")); ru.Hostname() != "localhost" || ru.Port() == "" || ru.Port() == "0" {
		t.Fatalf("redirect uri %q: want http://localhost on a free port", q.Get("redirect_uri"))
	}
	user := f.emu.Users()[0]
	id := s.Identity()
	if id.UserID != dynamicsemu.SystemUserID(user.ID) || id.Display != user.Name || id.Username != user.Username || id.OrgID != dynamicsemu.OrganizationID {
		t.Fatalf("identity %+v, user %+v", id, user)
	}
	for _, k := range []secrets.Kind{secrets.KindRefreshToken, secrets.KindAccessToken} {
		if v, err := f.keyring.Get("alice", dynamics.Name, k); err != nil || v == "" {
			t.Fatalf("%s not in the keyring: %v", k, err)
		}
	}
	// The app restarts: a new connector resumes from the keyring alone.
	conn2, err := dynamics.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := conn2.Resume(ctx(t), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if s2.Identity() != id {
		t.Fatalf("resumed identity %+v, want %+v", s2.Identity(), id)
	}
	if err := s2.Health(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := conn2.Resume(ctx(t), "bob"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume of an agent who never signed in: %v", err)
	}
}

func TestSignInSharedPCForcesLogin(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, func(c *dynamics.Config) { c.SharedPC = true })
	f.signIn(t, "alice")
	if p := f.emu.LastAuthorize("prompt"); p != "login" {
		t.Fatalf("shared pc sign-in with prompt=%q", p)
	}
	g := newFixture(t, dynamicsemu.Config{}, nil)
	if _, err := g.conn.SignIn(ctx(t), "bob", crm.SignInOptions{ForceLogin: true}); err != nil {
		t.Fatal(err)
	}
	if p := g.emu.LastAuthorize("prompt"); p != "login" {
		t.Fatalf("ForceLogin sign-in with prompt=%q", p)
	}
}

func TestSignInRefusedByUser(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	f.emu.SetActive(f.emu.Users()[0].ID, false) // the login page refuses
	_, err := f.conn.SignIn(ctx(t), "alice", crm.SignInOptions{Timeout: 30 * time.Second})
	if !errors.Is(err, crm.ErrSignInCancelled) {
		t.Fatalf("refused sign-in: %v", err)
	}
	if f.keyring.Len() != 0 {
		t.Fatal("a refused sign-in left tokens in the keyring")
	}
}

func TestRefreshRotatesAndPersists(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	s := f.signIn(t, "alice")
	rt1, _ := f.keyring.Get("alice", dynamics.Name, secrets.KindRefreshToken)
	f.emu.ExpireAccessTokens()
	if err := s.Health(ctx(t)); err != nil {
		t.Fatalf("health after expiry (refresh and replay): %v", err)
	}
	rt2, _ := f.keyring.Get("alice", dynamics.Name, secrets.KindRefreshToken)
	if rt2 == "" || rt2 == rt1 {
		t.Fatal("the rotated refresh token was not persisted")
	}
	// The rotated token is the live one: a restart resumes with it after
	// the access token expired again.
	f.emu.ExpireAccessTokens()
	conn2, _ := dynamics.New(f.cfg)
	s2, err := conn2.Resume(ctx(t), "alice")
	if err != nil {
		t.Fatalf("resume with the rotated refresh token: %v", err)
	}
	if err := s2.Health(ctx(t)); err != nil {
		t.Fatal(err)
	}
	// Concurrent requests on an expired token refresh once.
	f.emu.ExpireAccessTokens()
	before := countPath(f.emu.Journal(), "/token")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- s2.Health(ctx(t)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := countPath(f.emu.Journal(), "/token") - before; n != 1 {
		t.Fatalf("%d token requests for 8 concurrent expired requests, want 1", n)
	}
}

func countPath(j []emukit.Request, suffix string) int {
	n := 0
	for _, r := range j {
		if strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

func TestRevokedNeedsSignIn(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	s := f.signIn(t, "alice")
	f.emu.RevokeRefreshTokens()
	err := s.Health(ctx(t))
	if !errors.Is(err, crm.ErrSignInRequired) || crm.KindOf(err) != crm.KindAuthRevoked {
		t.Fatalf("revoked: %v (kind %v)", err, crm.KindOf(err))
	}
	if f.keyring.Len() != 0 {
		t.Fatal("a dead refresh token stayed in the keyring")
	}
	if _, err := f.conn.Resume(ctx(t), "alice"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume after revocation: %v", err)
	}
	// Signing in again works.
	if err := f.signIn(t, "alice").Health(ctx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestSignOutClearsKeyring(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	s := f.signIn(t, "alice")
	if err := s.SignOut(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if f.keyring.Len() != 0 {
		t.Fatal("tokens left in the keyring after sign-out")
	}
	if _, err := f.conn.Resume(ctx(t), "alice"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume after sign-out: %v", err)
	}
}

func TestLookupVerifiesAndRanks(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	acct := f.emu.AddAccount(dynamicsemu.Account{Name: "Contoso", Telephone1: "415-555-1212"})
	exact := f.emu.AddContact(dynamicsemu.Contact{FullName: "Ana Diaz", MobilePhone: "+14155551212", AccountID: acct})
	formatted := f.emu.AddContact(dynamicsemu.Contact{FullName: "Bo Chen", Telephone1: "(415) 555-1212"})
	f.emu.AddContact(dynamicsemu.Contact{FullName: "Other City", Telephone1: "+1 212 555 1212"}) // same last 7 digits
	f.emu.AddContact(dynamicsemu.Contact{FullName: "Someone Else", Telephone1: "+14155559999"})
	lead := f.emu.AddLead(dynamicsemu.Lead{FullName: "Lee Lead", CompanyName: "Fabrikam", Telephone1: "+1 (650) 555-0100"})
	s := f.signIn(t, "alice")

	recs, err := s.LookupPhone(ctx(t), phone(t, "+1 415 555 1212"))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range recs {
		ids[r.ID] = true
	}
	if len(recs) != 3 || !ids[exact] || !ids[formatted] || !ids[acct] {
		t.Fatalf("matches %+v: want Ana Diaz, Bo Chen and Contoso, nothing else", recs)
	}
	if recs[0].ID != exact && recs[0].ID != formatted {
		t.Fatalf("an exact E.164 match must rank first: %+v", recs)
	}
	if recs[0].URL == "" || !strings.Contains(recs[0].URL, "pagetype=entityrecord") {
		t.Fatalf("no screen-pop url: %+v", recs[0])
	}
	// One match, found only by the broad suffix query (separators inside
	// the last 7 digits), with the lead table on.
	one, err := s.LookupPhone(ctx(t), phone(t, "6505550100"))
	if err != nil {
		t.Fatal(err)
	}
	if len(one) != 1 || one[0].ID != lead || one[0].Type != "lead" || one[0].Name != "Lee Lead" {
		t.Fatalf("lead lookup %+v", one)
	}
	none, err := s.LookupPhone(ctx(t), phone(t, "+442079460018"))
	if err != nil || len(none) != 0 {
		t.Fatalf("unknown number: %+v %v", none, err)
	}
	// The first query is the precise one (eq on E.164).
	var sawEq bool
	for _, r := range f.emu.Journal() {
		if strings.HasSuffix(r.Path, "/contacts") {
			q, _ := url.ParseQuery(r.Query)
			sawEq = sawEq || strings.Contains(q.Get("$filter"), "mobilephone eq '+14155551212'")
		}
	}
	if !sawEq {
		t.Fatal("no eq filter on the E.164 number")
	}
}

func TestSearch(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	f.emu.AddContact(dynamicsemu.Contact{FullName: "Ana O'Neil", Telephone1: "+14155551212"})
	f.emu.AddAccount(dynamicsemu.Account{Name: "Anaconda Ltd"})
	f.emu.AddContact(dynamicsemu.Contact{FullName: "Bo Chen"})
	s := f.signIn(t, "alice")
	recs, err := s.Search(ctx(t), "o'neil", 10)
	if err != nil || len(recs) != 1 || recs[0].Name != "Ana O'Neil" {
		t.Fatalf("search with a quote: %+v %v", recs, err)
	}
	recs, err = s.Search(ctx(t), "ana", 10)
	if err != nil || len(recs) != 2 {
		t.Fatalf("search ana: %+v %v", recs, err)
	}
	recs, err = s.Search(ctx(t), "(415) 555-1212", 10)
	if err != nil || len(recs) != 1 || recs[0].Name != "Ana O'Neil" {
		t.Fatalf("search by number: %+v %v", recs, err)
	}
	if recs, err := s.Search(ctx(t), "a", 10); err != nil || recs != nil {
		t.Fatalf("a one-letter search: %+v %v", recs, err)
	}
}

func TestLogCallCreatesAndCloses(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	contact := f.emu.AddContact(dynamicsemu.Contact{FullName: "Ana Diaz", Telephone1: "+14155551212"})
	s := f.signIn(t, "alice")
	l := callLog("alice", "k-1")
	l.Matches = []domain.CRMRecord{{ID: contact, Type: "contact", Name: "Ana Diaz"}}
	l.RecordID = contact
	res, err := s.LogCalls(ctx(t), []crm.LogItem{{Key: "k-1", AgentID: "alice", Log: l}})
	if err != nil || len(res) != 1 || res[0].Err != nil || !res[0].Created {
		t.Fatalf("log: %+v %v", res, err)
	}
	id := dynamics.ActivityID("k-1")
	if res[0].ID != id {
		t.Fatalf("id %s, want the deterministic %s", res[0].ID, id)
	}
	pc, ok := f.emu.PhoneCall(id)
	if !ok {
		t.Fatal("no phone call")
	}
	me := s.Identity().UserID
	if pc.StateCode != 1 || pc.StatusCode != 4 || pc.DirectionCode || pc.DurationMinutes != 6 ||
		pc.RegardingType != "contact" || pc.RegardingID != contact || pc.OwnerID != me ||
		pc.PhoneNumber != "+14155551212" || pc.ActualStart != "2026-05-07T15:04:05Z" || pc.ActualEnd != "2026-05-07T15:09:22Z" ||
		pc.Subject != "Inbound call from +14155551212" {
		t.Fatalf("phone call %+v", pc)
	}
	if pc.Custom["cti_callkey"] != "k-1" || pc.Custom["cti_outcome"] != "Resolved" {
		t.Fatalf("custom columns %v", pc.Custom)
	}
	if !strings.Contains(pc.Description, "invoice 1042") || !strings.Contains(pc.Description, "Queue: support") ||
		!strings.Contains(pc.Description, "Recording: https://rec.example/1.wav") || strings.Contains(pc.Description, "Outcome:") {
		t.Fatalf("description %q", pc.Description)
	}
	want := []dynamicsemu.Party{{Type: "contact", ID: contact, Mask: 1}, {Type: "systemuser", ID: me, Mask: 2}}
	if len(pc.Parties) != 2 || pc.Parties[0] != want[0] || pc.Parties[1] != want[1] {
		t.Fatalf("parties %+v, want %+v", pc.Parties, want)
	}

	// Outbound, no match: Made, the agent is "from", the number an
	// unresolved "to".
	o := callLog("alice", "k-2")
	o.Direction = domain.DirectionOutbound
	res, err = s.LogCalls(ctx(t), []crm.LogItem{{Key: "k-2", AgentID: "alice", Log: o}})
	if err != nil || res[0].Err != nil {
		t.Fatalf("outbound: %+v %v", res, err)
	}
	pc, _ = f.emu.PhoneCall(res[0].ID)
	if pc.StatusCode != 2 || !pc.DirectionCode || pc.RegardingID != "" || len(pc.Parties) != 2 ||
		pc.Parties[0] != (dynamicsemu.Party{Address: "+14155551212", Mask: 2}) || pc.Parties[1] != (dynamicsemu.Party{Type: "systemuser", ID: me, Mask: 1}) {
		t.Fatalf("outbound phone call %+v", pc)
	}
}

func TestLogReplayWritesNothing(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	s := f.signIn(t, "alice")
	item := crm.LogItem{Key: "k-1", AgentID: "alice", Log: callLog("alice", "k-1")}
	if res, err := s.LogCalls(ctx(t), []crm.LogItem{item}); err != nil || res[0].Err != nil {
		t.Fatalf("%+v %v", res, err)
	}
	v := func() int { pc, _ := f.emu.PhoneCall(dynamics.ActivityID("k-1")); return pc.Version }
	first := v()
	for _, mayExist := range []bool{false, true} {
		item.MayExist = mayExist
		res, err := s.LogCalls(ctx(t), []crm.LogItem{item})
		if err != nil || res[0].Err != nil || res[0].Created || res[0].ID != dynamics.ActivityID("k-1") {
			t.Fatalf("replay (may exist %v): %+v %v", mayExist, res, err)
		}
	}
	if f.emu.PhoneCallCount() != 1 || v() != first {
		t.Fatalf("a replay wrote: %d calls, version %d -> %d", f.emu.PhoneCallCount(), first, v())
	}
}

func TestCrashBetweenCreateAndClose(t *testing.T) {
	for _, fault := range []emukit.Fault{{DropBeforeCommit: true}, {CommitThenDrop: true}} {
		t.Run(fault.Match.Path+fmtFault(fault), func(t *testing.T) {
			f := newFixture(t, dynamicsemu.Config{}, nil)
			s := f.signIn(t, "alice")
			fault.Match = emukit.Match{Method: http.MethodPatch, Path: "/api/data/*", Nth: 2} // the close
			f.emu.AddFault(fault)
			item := crm.LogItem{Key: "k-1", AgentID: "alice", Log: callLog("alice", "k-1")}
			_, err := s.LogCalls(ctx(t), []crm.LogItem{item})
			kindOf(t, err, crm.KindAmbiguous)
			item.MayExist = true
			res, err := s.LogCalls(ctx(t), []crm.LogItem{item})
			if err != nil || res[0].Err != nil {
				t.Fatalf("replay: %+v %v", res, err)
			}
			pc, _ := f.emu.PhoneCall(dynamics.ActivityID("k-1"))
			if f.emu.PhoneCallCount() != 1 || pc.StateCode != 1 || pc.Version != 2 {
				t.Fatalf("after the replay: %d calls, %+v", f.emu.PhoneCallCount(), pc)
			}
		})
	}
}

func fmtFault(f emukit.Fault) string {
	if f.DropBeforeCommit {
		return "DropBeforeCommit"
	}
	return "CommitThenDrop"
}

func TestStaleReferenceLogsUnassociated(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	contact := f.emu.AddContact(dynamicsemu.Contact{FullName: "Ana Diaz", Telephone1: "+14155551212"})
	s := f.signIn(t, "alice")
	f.emu.Delete("contacts", contact) // merged away after the lookup
	l := callLog("alice", "k-1")
	l.Matches, l.RecordID = []domain.CRMRecord{{ID: contact, Type: "contact"}}, contact
	res, err := s.LogCalls(ctx(t), []crm.LogItem{{Key: "k-1", AgentID: "alice", Log: l}})
	if err != nil || res[0].Err != nil || !res[0].Unassociated || !res[0].Created {
		t.Fatalf("%+v %v", res, err)
	}
	pc, _ := f.emu.PhoneCall(res[0].ID)
	if pc.RegardingID != "" || pc.Parties[0].Address != "+14155551212" || pc.StateCode != 1 {
		t.Fatalf("unassociated call %+v", pc)
	}
}

func TestLogItemChecks(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	s := f.signIn(t, "alice")
	res, err := s.LogCalls(ctx(t), []crm.LogItem{{Key: "k", AgentID: "bob", Log: callLog("bob", "k")}})
	if err != nil || !errors.Is(res[0].Err, crm.ErrWrongAgent) {
		t.Fatalf("another agent's log: %+v %v", res, err)
	}
	res, err = s.LogCalls(ctx(t), []crm.LogItem{{AgentID: "alice", Log: callLog("alice", "")}})
	if err != nil || crm.KindOf(res[0].Err) != crm.KindPermanent {
		t.Fatalf("a log without key: %+v %v", res, err)
	}
	two := []crm.LogItem{{Key: "a", AgentID: "alice"}, {Key: "b", AgentID: "alice"}}
	if _, err := s.LogCalls(ctx(t), two); err == nil {
		t.Fatal("two logs in one request with MaxBatch 1")
	}
	if f.emu.PhoneCallCount() != 0 {
		t.Fatal("something was written")
	}
}

func TestErrorClasses(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	s := f.signIn(t, "alice")
	p := phone(t, "+14155551212")
	write := emukit.Match{Method: http.MethodPatch, Path: "/api/data/*"}
	read := emukit.Match{Method: http.MethodGet, Path: "/api/data/*"}
	logOnce := func(key string) ([]crm.LogResult, error) {
		return s.LogCalls(ctx(t), []crm.LogItem{{Key: key, AgentID: "alice", Log: callLog("alice", key)}})
	}

	f.emu.AddFault(emukit.Fault{Match: write, Status: http.StatusTooManyRequests, Code: dynamicsemu.CodeRequestsExceeded,
		Message: "Number of requests exceeded the limit of 6000 over time window of 300 seconds.", Header: map[string]string{"Retry-After": "7"}})
	_, err := logOnce("rate")
	if e := kindOf(t, err, crm.KindRateLimited); e.RetryAfter != 7*time.Second || e.Code != dynamicsemu.CodeRequestsExceeded {
		t.Fatalf("rate limit %+v", e)
	}

	f.emu.AddFault(emukit.Fault{Match: write, Status: http.StatusServiceUnavailable, Body: "<html>Service Unavailable</html>"})
	_, err = logOnce("503")
	kindOf(t, err, crm.KindAmbiguous)

	f.emu.AddFault(emukit.Fault{Match: read, Status: http.StatusInternalServerError, Code: "0x80040216", Message: "An unexpected error occurred."})
	_, err = s.LookupPhone(ctx(t), p)
	kindOf(t, err, crm.KindTransient)

	f.emu.AddFault(emukit.Fault{Match: write, Status: http.StatusBadRequest, Code: dynamicsemu.CodeValidation, Message: "A validation error occurred."})
	res, err := logOnce("invalid")
	if err != nil {
		t.Fatalf("a refused record failed the whole request: %v", err)
	}
	if e := kindOf(t, res[0].Err, crm.KindPermanent); e.Code != dynamicsemu.CodeValidation || crm.MessageOf(e) != dynamicsemu.CodeValidation+": A validation error occurred." {
		t.Fatalf("validation error %+v", e)
	}

	f.emu.AddFault(emukit.Fault{Match: write, Status: http.StatusForbidden, Code: dynamicsemu.CodePrivilege, Message: "Principal user is missing prvCreateActivity privilege."})
	res, _ = logOnce("privilege")
	kindOf(t, res[0].Err, crm.KindPermanent)

	// Garbage where JSON was due: an edge page with 200, a truncated body.
	f.emu.AddFault(emukit.Fault{Match: read, Status: http.StatusOK, Body: "<html>sign in to the proxy</html>"})
	_, err = s.LookupPhone(ctx(t), p)
	kindOf(t, err, crm.KindTransient)
	f.emu.AddFault(emukit.Fault{Match: read, TruncateBody: true})
	_, err = s.LookupPhone(ctx(t), p)
	kindOf(t, err, crm.KindTransient)

	// The CRM is down.
	if err := f.emu.Stop(); err != nil {
		t.Fatal(err)
	}
	kindOf(t, s.Health(ctx(t)), crm.KindOffline)
	if err := f.emu.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := s.Health(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if n := f.emu.PhoneCallCount(); n != 0 {
		t.Fatalf("%d phone calls written by refused requests", n)
	}
}

func TestServiceProtectionLimit(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{RequestLimit: 4, Window: time.Hour}, nil)
	s := f.signIn(t, "alice") // WhoAmI and systemusers: 2 requests
	for range 2 {
		if err := s.Health(ctx(t)); err != nil {
			t.Fatal(err)
		}
	}
	e := kindOf(t, s.Health(ctx(t)), crm.KindRateLimited)
	if e.Code != dynamicsemu.CodeRequestsExceeded || e.RetryAfter < 59*time.Minute || e.Status != http.StatusTooManyRequests {
		t.Fatalf("service protection answer %+v", e)
	}
}

func TestURLs(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, func(c *dynamics.Config) { c.AppID = "11111111-2222-3333-4444-555555555555" })
	s := f.signIn(t, "alice")
	id := "0a1b2c3d-0000-4000-8000-000000000001"
	u, err := s.RecordURL(domain.CRMRecord{ID: id, Type: "account"})
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	q := pu.Query()
	if pu.Path != "/main.aspx" || q.Get("appid") != "11111111-2222-3333-4444-555555555555" || q.Get("pagetype") != "entityrecord" ||
		q.Get("etn") != "account" || q.Get("id") != id || !strings.HasPrefix(u, f.emu.URL()) {
		t.Fatalf("record url %s", u)
	}
	if _, err := s.RecordURL(domain.CRMRecord{ID: "not-a-guid"}); err == nil {
		t.Fatal("a bad id got a url")
	}
	n, err := s.NewRecordURL(phone(t, "+14155551212"))
	if err != nil {
		t.Fatal(err)
	}
	nu, _ := url.Parse(n)
	if nu.Query().Get("etn") != "contact" || nu.Query().Get("extraqs") != "telephone1=%2B14155551212" {
		t.Fatalf("new record url %s", n)
	}
	if _, err := s.NewRecordURL(crm.Phone{}); !errors.Is(err, crm.ErrInvalidNumber) {
		t.Fatalf("new record url without a number: %v", err)
	}
}

func TestNoSecretsNumbersOrNotesInLogs(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	contact := f.emu.AddContact(dynamicsemu.Contact{FullName: "Ana Diaz", Telephone1: "+14155551212"})
	s := f.signIn(t, "alice")
	f.emu.ExpireAccessTokens()
	if _, err := s.LookupPhone(ctx(t), phone(t, "+14155551212")); err != nil {
		t.Fatal(err)
	}
	l := callLog("alice", "k-1")
	l.Matches, l.RecordID = []domain.CRMRecord{{ID: contact, Type: "contact"}}, contact
	f.emu.Delete("contacts", contact)
	if _, err := s.LogCalls(ctx(t), []crm.LogItem{{Key: "k-1", AgentID: "alice", Log: l}}); err != nil {
		t.Fatal(err)
	}
	_ = s.SignOut(ctx(t))
	out := f.logs.String()
	if out == "" {
		t.Fatal("nothing logged: the check would prove nothing")
	}
	for _, secret := range []string{"4155551212", "invoice 1042", "Bearer", "access_token", "refresh_token"} {
		if strings.Contains(out, secret) {
			t.Fatalf("the log holds %q:\n%s", secret, out)
		}
	}
	for _, r := range f.emu.Journal() {
		if strings.HasSuffix(r.Path, "/token") && strings.Contains(out, r.Body) {
			t.Fatal("a token request body is in the log")
		}
	}
}

func TestRefreshNeedingInteractionAsksForSignIn(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	s := f.signIn(t, "alice")
	f.emu.ExpireAccessTokens()
	f.emu.AddFault(emukit.Fault{Match: emukit.Match{Method: http.MethodPost, Path: "/" + f.emu.Tenant() + "/oauth2/v2.0/token"},
		Status: http.StatusBadRequest, Body: `{"error":"interaction_required","error_description":"AADSTS50076: you must use multi-factor authentication","error_codes":[50076]}`})
	err := s.Health(ctx(t))
	if !errors.Is(err, crm.ErrSignInRequired) || crm.KindOf(err) != crm.KindAuthRevoked {
		t.Fatalf("interaction_required on refresh: %v (kind %v)", err, crm.KindOf(err))
	}
	if e := kindOf(t, err, crm.KindAuthRevoked); e.Code != "interaction_required" {
		t.Fatalf("code %q", e.Code)
	}
}

func contextWithTimeout(t testing.TB, d time.Duration) (context.Context, context.CancelFunc) {
	t.Helper()
	return context.WithTimeout(context.Background(), d)
}
