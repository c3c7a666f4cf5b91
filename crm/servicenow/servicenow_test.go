package servicenow_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/emukit"
	"github.com/callcentre/softphone/crm/servicenow"
	"github.com/callcentre/softphone/crm/servicenowemu"
	"github.com/callcentre/softphone/secrets"
)

type fixture struct {
	emu     *servicenowemu.Server
	conn    *servicenow.Connector
	keyring *crmtest.Keyring
	browser *crmtest.Browser
	cfg     servicenow.Config
}

func newFixture(t testing.TB, emuCfg servicenowemu.Config, mod func(*servicenow.Config)) *fixture {
	t.Helper()
	emu := servicenowemu.New(emuCfg)
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	port, err := crmtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{emu: emu, keyring: crmtest.NewKeyring(), browser: &crmtest.Browser{}}
	f.cfg = servicenow.Config{
		InstanceURL: emu.URL(),
		ClientID:    servicenowemu.DefaultClientID,
		RedirectURL: fmt.Sprintf("http://localhost:%d/servicenow/callback", port),
		Keyring:     f.keyring,
		Opener:      f.browser.Open,
		HTTPClient:  &http.Client{Timeout: 5 * time.Second},
		Logger:      quiet,
	}
	if mod != nil {
		mod(&f.cfg)
	}
	f.conn, err = servicenow.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) signIn(t testing.TB, agent string) crm.Session {
	t.Helper()
	s, err := f.conn.SignIn(ctx(t), agent, crm.SignInOptions{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("sign in: %v (browser: %v)", err, f.browser.Wait())
	}
	return s
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func callLog(agent, key string) domain.CallLog {
	t0 := time.Date(2026, 5, 7, 15, 4, 5, 0, time.UTC)
	return domain.CallLog{Key: key, AgentID: agent, Direction: domain.DirectionInbound,
		Remote: domain.Party{Number: "+14155551212"}, Queue: "support", StartedAt: t0, AnsweredAt: t0.Add(5 * time.Second),
		EndedAt: t0.Add(5 * time.Minute), Talk: 312 * time.Second, Outcome: "Resolved", Notes: "invoice 1042",
		Recordings: []string{"https://rec.example/1.wav"}}
}

func item(agent, key string) crm.LogItem {
	return crm.LogItem{Key: key, AgentID: agent, Log: callLog(agent, key)}
}

func phone(t *testing.T, raw string) crm.Phone {
	t.Helper()
	p, err := crm.NewNormalizer("US").Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func journal(emu *servicenowemu.Server, method, pathPrefix string) []emukit.Request {
	var out []emukit.Request
	for _, r := range emu.Journal() {
		if r.Method == method && strings.HasPrefix(r.Path, pathPrefix) {
			out = append(out, r)
		}
	}
	return out
}

func TestNewValidatesConfig(t *testing.T) {
	kr := crmtest.NewKeyring()
	ok := servicenow.Config{InstanceURL: "https://acme.service-now.com", ClientID: "c", Keyring: kr}
	if _, err := servicenow.New(ok); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	tests := []struct {
		name string
		mod  func(*servicenow.Config)
	}{
		{"no instance", func(c *servicenow.Config) { c.InstanceURL = "" }},
		{"instance not a url", func(c *servicenow.Config) { c.InstanceURL = "acme" }},
		{"no client id", func(c *servicenow.Config) { c.ClientID = "" }},
		{"no keyring", func(c *servicenow.Config) { c.Keyring = nil }},
		{"redirect not loopback", func(c *servicenow.Config) { c.RedirectURL = "https://example.com/cb" }},
		{"redirect without port", func(c *servicenow.Config) { c.RedirectURL = "http://localhost/cb" }},
		{"bad key field", func(c *servicenow.Config) { c.CallKeyField = "u_cti^call" }},
		{"bad table", func(c *servicenow.Config) { c.InteractionTable = "Interaction" }},
		{"lookup without phone fields", func(c *servicenow.Config) {
			c.LookupTables = []servicenow.LookupTable{{Table: "sys_user"}}
		}},
		{"bad field map column", func(c *servicenow.Config) { c.FieldMap = map[string]string{servicenow.FieldQueue: "u queue"} }},
		{"suffix too short", func(c *servicenow.Config) { c.MatchSuffix = 2 }},
		{"workspace path", func(c *servicenow.Config) { c.WorkspacePath = "now/cwf" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			if _, err := servicenow.New(c); !errors.Is(err, servicenow.ErrConfig) {
				t.Fatalf("got %v, want ErrConfig", err)
			}
		})
	}
}

func TestSignInPKCEAndResume(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{}, nil)
	s := f.signIn(t, "alice")
	urls := f.browser.URLs()
	if len(urls) != 1 || !strings.HasPrefix(urls[0], f.emu.URL()+"/oauth_auth.do?") ||
		!strings.Contains(urls[0], "code_challenge_method=S256") || !strings.Contains(urls[0], "client_id="+servicenowemu.DefaultClientID) {
		t.Fatalf("authorize url %v", urls)
	}
	u, _ := f.emu.User("u0001")
	id := s.Identity()
	if id.UserID != f.emu.SysID(u.ID) || id.Username != u.Username || id.Display != u.Name || id.OrgID == "" {
		t.Fatalf("identity %+v, want sys_id %s of %+v", id, f.emu.SysID(u.ID), u)
	}
	for _, k := range []secrets.Kind{secrets.KindRefreshToken, secrets.KindAccessToken} {
		if v, err := f.keyring.Get("alice", servicenow.Name, k); err != nil || v == "" {
			t.Fatalf("%s not in keyring: %v", k, err)
		}
	}
	// A restarted app resumes from the keyring alone.
	conn2, err := servicenow.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := conn2.Resume(ctx(t), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Health(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if s2.Identity() != id {
		t.Fatalf("resumed identity %+v, want %+v", s2.Identity(), id)
	}
	if _, err := conn2.Resume(ctx(t), "bob"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume of an agent never signed in: %v", err)
	}
	// A restart past the access token's life refreshes on the first 401.
	f.emu.ExpireAccessTokens()
	conn3, _ := servicenow.New(f.cfg)
	s3, err := conn3.Resume(ctx(t), "alice")
	if err != nil || s3.Identity().UserID != id.UserID {
		t.Fatalf("resume with an expired access token: %v", err)
	}
}

func TestSignInCancelledAndWrongClient(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{}, nil)
	f.emu.SetBrowserUser("") // the user cancels at the login page
	if _, err := f.conn.SignIn(ctx(t), "alice", crm.SignInOptions{Timeout: 20 * time.Second}); !errors.Is(err, crm.ErrSignInCancelled) {
		t.Fatalf("denied sign-in: %v", err)
	}
	bad := f.cfg
	bad.ClientID = "nope"
	conn, err := servicenow.New(bad)
	if err != nil {
		t.Fatal(err)
	}
	// The instance shows an error page instead of redirecting: the
	// listener times out.
	if _, err := conn.SignIn(ctx(t), "alice", crm.SignInOptions{Timeout: 2 * time.Second}); !errors.Is(err, crm.ErrSignInCancelled) {
		t.Fatalf("unknown client: %v", err)
	}
	if f.keyring.Len() != 0 {
		t.Fatal("a failed sign-in left tokens in the keyring")
	}
}

func TestSignInIdentityUnreadable(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{}, nil)
	f.emu.AddFault(emukit.Fault{Match: emukit.Match{Method: http.MethodGet, Path: "/api/now/v2/table/sys_user"},
		Status: http.StatusForbidden, Code: "User Not Authorized", Message: "ACL denies read"})
	_, err := f.conn.SignIn(ctx(t), "alice", crm.SignInOptions{Timeout: 20 * time.Second})
	if crm.KindOf(err) != crm.KindPermanent || !strings.Contains(crm.MessageOf(err), "ACL denies read") {
		t.Fatalf("sign-in without a readable identity: %v", err)
	}
	if f.keyring.Len() != 0 {
		t.Fatal("the failed sign-in left tokens in the keyring")
	}
}

func TestClientSecretFromKeyring(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{ClientSecret: "it-provisioned-secret"}, nil)
	_, err := f.conn.SignIn(ctx(t), "alice", crm.SignInOptions{Timeout: 20 * time.Second})
	if crm.KindOf(err) != crm.KindPermanent || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("a confidential entry without the secret: %v", err)
	}
	if err := f.keyring.Set(servicenow.DefaultClientSecretAgent, servicenow.Name, secrets.KindClientSecret, "it-provisioned-secret"); err != nil {
		t.Fatal(err)
	}
	s := f.signIn(t, "alice")
	if err := s.Health(ctx(t)); err != nil {
		t.Fatal(err)
	}
	for _, r := range f.emu.Journal() {
		if strings.Contains(r.Body, "it-provisioned-secret") && r.Path != servicenowemu.TokenPath {
			t.Fatalf("the client secret went to %s", r.Path)
		}
	}
}

func TestRefreshRotationAndRevocation(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{RotateRefresh: true}, nil)
	s := f.signIn(t, "alice")
	rt1, _ := f.keyring.Get("alice", servicenow.Name, secrets.KindRefreshToken)
	f.emu.ExpireAccessTokens()
	res, err := s.LogCalls(ctx(t), []crm.LogItem{item("alice", "k1")})
	if err != nil || res[0].Err != nil || !res[0].Created {
		t.Fatalf("log after the access token expired: %+v %v", res, err)
	}
	var statuses []int
	for _, r := range f.emu.Journal() {
		if r.Path == "/api/now/v2/table/interaction" || r.Path == servicenowemu.TokenPath {
			statuses = append(statuses, r.Status)
		}
	}
	if fmt.Sprint(statuses) != "[200 401 200 201]" { // code exchange, expired, refresh, replay
		t.Fatalf("expected one refresh and one replay, journal statuses %v", statuses)
	}
	rt2, _ := f.keyring.Get("alice", servicenow.Name, secrets.KindRefreshToken)
	if rt2 == "" || rt2 == rt1 {
		t.Fatal("the rotated refresh token was not kept in the keyring")
	}
	f.emu.RevokeRefreshTokens()
	_, err = s.LogCalls(ctx(t), []crm.LogItem{item("alice", "k2")})
	if crm.KindOf(err) != crm.KindAuthRevoked || !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("revoked refresh token: %v", err)
	}
	if f.keyring.Len() != 0 {
		t.Fatal("a dead refresh token stayed in the keyring")
	}
	if _, err := f.conn.Resume(ctx(t), "alice"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume after revocation: %v", err)
	}
	if got := f.emu.Logs(); len(got) != 1 || got["k1"] != 1 {
		t.Fatalf("interactions %v", got)
	}
}

func TestSignOutRevokesAndClears(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{}, nil)
	s := f.signIn(t, "alice")
	if err := s.SignOut(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if f.keyring.Len() != 0 {
		t.Fatal("tokens left in the keyring after sign-out")
	}
	if n := f.emu.LiveRefreshTokens(); n != 0 {
		t.Fatalf("%d refresh tokens still live at the instance", n)
	}
	if len(journal(f.emu, http.MethodPost, servicenowemu.RevokePath)) != 1 {
		t.Fatal("no revoke request")
	}
	if err := s.Health(ctx(t)); crm.KindOf(err) != crm.KindAuthRevoked {
		t.Fatalf("old session still works after sign-out: %v", err)
	}
	if _, err := f.conn.Resume(ctx(t), "alice"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume after sign-out: %v", err)
	}
	// Offline at sign-out: the keyring is cleared all the same.
	s = f.signIn(t, "alice")
	_ = f.emu.Stop()
	if k := crm.KindOf(s.SignOut(ctx(t))); k != crm.KindOffline && k != crm.KindTransient {
		t.Fatalf("sign-out with the instance down: %v", k)
	}
	if f.keyring.Len() != 0 {
		t.Fatal("tokens left in the keyring after an offline sign-out")
	}
}

func TestLookupPhone(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{}, nil)
	exact := f.emu.SeedContact(servicenowemu.Record{"first_name": "Ana", "last_name": "Diaz", "phone": "+14155551212"})
	national := f.emu.SeedContact(servicenowemu.Record{"name": "Bo Lee", "mobile_phone": "4155551212"})
	formatted := f.emu.SeedContact(servicenowemu.Record{"name": "Cy Formatted", "phone": "(415) 555-1212"})
	f.emu.SeedContact(servicenowemu.Record{"name": "Inactive", "phone": "+14155551212", "active": "false"})
	f.emu.SeedContact(servicenowemu.Record{"name": "Other", "phone": "+442079460018"})
	f.emu.SeedContact(servicenowemu.Record{"name": "Suffix only", "phone": "+19995551212"})
	s := f.signIn(t, "alice")
	p := phone(t, "+1 (415) 555-1212")

	recs, err := s.LookupPhone(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].ID != exact || recs[1].ID != national {
		t.Fatalf("matches %+v, want the exact E.164 match first, then the national one", recs)
	}
	if recs[0].Type != "customer_contact" || recs[0].Name != "Ana Diaz" {
		t.Fatalf("record %+v", recs[0])
	}
	want := f.emu.URL() + "/nav_to.do?uri=" + url.QueryEscape("customer_contact.do?sys_id="+exact)
	if recs[0].URL != want {
		t.Fatalf("screen pop %q, want %q", recs[0].URL, want)
	}
	q := journal(f.emu, http.MethodGet, "/api/now/v2/table/customer_contact")
	if len(q) != 1 || !strings.Contains(q[0].Query, "sysparm_limit=20") ||
		!strings.Contains(q[0].Query, url.QueryEscape("active=true^phoneENDSWITH4155551212^ORmobile_phoneENDSWITH4155551212")) {
		t.Fatalf("lookup query %+v", q)
	}
	if none, err := s.LookupPhone(ctx(t), phone(t, "+1 212 555 0000")); err != nil || len(none) != 0 {
		t.Fatalf("no match: %v %v", none, err)
	}
	u, err := s.NewRecordURL(p)
	if err != nil || u != f.emu.URL()+"/nav_to.do?uri="+url.QueryEscape("customer_contact.do?sys_id=-1&sysparm_query="+url.QueryEscape("phone=+14155551212")) {
		t.Fatalf("new record url %q %v", u, err)
	}

	// Numbers stored with formatting need a suffix match.
	f2 := newFixture(t, servicenowemu.Config{}, func(c *servicenow.Config) {
		c.MatchSuffix = 4
		c.LookupLimit = 50
		c.WorkspacePath = "/now/cwf/agent/record"
	})
	for _, r := range f.emu.Records(servicenowemu.TableCustomerContact) {
		f2.emu.Seed(servicenowemu.TableCustomerContact, r)
	}
	s2 := f2.signIn(t, "alice")
	recs, err = s2.LookupPhone(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range recs {
		got[r.ID] = true
	}
	if len(recs) != 3 || recs[0].ID != exact || !got[national] || !got[formatted] {
		t.Fatalf("suffix matches %+v", recs)
	}
	if want := f2.emu.URL() + "/now/cwf/agent/record/customer_contact/" + exact; recs[0].URL != want {
		t.Fatalf("workspace url %q, want %q", recs[0].URL, want)
	}
}

// The instance drops a condition on a field it does not have and returns
// unfiltered rows; client-side verification must keep them out.
func TestLookupVerifiesUnfilteredRows(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{}, func(c *servicenow.Config) {
		c.LookupTables = []servicenow.LookupTable{{Table: "customer_contact", PhoneFields: []string{"u_phone_typo"}}}
	})
	for i := range 5 {
		f.emu.SeedContact(servicenowemu.Record{"name": fmt.Sprint("Someone ", i), "phone": fmt.Sprintf("+1212555%04d", i)})
	}
	s := f.signIn(t, "alice")
	recs, err := s.LookupPhone(ctx(t), phone(t, "+14155551212"))
	if err != nil || len(recs) != 0 {
		t.Fatalf("unverified rows returned as matches: %+v %v", recs, err)
	}
	// The instance did return rows: the query part was ignored.
	if q := journal(f.emu, http.MethodGet, "/api/now/v2/table/customer_contact"); len(q) != 1 || q[0].Status != http.StatusOK {
		t.Fatalf("lookup %+v", q)
	}
}

func TestLookupSeveralTables(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{}, func(c *servicenow.Config) {
		c.LookupTables = []servicenow.LookupTable{
			{Table: "customer_contact", PhoneFields: []string{"phone", "mobile_phone"}},
			{Table: "sys_user", PhoneFields: []string{"phone", "mobile_phone"}},
			{Table: "customer_account", PhoneFields: []string{"phone"}, Filter: "-", SearchFields: []string{"name"}},
		}
	})
	ana := f.emu.SeedContact(servicenowemu.Record{"name": "Ana Diaz", "phone": "4155551212"})
	// The same person seen through sys_user, which customer_contact extends.
	f.emu.Seed(servicenowemu.TableUser, servicenowemu.Record{"sys_id": ana, "name": "Ana Diaz", "phone": "4155551212"})
	acct := f.emu.Seed(servicenowemu.TableCustomerAccount, servicenowemu.Record{"name": "Acme", "phone": "+14155551212"})
	s := f.signIn(t, "alice")
	recs, err := s.LookupPhone(ctx(t), phone(t, "+14155551212"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].ID != ana || recs[0].Type != "customer_contact" || recs[1].ID != acct || recs[1].Type != "customer_account" {
		t.Fatalf("several matches %+v: want the contact once (from the first table), then the account", recs)
	}
	if want := f.emu.URL() + "/nav_to.do?uri=" + url.QueryEscape("customer_account.do?sys_id="+acct); recs[1].URL != want {
		t.Fatalf("account url %q", recs[1].URL)
	}
	if q := journal(f.emu, http.MethodGet, "/api/now/v2/table/sys_user"); len(q) != 2 { // identity, lookup
		t.Fatalf("sys_user requests %d", len(q))
	}
}

func TestSearch(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{}, nil)
	ana := f.emu.SeedContact(servicenowemu.Record{"name": "Ana Diaz", "email": "ana@example.com", "phone": "+14155551212"})
	f.emu.SeedContact(servicenowemu.Record{"name": "Bo Lee", "email": "bo@example.com"})
	s := f.signIn(t, "alice")
	recs, err := s.Search(ctx(t), "ana d", 10)
	if err != nil || len(recs) != 1 || recs[0].ID != ana || recs[0].Name != "Ana Diaz" {
		t.Fatalf("name search: %+v %v", recs, err)
	}
	recs, err = s.Search(ctx(t), "example.com", 10)
	if err != nil || len(recs) != 2 || recs[0].Name != "Ana Diaz" {
		t.Fatalf("email search: %+v %v", recs, err)
	}
	// A ^ in the text cannot add a condition.
	if recs, err := s.Search(ctx(t), "zz^ORnameISNOTEMPTY", 10); err != nil || len(recs) != 0 {
		t.Fatalf("query injection: %+v %v", recs, err)
	}
}

func TestLogCallsInteractionAndReplays(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{}, nil)
	who := f.emu.SeedContact(servicenowemu.Record{"name": "Ana Diaz", "phone": "+14155551212"})
	s := f.signIn(t, "alice")
	l := callLog("alice", "c1")
	l.RecordID = who
	l.Matches = []domain.CRMRecord{{ID: who, Type: "customer_contact"}}
	res, err := s.LogCalls(ctx(t), []crm.LogItem{{Key: "key-1", AgentID: "alice", Log: l}})
	if err != nil || res[0].Err != nil || !res[0].Created || res[0].ID == "" {
		t.Fatalf("log: %+v %v", res, err)
	}
	rows := f.emu.InteractionsByKey("key-1")
	if len(rows) != 1 {
		t.Fatalf("interactions %d", len(rows))
	}
	row := rows[0]
	want := servicenowemu.Record{"type": "phone", "direction": "inbound", "state": "closed_complete",
		"short_description": "Inbound call from +14155551212", "work_notes": "invoice 1042",
		"opened_at": "2026-05-07 15:04:05", "closed_at": "2026-05-07 15:09:05", "opened_for": who,
		"assigned_to": s.Identity().UserID, "u_duration": "312", "u_phone_number": "+14155551212",
		"u_recording_url": "https://rec.example/1.wav", "u_outcome": "Resolved", "u_queue": "support", "sys_id": res[0].ID}
	for k, v := range want {
		if row[k] != v {
			t.Errorf("interaction.%s = %q, want %q", k, row[k], v)
		}
	}
	if s.Identity().UserID == "" {
		t.Fatal("no agent sys_id")
	}
	// A replay of a possibly applied write reads first and writes nothing.
	res, err = s.LogCalls(ctx(t), []crm.LogItem{{Key: "key-1", AgentID: "alice", MayExist: true, Log: l}})
	if err != nil || res[0].Err != nil || res[0].Created || res[0].ID != row["sys_id"] {
		t.Fatalf("read-first replay: %+v %v", res, err)
	}
	// Even a blind replay cannot duplicate: the unique index refuses it and
	// the connector finds the row.
	res, err = s.LogCalls(ctx(t), []crm.LogItem{{Key: "key-1", AgentID: "alice", Log: l}})
	if err != nil || res[0].Err != nil || res[0].Created || res[0].ID != row["sys_id"] {
		t.Fatalf("blind replay: %+v %v", res, err)
	}
	if w := f.emu.Writes()["key-1"]; w != 1 || len(f.emu.InteractionsByKey("key-1")) != 1 {
		t.Fatalf("interaction written %d times", w)
	}
	// Another agent's log is never sent with this session.
	res, err = s.LogCalls(ctx(t), []crm.LogItem{item("bob", "key-b")})
	if err != nil || !errors.Is(res[0].Err, crm.ErrWrongAgent) {
		t.Fatalf("cross-agent: %+v %v", res, err)
	}
	if _, err := s.LogCalls(ctx(t), []crm.LogItem{item("alice", "a"), item("alice", "b")}); err == nil {
		t.Fatal("two logs in one request accepted")
	}
	res, err = s.LogCalls(ctx(t), []crm.LogItem{item("alice", "bad^key")})
	if err != nil || crm.KindOf(res[0].Err) != crm.KindPermanent {
		t.Fatalf("key that would change the query: %+v %v", res, err)
	}
	// An outbound call to an account (not a user record): no opened_for.
	out := callLog("alice", "c2")
	out.Direction = domain.DirectionOutbound
	out.RecordID = strings.Repeat("a", 32)
	out.Matches = []domain.CRMRecord{{ID: out.RecordID, Type: "customer_account"}}
	if res, err := s.LogCalls(ctx(t), []crm.LogItem{{Key: "key-2", AgentID: "alice", Log: out}}); err != nil || res[0].Err != nil {
		t.Fatalf("outbound: %+v %v", res, err)
	}
	if r := f.emu.InteractionsByKey("key-2")[0]; r["direction"] != "outbound" || r["opened_for"] != "" ||
		r["short_description"] != "Outbound call to +14155551212" {
		t.Fatalf("outbound interaction %v", r)
	}
}

func TestLogCallsWithoutCallKeyField(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{NoCallKeyField: true}, nil)
	f.emu.Seed(servicenowemu.TableInteraction, servicenowemu.Record{"short_description": "someone else's"})
	s := f.signIn(t, "alice")
	// The read-first query names a field the table lacks: the instance
	// returns an arbitrary row, which must not count as ours; the insert
	// comes back without the key.
	it := item("alice", "k1")
	it.MayExist = true
	res, err := s.LogCalls(ctx(t), []crm.LogItem{it})
	if err != nil || res[0].Err != nil || !res[0].Created {
		t.Fatalf("first log: %+v %v", res, err)
	}
	// Nothing more is written: replays could duplicate.
	res, err = s.LogCalls(ctx(t), []crm.LogItem{item("alice", "k2")})
	if err != nil || crm.KindOf(res[0].Err) != crm.KindPermanent || !strings.Contains(crm.MessageOf(res[0].Err), "u_cti_call_id") {
		t.Fatalf("log after the field was found missing: %+v %v", res, err)
	}
	if n := len(f.emu.Interactions()); n != 2 {
		t.Fatalf("interactions %d, want the seeded one and the first log", n)
	}
	if err := s.Health(ctx(t)); crm.KindOf(err) != crm.KindPermanent {
		t.Fatalf("health with the field missing: %v", err)
	}
}

func TestLogCallsImportSet(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{ImportSet: "u_cti_call_import"}, func(c *servicenow.Config) {
		c.ImportSetTable = "u_cti_call_import"
	})
	s := f.signIn(t, "alice")
	res, err := s.LogCalls(ctx(t), []crm.LogItem{item("alice", "k1")})
	if err != nil || res[0].Err != nil || !res[0].Created {
		t.Fatalf("import: %+v %v", res, err)
	}
	id := res[0].ID
	// A blind replay is coalesced onto the same interaction.
	res, err = s.LogCalls(ctx(t), []crm.LogItem{item("alice", "k1")})
	if err != nil || res[0].Err != nil || res[0].Created || res[0].ID != id {
		t.Fatalf("blind replay: %+v %v", res, err)
	}
	// A replay that may exist reads first and writes nothing.
	it := item("alice", "k1")
	it.MayExist = true
	res, err = s.LogCalls(ctx(t), []crm.LogItem{it})
	if err != nil || res[0].Err != nil || res[0].Created || res[0].ID != id {
		t.Fatalf("read-first replay: %+v %v", res, err)
	}
	if got := f.emu.Logs(); got["k1"] != 1 || len(got) != 1 || f.emu.Writes()["k1"] != 2 {
		t.Fatalf("logs %v writes %v", got, f.emu.Writes())
	}
	if n := len(journal(f.emu, http.MethodPost, "/api/now/import/u_cti_call_import")); n != 2 {
		t.Fatalf("%d import requests, want 2", n)
	}
	// A transform error is a permanent refusal with its message.
	f.emu.AddDataPolicy(servicenowemu.DataPolicy{Field: "work_notes", Contains: "REJECT", Message: "Work notes are not allowed"})
	bad := item("alice", "k2")
	bad.Log.Notes = "REJECT"
	res, err = s.LogCalls(ctx(t), []crm.LogItem{bad})
	if err != nil || crm.KindOf(res[0].Err) != crm.KindPermanent || !strings.Contains(crm.MessageOf(res[0].Err), "Work notes are not allowed") {
		t.Fatalf("transform error: %+v %v", res, err)
	}
	// A staging table the instance does not have.
	g := newFixture(t, servicenowemu.Config{}, func(c *servicenow.Config) { c.ImportSetTable = "u_missing" })
	gs := g.signIn(t, "alice")
	res, err = gs.LogCalls(ctx(t), []crm.LogItem{item("alice", "k1")})
	if err != nil || crm.KindOf(res[0].Err) != crm.KindPermanent || !strings.Contains(crm.MessageOf(res[0].Err), "Invalid table") {
		t.Fatalf("missing staging table: %+v %v", res, err)
	}
}

func TestErrorTaxonomy(t *testing.T) {
	insert := emukit.Match{Method: http.MethodPost, Path: "/api/now/v2/table/interaction"}
	tests := []struct {
		name    string
		fault   emukit.Fault
		want    crm.Kind
		perItem bool
		wrote   bool
		retry   time.Duration
		message string
	}{
		{name: "503 html", fault: emukit.Fault{Status: 503, Body: "<html>maintenance</html>"}, want: crm.KindAmbiguous},
		{name: "429 retry-after", fault: emukit.Fault{Status: 429, Header: map[string]string{"Retry-After": "7"}}, want: crm.KindRateLimited, retry: 7 * time.Second},
		{name: "acl", fault: emukit.Fault{Status: 403, Code: "User Not Authorized", Message: "Not permitted to create interaction"},
			want: crm.KindPermanent, perItem: true, message: "User Not Authorized: Not permitted to create interaction"},
		{name: "bad request", fault: emukit.Fault{Status: 400, Code: "Invalid request", Message: "Invalid field value"}, want: crm.KindPermanent, perItem: true},
		{name: "not found", fault: emukit.Fault{Status: 404, Code: "Invalid table"}, want: crm.KindPermanent, perItem: true},
		{name: "garbage 201", fault: emukit.Fault{Status: 201, Body: "{\"result\":"}, want: crm.KindAmbiguous},
		{name: "commit then drop", fault: emukit.Fault{CommitThenDrop: true}, want: crm.KindAmbiguous, wrote: true},
		{name: "truncated json", fault: emukit.Fault{TruncateBody: true}, want: crm.KindAmbiguous, wrote: true},
		{name: "drop before commit", fault: emukit.Fault{DropBeforeCommit: true}, want: crm.KindAmbiguous},
		{name: "slow response", fault: emukit.Fault{Latency: 3 * time.Second}, want: crm.KindAmbiguous, wrote: true},
	}
	// A generous timeout: on a loaded machine only the slow case may hit it.
	f := newFixture(t, servicenowemu.Config{}, func(c *servicenow.Config) { c.HTTPClient = &http.Client{Timeout: 2 * time.Second} })
	s := f.signIn(t, "alice")
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.emu.ClearFaults()
			tt.fault.Match = insert
			f.emu.AddFault(tt.fault)
			key := fmt.Sprint("tax-", i)
			res, err := s.LogCalls(ctx(t), []crm.LogItem{item("alice", key)})
			if tt.perItem != (err == nil) {
				t.Fatalf("per-item %v, got %+v %v", tt.perItem, res, err)
			}
			if err == nil {
				err = res[0].Err
			}
			if crm.KindOf(err) != tt.want {
				t.Fatalf("kind %v (%v), want %v", crm.KindOf(err), err, tt.want)
			}
			if got := crm.RetryAfterOf(err); got != tt.retry {
				t.Fatalf("retry after %v, want %v", got, tt.retry)
			}
			if tt.message != "" && crm.MessageOf(err) != tt.message {
				t.Fatalf("message %q, want %q", crm.MessageOf(err), tt.message)
			}
			time.Sleep(tt.fault.Latency) // let a slow server finish its write
			if wrote := len(f.emu.InteractionsByKey(key)) == 1; wrote != tt.wrote {
				t.Fatalf("written %v, want %v", wrote, tt.wrote)
			}
		})
	}

	t.Run("data policy", func(t *testing.T) {
		f.emu.ClearFaults()
		f.emu.AddDataPolicy(servicenowemu.DataPolicy{Field: "work_notes", Contains: "REJECT", Message: "Outcome is mandatory"})
		it := item("alice", "policy")
		it.Log.Notes = "REJECT"
		res, err := s.LogCalls(ctx(t), []crm.LogItem{it})
		if err != nil || crm.KindOf(res[0].Err) != crm.KindPermanent ||
			crm.MessageOf(res[0].Err) != "Operation Failed: Data Policy Exception: Outcome is mandatory" {
			t.Fatalf("data policy: %+v %v", res, err)
		}
	})
	t.Run("garbage on a read", func(t *testing.T) {
		f.emu.ClearFaults()
		f.emu.AddFault(emukit.Fault{Match: emukit.Match{Method: http.MethodGet, Path: "/api/now/v2/table/customer_contact"},
			Status: 200, Body: "<html>Please log in</html>"})
		if _, err := s.LookupPhone(ctx(t), phone(t, "+14155551212")); crm.KindOf(err) != crm.KindTransient {
			t.Fatalf("garbage lookup answer: %v", err)
		}
	})
	t.Run("read error", func(t *testing.T) {
		f.emu.ClearFaults()
		f.emu.AddFault(emukit.Fault{Match: emukit.Match{Method: http.MethodGet, Path: "/api/now/v2/table/interaction"}, Status: 500})
		it := item("alice", "read-err")
		it.MayExist = true
		if _, err := s.LogCalls(ctx(t), []crm.LogItem{it}); crm.KindOf(err) != crm.KindTransient {
			t.Fatalf("read-first answered 500: %v", err)
		}
		if len(f.emu.InteractionsByKey("read-err")) != 0 {
			t.Fatal("written although the read before it failed")
		}
	})
	f.emu.ClearFaults()
	_ = f.emu.Stop()
	// The first request may go out on a pooled connection the server
	// closed (ambiguous); once it has to dial, the instance is offline.
	var err error
	for range 2 {
		_, err = s.LogCalls(ctx(t), []crm.LogItem{item("alice", "down")})
	}
	if crm.KindOf(err) != crm.KindOffline {
		t.Fatalf("instance down: %v", err)
	}
}

func TestRateLimitRule(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{RateLimit: servicenowemu.RateLimit{Requests: 3}}, nil)
	s := f.signIn(t, "alice") // the identity read is the first request
	var err error
	for i := range 3 {
		if _, err = s.LogCalls(ctx(t), []crm.LogItem{item("alice", fmt.Sprint("rl-", i))}); err != nil {
			break
		}
	}
	if crm.KindOf(err) != crm.KindRateLimited || crm.RetryAfterOf(err) < 50*time.Minute {
		t.Fatalf("past the hourly rule: %v (retry after %v)", err, crm.RetryAfterOf(err))
	}
	if !strings.Contains(crm.MessageOf(err), "Rate limit of 3 requests per hour") {
		t.Fatalf("message %q", crm.MessageOf(err))
	}
}
