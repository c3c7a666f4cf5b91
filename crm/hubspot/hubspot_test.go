package hubspot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/emukit"
	"github.com/callcentre/softphone/crm/hubspot"
	"github.com/callcentre/softphone/crm/hubspotemu"
	"github.com/callcentre/softphone/secrets"
)

const agent = "alice@example.com"

// syncBuffer collects log output from concurrent goroutines.
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

type fixture struct {
	emu     *hubspotemu.Server
	kr      *crmtest.Keyring
	browser *crmtest.Browser
	cfg     hubspot.Config
	conn    *hubspot.Connector
	logs    *syncBuffer
	portal  string // the provisioned portal token
	user    emukit.User
}

func newFixture(t testing.TB, ecfg hubspotemu.Config, mod func(*hubspot.Config)) *fixture {
	t.Helper()
	emu := hubspotemu.New(ecfg)
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	port, err := crmtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{emu: emu, kr: crmtest.NewKeyring(), browser: &crmtest.Browser{}, logs: &syncBuffer{}}
	f.user = emu.AddUser(agent, "Alice Agent")
	f.cfg = hubspot.Config{
		APIURL:       emu.URL(),
		AuthorizeURL: emu.URL() + "/oauth/authorize",
		ClientID:     hubspotemu.DefaultClientID,
		RedirectURL:  fmt.Sprintf("http://localhost:%d/oauth-callback", port),
		Keyring:      f.kr,
		Opener:       f.browser.Open,
		HTTPClient:   &http.Client{Timeout: 5 * time.Second},
		Logger:       slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&f.cfg)
	}
	f.conn = f.newConn(t)
	if f.cfg.Auth == hubspot.AuthPortalToken {
		f.portal = emu.PrivateAppToken()
		if err := f.conn.SetPortalToken("", f.portal); err != nil {
			t.Fatal(err)
		}
	} else if err := f.conn.SetClientSecret(hubspotemu.DefaultClientSecret); err != nil {
		t.Fatal(err)
	}
	return f
}

// newConn builds another connector on the same keyring (an app restart).
func (f *fixture) newConn(t testing.TB) *hubspot.Connector {
	t.Helper()
	c, err := hubspot.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func (f *fixture) signIn(t testing.TB) *hubspot.Session {
	t.Helper()
	s, err := f.conn.SignIn(ctx(t), agent, crm.SignInOptions{ForceLogin: true, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	return s.(*hubspot.Session)
}

func kindIs(t *testing.T, err error, want crm.Kind) *crm.Error {
	t.Helper()
	if got := crm.KindOf(err); got != want {
		t.Fatalf("error %v: kind %v, want %v", err, got, want)
	}
	var ce *crm.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *crm.Error", err)
	}
	return ce
}

var t0 = time.Date(2026, 5, 7, 10, 0, 0, 0, time.UTC)

func callLog(key string) domain.CallLog {
	return domain.CallLog{Key: key, AgentID: agent, Direction: domain.DirectionInbound,
		Remote: domain.Party{Number: "+14155551212", Name: "Carol"}, DialedNumber: "+14155550100",
		StartedAt: t0, AnsweredAt: t0.Add(5 * time.Second), EndedAt: t0.Add(317 * time.Second),
		Talk: 312 * time.Second, Outcome: "Connected", Notes: "renewal discussed", Cause: domain.CauseRemoteHangup}
}

func item(l domain.CallLog) crm.LogItem { return crm.LogItem{Key: l.Key, AgentID: l.AgentID, Log: l} }

func TestNewValidatesConfig(t *testing.T) {
	kr := crmtest.NewKeyring()
	for name, c := range map[string]hubspot.Config{
		"no keyring":           {},
		"oauth no client":      {Keyring: kr, Auth: hubspot.AuthOAuth},
		"oauth bad redirect":   {Keyring: kr, Auth: hubspot.AuthOAuth, ClientID: "c", RedirectURL: "https://example.com/cb"},
		"oauth no port":        {Keyring: kr, Auth: hubspot.AuthOAuth, ClientID: "c", RedirectURL: "http://localhost/cb"},
		"bad api url":          {Keyring: kr, APIURL: "ftp://x"},
		"unknown mode":         {Keyring: kr, Auth: 7},
		"bad call key":         {Keyring: kr, CallKeyProperty: "cti call"},
		"empty disposition":    {Keyring: kr, Dispositions: map[string]string{"Sale": ""}},
		"relative ui url":      {Keyring: kr, UIURL: "/ui"},
		"api url without host": {Keyring: kr, APIURL: "https://"},
	} {
		if _, err := hubspot.New(c); !errors.Is(err, hubspot.ErrConfig) {
			t.Errorf("%s: New = %v, want ErrConfig", name, err)
		}
	}
	c, err := hubspot.New(hubspot.Config{Keyring: kr})
	if err != nil || c.Name() != hubspot.Name || c.Capabilities().MaxBatch != 100 || !c.Capabilities().Idempotent {
		t.Fatalf("defaults: %v %+v", err, c)
	}
	if err := c.SetPortalToken("", " "); !errors.Is(err, hubspot.ErrConfig) {
		t.Fatalf("empty portal token accepted: %v", err)
	}
}

func TestPortalTokenSignInResumeSignOut(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, nil)
	s := f.signIn(t)
	owner := hubspotemu.OwnerOf(f.user)
	id := s.Identity()
	if s.OwnerID() != owner.ID || id.OrgID != fmt.Sprint(hubspotemu.DefaultPortalID) || id.Username != agent ||
		id.Display != "Alice Agent" || id.UserID != fmt.Sprint(owner.UserID) || s.AgentID() != agent {
		t.Fatalf("identity %+v owner %s, want owner %+v", id, s.OwnerID(), owner)
	}
	if tok, err := f.kr.Get(agent, hubspot.Name, secrets.KindAccessToken); err != nil || tok != f.portal {
		t.Fatalf("agent's token copy: %v", err)
	}
	if err := s.Health(ctx(t)); err != nil {
		t.Fatal(err)
	}
	// A restart: a new connector resumes from the keyring.
	c2 := f.newConn(t)
	r, err := c2.Resume(ctx(t), agent)
	if err != nil {
		t.Fatal(err)
	}
	if r.(*hubspot.Session).OwnerID() != owner.ID {
		t.Fatal("resumed session lost the owner")
	}
	if again, _ := c2.Resume(ctx(t), agent); again != r {
		t.Fatal("Resume made a second session")
	}
	if err := r.SignOut(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.kr.Get(agent, hubspot.Name, secrets.KindAccessToken); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatal("sign-out left the agent's token")
	}
	if _, err := f.kr.Get(hubspot.PortalAgent, hubspot.Name, secrets.KindAccessToken); err != nil {
		t.Fatal("sign-out removed IT's portal token")
	}
	if _, err := f.newConn(t).Resume(ctx(t), agent); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume after sign-out: %v", err)
	}
	// Another agent on the PC with no HubSpot user.
	_, err = f.conn.SignIn(ctx(t), "bob@example.com", crm.SignInOptions{})
	if !errors.Is(err, hubspot.ErrNoOwner) || crm.KindOf(err) != crm.KindPermanent {
		t.Fatalf("unknown agent: %v", err)
	}
	// An agent id that is not an address and no OwnerEmail.
	if _, err := f.conn.SignIn(ctx(t), "1001", crm.SignInOptions{}); !errors.Is(err, hubspot.ErrNoOwner) {
		t.Fatalf("agent without address: %v", err)
	}
	if strings.Contains(f.logs.String(), f.portal) {
		t.Fatal("the portal token is in the logs")
	}
}

func TestPortalTokenMissingOrRevoked(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, nil)
	empty, err := hubspot.New(hubspot.Config{APIURL: f.emu.URL(), Keyring: crmtest.NewKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.SignIn(ctx(t), agent, crm.SignInOptions{}); !errors.Is(err, hubspot.ErrNoPortalToken) {
		t.Fatalf("no token: %v", err)
	}
	s := f.signIn(t)
	// IT rotates the private app's token: the agent's stale copy is
	// refused, the session needs a sign-in, and SignIn takes IT's new one.
	f.emu.Revoke(f.portal)
	_, err = s.LogCalls(ctx(t), []crm.LogItem{item(callLog("k-rev"))})
	if !errors.Is(err, crm.ErrSignInRequired) || crm.KindOf(err) != crm.KindAuthRevoked {
		t.Fatalf("revoked portal token: %v", err)
	}
	if _, err := f.conn.Resume(ctx(t), agent); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume after revocation: %v", err)
	}
	if _, err := f.conn.SignIn(ctx(t), agent, crm.SignInOptions{}); crm.KindOf(err) != crm.KindAuthRevoked {
		t.Fatalf("sign-in with only a revoked token: %v", err)
	}
	fresh := f.emu.PrivateAppToken()
	if err := f.conn.SetPortalToken(agent, f.portal); err != nil { // a stale copy again
		t.Fatal(err)
	}
	if err := f.conn.SetPortalToken("", fresh); err != nil {
		t.Fatal(err)
	}
	s = f.signIn(t)
	if tok, _ := f.kr.Get(agent, hubspot.Name, secrets.KindAccessToken); tok != fresh {
		t.Fatal("sign-in did not keep IT's new token for the agent")
	}
	if _, err := s.LogCalls(ctx(t), []crm.LogItem{item(callLog("k-rev"))}); err != nil {
		t.Fatal(err)
	}
}

func TestCallKeyPropertyChecked(t *testing.T) {
	for _, c := range []struct {
		cfg  hubspotemu.Config
		code string
	}{
		{hubspotemu.Config{NoCallKeyProperty: true}, "no_call_key_property"},
		{hubspotemu.Config{CallKeyNotUnique: true}, "call_key_not_unique"},
	} {
		f := newFixture(t, c.cfg, nil)
		_, err := f.conn.SignIn(ctx(t), agent, crm.SignInOptions{})
		if ce := kindIs(t, err, crm.KindPermanent); ce.Code != c.code {
			t.Fatalf("%+v: code %q, want %q", c.cfg, ce.Code, c.code)
		}
	}
	// A token without the schema scope: a warning, not a failure.
	f := newFixture(t, hubspotemu.Config{}, nil)
	f.emu.AddFault(emukit.Fault{Match: emukit.Match{Path: "/crm/v3/properties/*"}, Status: http.StatusForbidden,
		Code: "MISSING_SCOPES", Message: "This app hasn't been granted all required scopes to make this call."})
	f.signIn(t)
}

func TestOAuthSignInRefreshRevokeSignOut(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, func(c *hubspot.Config) {
		c.Auth = hubspot.AuthOAuth
		c.OwnerEmail = nil
	})
	// No client secret provisioned: a clear error before any browser.
	noSecret, err := hubspot.New(hubspot.Config{Auth: hubspot.AuthOAuth, ClientID: "c", APIURL: f.emu.URL(),
		RedirectURL: f.cfg.RedirectURL, Keyring: crmtest.NewKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noSecret.SignIn(ctx(t), agent, crm.SignInOptions{}); !errors.Is(err, hubspot.ErrNoClientSecret) {
		t.Fatalf("no client secret: %v", err)
	}
	f.emu.SetBrowserUser(f.user.ID)
	s := f.signIn(t)
	// (The browser's own page load is not checked: crm/oauth closes the
	// loopback listener as soon as the code arrives, which can cut off
	// the "you can close this tab" page; see the report.)
	if len(f.browser.URLs()) != 1 {
		t.Fatalf("browser opened %v", f.browser.URLs())
	}
	if f.emu.LastAuthorize("code_challenge_method") != "S256" || !strings.Contains(f.emu.LastAuthorize("scope"), "crm.objects.contacts.write") {
		t.Fatalf("authorize: %q %q", f.emu.LastAuthorize("code_challenge_method"), f.emu.LastAuthorize("scope"))
	}
	if s.Identity().Username != agent || s.OwnerID() != hubspotemu.OwnerOf(f.user).ID {
		t.Fatalf("identity %+v", s.Identity())
	}
	rt, err := f.kr.Get(agent, hubspot.Name, secrets.KindRefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// The access token expires: refreshed once, the write replayed.
	f.emu.ExpireAccessTokens()
	res, err := s.LogCalls(ctx(t), []crm.LogItem{item(callLog("k-oauth"))})
	if err != nil || res[0].Err != nil || !res[0].Created {
		t.Fatalf("log after expiry: %v %+v", err, res)
	}
	refreshes := 0
	for _, r := range f.emu.Journal() {
		if r.Path == "/oauth/v3/token" && strings.Contains(r.Body, "grant_type=refresh_token") {
			refreshes++
			if !strings.Contains(r.Body, "client_secret=") {
				t.Fatal("refresh without client_secret")
			}
		}
	}
	if refreshes != 1 {
		t.Fatalf("%d refreshes, want 1", refreshes)
	}
	// A restart resumes from the keyring.
	r, err := f.newConn(t).Resume(ctx(t), agent)
	if err != nil || r.Identity().Username != agent {
		t.Fatalf("resume: %v", err)
	}
	// Sign-out deletes the refresh token at HubSpot and in the keyring.
	live := f.emu.LiveRefreshTokens()
	if err := r.SignOut(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if f.emu.LiveRefreshTokens() != live-1 {
		t.Fatal("refresh token not deleted at HubSpot")
	}
	if _, err := f.kr.Get(agent, hubspot.Name, secrets.KindRefreshToken); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatal("sign-out left the refresh token")
	}
	// Revocation by the admin: the next request needs a sign-in and the
	// keyring is cleared.
	s = f.signIn(t)
	f.emu.RevokeRefreshTokens()
	_, err = s.LookupPhone(ctx(t), phone(t, "+14155551212"))
	if !errors.Is(err, crm.ErrSignInRequired) || crm.KindOf(err) != crm.KindAuthRevoked {
		t.Fatalf("revoked: %v", err)
	}
	if _, err := f.kr.Get(agent, hubspot.Name, secrets.KindRefreshToken); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatal("revoked refresh token kept")
	}
	logs := f.logs.String()
	if strings.Contains(logs, rt) || strings.Contains(logs, hubspotemu.DefaultClientSecret) {
		t.Fatal("a token or the client secret is in the logs")
	}
}

func phone(t testing.TB, raw string) crm.Phone {
	t.Helper()
	p, err := crm.NewNormalizer("US").Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLookupPhone(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, nil)
	carol := f.emu.AddContact(map[string]string{"firstname": "Carol", "lastname": "Customer", "phone": "+1 (415) 555-1212"})
	dave := f.emu.AddContact(map[string]string{"firstname": "Dave", "mobilephone": "415.555.1212"})
	acme := f.emu.AddCompany(map[string]string{"name": "Acme", "phone": "+14155551212"})
	intl := f.emu.AddContact(map[string]string{"firstname": "Erin", "phone": "+44 4155551212"}) // national digits only
	f.emu.AddContact(map[string]string{"firstname": "Frank", "phone": "+14155551213"})
	s := f.signIn(t)

	got, err := s.LookupPhone(ctx(t), phone(t, "(415) 555-1212"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range got {
		ids = append(ids, r.Type+":"+r.ID)
	}
	want := []string{"contact:" + carol, "contact:" + dave, "company:" + acme, "contact:" + intl}
	if strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("matches %v, want %v (exact first, contacts before companies)", ids, want)
	}
	if got[0].Name != "Carol Customer" || got[0].URL != fmt.Sprintf("https://app.hubspot.com/contacts/%d/record/0-1/%s", hubspotemu.DefaultPortalID, carol) {
		t.Fatalf("record %+v", got[0])
	}
	if got[2].URL != fmt.Sprintf("https://app.hubspot.com/contacts/%d/record/0-2/%s", hubspotemu.DefaultPortalID, acme) {
		t.Fatalf("company url %s", got[2].URL)
	}
	// The search request: at most five filter groups, the national number
	// on the calculated properties.
	for _, r := range f.emu.Journal() {
		if r.Path == "/crm/v3/objects/contacts/search" && !strings.Contains(r.Body, `"hs_searchable_calculated_phone_number","operator":"EQ","value":"4155551212"`) {
			t.Fatalf("contacts search %s", r.Body)
		}
	}
	one, err := s.LookupPhone(ctx(t), phone(t, "+14155551213"))
	if err != nil || len(one) != 1 || one[0].Name != "Frank" {
		t.Fatalf("one match: %v %+v", err, one)
	}
	none, err := s.LookupPhone(ctx(t), phone(t, "+12125550000"))
	if err != nil || len(none) != 0 {
		t.Fatalf("no match: %v %+v", err, none)
	}
	// The CRM over-matches: the hit is verified client-side and dropped.
	f.emu.AddFault(emukit.Fault{Match: emukit.Match{Path: "/crm/v3/objects/contacts/search"}, Status: http.StatusOK,
		Body: `{"total":1,"results":[{"id":"999","properties":{"firstname":"Wrong","phone":"+1 212 555 0000"}}]}`})
	none, err = s.LookupPhone(ctx(t), phone(t, "+14155551213"))
	if err != nil || len(none) != 0 {
		t.Fatalf("over-match not filtered: %v %+v", err, none)
	}
	if _, err := s.LookupPhone(ctx(t), crm.Phone{}); !errors.Is(err, crm.ErrInvalidNumber) {
		t.Fatalf("empty number: %v", err)
	}
	if strings.Contains(f.logs.String(), "4155551212") {
		t.Fatal("a number is in the logs")
	}
}

func TestSearch(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, nil)
	carol := f.emu.AddContact(map[string]string{"firstname": "Carol", "lastname": "Customer", "email": "carol@acme.test"})
	acme := f.emu.AddCompany(map[string]string{"name": "Carolina Freight", "domain": "carolina.test"})
	f.emu.AddContact(map[string]string{"firstname": "Dave"})
	s := f.signIn(t)
	got, err := s.Search(ctx(t), "carol", 10)
	if err != nil || len(got) != 2 || got[0].ID != carol || got[1].ID != acme || got[1].Type != hubspot.TypeCompany {
		t.Fatalf("search: %v %+v", err, got)
	}
	if got, err := s.Search(ctx(t), "c", 10); err != nil || got != nil {
		t.Fatalf("one letter: %v %+v", err, got)
	}
	if got, err := s.Search(ctx(t), "carol", 1); err != nil || len(got) != 1 {
		t.Fatalf("limit: %v %+v", err, got)
	}
}

func TestLogCallsMappingAndAssociations(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, func(c *hubspot.Config) {
		c.Dispositions = map[string]string{"Sale": "0b3e0fb4-5d1c-4e0e-9f56-6a1c7d7c0001"}
	})
	f.emu.AddDisposition("0b3e0fb4-5d1c-4e0e-9f56-6a1c7d7c0001", "Sale")
	carol := f.emu.AddContact(map[string]string{"firstname": "Carol", "phone": "+14155551212"})
	acme := f.emu.AddCompany(map[string]string{"name": "Acme", "phone": "+14155551212"})
	gone := f.emu.AddContact(map[string]string{"firstname": "Gone"})
	s := f.signIn(t)

	l1 := callLog("key-1")
	l1.RecordID, l1.Matches = carol, []domain.CRMRecord{{ID: carol, Type: hubspot.TypeContact}}
	l1.Recordings = []string{"/home/a/rec.wav", "https://rec.example.com/c/1.mp3"}
	l2 := callLog("key-2")
	l2.Direction, l2.Outcome, l2.Queue = domain.DirectionOutbound, "Sale", "Sales"
	l2.RecordID, l2.Matches = acme, []domain.CRMRecord{{ID: acme, Type: hubspot.TypeCompany}}
	l3 := callLog("key-3")
	l3.AnsweredAt, l3.Talk, l3.Missed, l3.Cause, l3.Outcome, l3.Notes = time.Time{}, 0, true, domain.CauseMissed, "", ""
	l4 := callLog("key-4")
	l4.Outcome = "Upsell later" // no GUID: goes to the notes
	l4.RecordID = gone
	f.emu.Delete("contacts", gone)
	l5 := callLog("key-5")
	l5.AgentID = "mallory@example.com"

	res, err := s.LogCalls(ctx(t), []crm.LogItem{item(l1), item(l2), item(l3), item(l4), item(l5)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if res[i].Err != nil || !res[i].Created || res[i].ID == "" {
			t.Fatalf("item %d: %+v", i, res[i])
		}
	}
	if !errors.Is(res[4].Err, crm.ErrWrongAgent) {
		t.Fatalf("another agent's log: %+v", res[4])
	}
	if !res[3].Unassociated || res[0].Unassociated {
		t.Fatalf("unassociated flags: %+v %+v", res[0], res[3])
	}
	owner := s.OwnerID()
	c1, a1, _ := f.emu.CallByKey("key-1")
	p := c1.Properties
	for k, v := range map[string]string{"hs_timestamp": "2026-05-07T10:00:00.000Z", "hs_call_direction": "INBOUND",
		"hs_call_status": "COMPLETED", "hs_call_duration": "312000", "hs_call_from_number": "+14155551212",
		"hs_call_to_number": "+14155550100", "hs_call_recording_url": "https://rec.example.com/c/1.mp3",
		"hs_call_disposition": "f240bbac-87c9-4f6e-bf70-924b57d47db7", "hubspot_owner_id": owner,
		"hs_call_body": "renewal discussed", "cti_call_id": "key-1", "hs_call_title": "Inbound call from Carol"} {
		if p[k] != v {
			t.Errorf("%s = %q, want %q", k, p[k], v)
		}
	}
	if len(a1) != 1 || a1[0] != (hubspotemu.Association{ToType: "contacts", ToID: carol, TypeID: 194}) {
		t.Fatalf("associations %+v", a1)
	}
	c2, a2, _ := f.emu.CallByKey("key-2")
	if c2.Properties["hs_call_direction"] != "OUTBOUND" || c2.Properties["hs_call_disposition"] != "0b3e0fb4-5d1c-4e0e-9f56-6a1c7d7c0001" ||
		c2.Properties["hs_call_to_number"] != "+14155551212" || c2.Properties["hs_call_body"] != "renewal discussed\n\nQueue: Sales" {
		t.Fatalf("outbound %+v", c2.Properties)
	}
	if len(a2) != 1 || a2[0].TypeID != 182 || a2[0].ToID != acme {
		t.Fatalf("company association %+v", a2)
	}
	c3, _, _ := f.emu.CallByKey("key-3")
	if c3.Properties["hs_call_status"] != "NO_ANSWER" || c3.Properties["hs_call_disposition"] != "73a0d17f-1163-4015-bdd5-ec830791da20" ||
		c3.Properties["hs_call_title"] != "Missed call from Carol" || c3.Properties["hs_call_duration"] != "0" {
		t.Fatalf("missed %+v", c3.Properties)
	}
	c4, _, _ := f.emu.CallByKey("key-4")
	if _, ok := c4.Properties["hs_call_disposition"]; ok || !strings.HasSuffix(c4.Properties["hs_call_body"], "Outcome: Upsell later") {
		t.Fatalf("unmapped outcome %+v", c4.Properties)
	}
	// One batch upsert request for the four.
	n := 0
	for _, r := range f.emu.Journal() {
		if r.Path == "/crm/v3/objects/calls/batch/upsert" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d upsert requests, want 1", n)
	}
	// A replay without MayExist: the unique property keeps one call.
	res, err = s.LogCalls(ctx(t), []crm.LogItem{item(l1)})
	if err != nil || res[0].Err != nil || res[0].Created || res[0].ID != c1.ID {
		t.Fatalf("replay: %v %+v", err, res)
	}
	// A replay with MayExist: read first, not written again.
	before := f.emu.Writes()["key-2"]
	it := item(l2)
	it.MayExist = true
	fresh := item(callLog("key-6"))
	fresh.MayExist = true
	res, err = s.LogCalls(ctx(t), []crm.LogItem{it, fresh})
	if err != nil || res[0].Err != nil || res[0].Created || res[0].ID != c2.ID || res[1].Err != nil || !res[1].Created {
		t.Fatalf("may-exist: %v %+v", err, res)
	}
	if f.emu.Writes()["key-2"] != before || f.emu.CallCount() != 5 {
		t.Fatalf("may-exist rewrote: writes %d, calls %d", f.emu.Writes()["key-2"], f.emu.CallCount())
	}
	if logs := f.logs.String(); strings.Contains(logs, "renewal") || strings.Contains(logs, "4155551212") {
		t.Fatalf("notes or numbers in the logs:\n%s", logs)
	}
}

func TestLogCallsBatchOf100(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, nil)
	s := f.signIn(t)
	var items []crm.LogItem
	for i := range hubspot.MaxBatch {
		items = append(items, item(callLog(fmt.Sprintf("b-%03d", i))))
	}
	res, err := s.LogCalls(ctx(t), items)
	if err != nil || len(res) != 100 {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || !r.Created {
			t.Fatalf("item %d: %+v", i, r)
		}
	}
	if f.emu.CallCount() != 100 {
		t.Fatalf("%d calls", f.emu.CallCount())
	}
	if _, err := s.LogCalls(ctx(t), append(items, item(callLog("one-too-many")))); err == nil {
		t.Fatal("101 logs accepted")
	}
}

func TestLogCallsValidationIsPerItem(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, func(c *hubspot.Config) {
		c.Dispositions = map[string]string{"Bogus": "00000000-0000-0000-0000-000000000000"}
	})
	s := f.signIn(t)
	bad := callLog("bad")
	bad.Outcome = "Bogus"
	res, err := s.LogCalls(ctx(t), []crm.LogItem{item(callLog("good")), item(bad)})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || !res[0].Created {
		t.Fatalf("good item: %+v", res[0])
	}
	ce := kindIs(t, res[1].Err, crm.KindPermanent)
	if ce.Code != "VALIDATION_ERROR" || !strings.Contains(crm.MessageOf(res[1].Err), "hs_call_disposition") {
		t.Fatalf("bad item: %v", res[1].Err)
	}
	// A single item refused as a whole request is a per-item dead letter.
	f.emu.AddFault(emukit.Fault{Match: emukit.Match{Path: "/crm/v3/objects/calls/batch/upsert"}, Status: http.StatusBadRequest,
		Code: "VALIDATION_ERROR", Message: "Property values were not valid"})
	res, err = s.LogCalls(ctx(t), []crm.LogItem{item(callLog("refused"))})
	if err != nil || crm.KindOf(res[0].Err) != crm.KindPermanent || crm.MessageOf(res[0].Err) != "VALIDATION_ERROR: Property values were not valid" {
		t.Fatalf("refused: %v %+v", err, res)
	}
}

func TestErrorClasses(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, nil)
	s := f.signIn(t)
	upsert := emukit.Match{Method: http.MethodPost, Path: "/crm/v3/objects/calls/batch/upsert"}
	search := emukit.Match{Method: http.MethodPost, Path: "/crm/v3/objects/contacts/search"}
	p := phone(t, "+14155551212")
	logOne := func(key string) error {
		_, err := s.LogCalls(ctx(t), []crm.LogItem{item(callLog(key))})
		return err
	}
	lookup := func() error { _, err := s.LookupPhone(ctx(t), p); return err }

	f.emu.AddFault(emukit.Fault{Match: upsert, Status: http.StatusTooManyRequests, Code: "TEN_SECONDLY_ROLLING", Header: map[string]string{"Retry-After": "7"}})
	ce := kindIs(t, logOne("e1"), crm.KindRateLimited)
	if ce.RetryAfter != 7*time.Second || ce.Code != "TEN_SECONDLY_ROLLING" {
		t.Fatalf("429: %+v", ce)
	}
	f.emu.AddFault(emukit.Fault{Match: search, Status: http.StatusTooManyRequests, Code: "DAILY"})
	if ce := kindIs(t, lookup(), crm.KindRateLimited); ce.RetryAfter != time.Hour {
		t.Fatalf("daily 429: %+v", ce)
	}
	f.emu.AddFault(emukit.Fault{Match: search, Status: http.StatusForbidden, Code: "MISSING_SCOPES", Message: "This app hasn't been granted all required scopes"})
	if ce := kindIs(t, lookup(), crm.KindPermanent); ce.Code != "MISSING_SCOPES" {
		t.Fatalf("403: %+v", ce)
	}
	f.emu.AddFault(emukit.Fault{Match: upsert, Status: http.StatusInternalServerError, Code: "INTERNAL_ERROR"})
	kindIs(t, logOne("e2"), crm.KindAmbiguous)
	f.emu.AddFault(emukit.Fault{Match: search, Status: http.StatusBadGateway, Body: "<html>bad gateway</html>"})
	kindIs(t, lookup(), crm.KindTransient)
	f.emu.AddFault(emukit.Fault{Match: search, Status: http.StatusOK, Body: "{not json"})
	if ce := kindIs(t, lookup(), crm.KindTransient); ce.Code != "bad_response" {
		t.Fatalf("garbage lookup: %+v", ce)
	}
	f.emu.AddFault(emukit.Fault{Match: upsert, Status: http.StatusOK, Body: `["what"]`})
	kindIs(t, logOne("e3"), crm.KindAmbiguous)
	f.emu.AddFault(emukit.Fault{Match: upsert, TruncateBody: true})
	kindIs(t, logOne("e4"), crm.KindAmbiguous)
	f.emu.AddFault(emukit.Fault{Match: upsert, Status: http.StatusConflict, Code: "CONFLICT",
		Message: "A call with cti_call_id 'e5' already exists. Existing ID: 424242"})
	res, err := s.LogCalls(ctx(t), []crm.LogItem{item(callLog("e5"))})
	if err != nil || res[0].Err != nil || res[0].ID != "424242" || res[0].Created {
		t.Fatalf("409: %v %+v", err, res)
	}
	// Commit then drop: ambiguous, and the MayExist replay finds the call.
	f.emu.AddFault(emukit.Fault{Match: upsert, CommitThenDrop: true})
	kindIs(t, logOne("e6"), crm.KindAmbiguous)
	it := item(callLog("e6"))
	it.MayExist = true
	res, err = s.LogCalls(ctx(t), []crm.LogItem{it})
	if err != nil || res[0].Err != nil || res[0].Created || f.emu.Writes()["e6"] != 1 {
		t.Fatalf("replay after drop: %v %+v writes %d", err, res, f.emu.Writes()["e6"])
	}
	// The read before the write fails: transient, nothing written.
	f.emu.AddFault(emukit.Fault{Match: emukit.Match{Path: "/crm/v3/objects/calls/batch/read"}, Status: http.StatusInternalServerError})
	it = item(callLog("e7"))
	it.MayExist = true
	_, err = s.LogCalls(ctx(t), []crm.LogItem{it})
	kindIs(t, err, crm.KindTransient)
	// Offline (a pooled connection to the stopped server would make a
	// write ambiguous, rightly; a fresh one is refused).
	if err := f.emu.Stop(); err != nil {
		t.Fatal(err)
	}
	f.cfg.HTTPClient.CloseIdleConnections()
	kindIs(t, logOne("e8"), crm.KindOffline)
	kindIs(t, lookup(), crm.KindOffline)
	if err := f.emu.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := logOne("e8"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := f.emu.CallByKey("e1"); ok {
		t.Fatal("a rate-limited write was applied")
	}
}

func TestAssociationFailureIsAmbiguous(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, nil)
	carol := f.emu.AddContact(map[string]string{"firstname": "Carol"})
	s := f.signIn(t)
	l := callLog("as-1")
	l.RecordID = carol
	f.emu.AddFault(emukit.Fault{Match: emukit.Match{Path: "/crm/v4/associations/*"}, Status: http.StatusServiceUnavailable})
	res, err := s.LogCalls(ctx(t), []crm.LogItem{item(l)})
	if err != nil || crm.KindOf(res[0].Err) != crm.KindAmbiguous {
		t.Fatalf("association 503: %v %+v", err, res)
	}
	it := item(l)
	it.MayExist = true
	res, err = s.LogCalls(ctx(t), []crm.LogItem{it})
	if err != nil || res[0].Err != nil || res[0].Created {
		t.Fatalf("replay: %v %+v", err, res)
	}
	if _, as, _ := f.emu.CallByKey("as-1"); len(as) != 1 || f.emu.Writes()["as-1"] != 1 {
		t.Fatalf("after replay: associations %+v writes %d", as, f.emu.Writes()["as-1"])
	}
}

func TestURLs(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{UIDomain: "app-eu1.hubspot.com"}, nil)
	s := f.signIn(t)
	u, err := s.RecordURL(domain.CRMRecord{ID: "123", Type: hubspot.TypeContact})
	if err != nil || u != fmt.Sprintf("https://app-eu1.hubspot.com/contacts/%d/record/0-1/123", hubspotemu.DefaultPortalID) {
		t.Fatalf("%v %s", err, u)
	}
	if _, err := s.RecordURL(domain.CRMRecord{ID: "12/../3"}); err == nil {
		t.Fatal("bad id accepted")
	}
	if _, err := s.RecordURL(domain.CRMRecord{ID: "1", Type: "deal"}); !errors.Is(err, crm.ErrUnsupported) {
		t.Fatalf("deal: %v", err)
	}
	n, err := s.NewRecordURL(phone(t, "+14155551212"))
	if err != nil || !strings.HasPrefix(n, "https://app-eu1.hubspot.com/contacts/") {
		t.Fatalf("%v %s", err, n)
	}
	// Demo mode: the emulator serves the record pages.
	f.cfg.UIURL = f.emu.URL()
	s2, err := f.newConn(t).SignIn(ctx(t), agent, crm.SignInOptions{})
	if err != nil {
		t.Fatal(err)
	}
	u, err = s2.RecordURL(domain.CRMRecord{ID: "123", Type: hubspot.TypeCompany})
	if err != nil || u != fmt.Sprintf("%s/contacts/%d/record/0-2/123", f.emu.URL(), hubspotemu.DefaultPortalID) {
		t.Fatalf("%v %s", err, u)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("record page: %d", resp.StatusCode)
	}
}

// TestOddAnswersNeverPanic feeds well-formed but unexpected JSON from the
// CRM to every parser: each ends in a classified error or a safe result.
func TestOddAnswersNeverPanic(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, nil)
	f.emu.AddContact(map[string]string{"firstname": "Carol"})
	s := f.signIn(t)
	p := phone(t, "+14155551212")
	for _, c := range []struct {
		path, body string
		want       crm.Kind // of the whole call; KindUnknown: no error
		item       crm.Kind // of the one log item
	}{
		{"/crm/v3/objects/contacts/search", `null`, crm.KindUnknown, 0},
		{"/crm/v3/objects/contacts/search", `{"results":[null,{"id":"1","properties":null}]}`, crm.KindUnknown, 0},
		{"/crm/v3/objects/contacts/search", `{"results":[{"id":"1","properties":{"phone":5}}]}`, crm.KindTransient, 0},
		{"/crm/v3/objects/contacts/search", `{"results":"many"}`, crm.KindTransient, 0},
		{"/crm/v3/objects/calls/batch/upsert", `null`, crm.KindUnknown, crm.KindAmbiguous},
		{"/crm/v3/objects/calls/batch/upsert", `{"results":[{"id":"5","properties":null,"new":true}]}`, crm.KindUnknown, crm.KindUnknown},
		{"/crm/v3/objects/calls/batch/upsert", `{"results":[],"errors":[{"category":"VALIDATION_ERROR","message":"bad"}]}`, crm.KindUnknown, crm.KindPermanent},
		{"/crm/v3/objects/calls/batch/upsert", `{"results":[],"errors":[null,{"context":{"ids":null}}]}`, crm.KindUnknown, crm.KindAmbiguous},
		{"/crm/v3/objects/calls/batch/upsert", `{"results":[{"id":"5","new":"yes"}]}`, crm.KindAmbiguous, 0},
		{"/crm/v3/objects/calls/batch/read", `{"results":[{"id":"5","properties":{"cti_call_id":null}}]}`, crm.KindUnknown, crm.KindUnknown},
		{"/crm/v3/objects/calls/batch/read", `[1,2]`, crm.KindTransient, 0},
	} {
		f.emu.ClearFaults()
		f.emu.AddFault(emukit.Fault{Match: emukit.Match{Path: c.path}, Status: http.StatusOK, Body: c.body})
		var err error
		var res []crm.LogResult
		if strings.HasSuffix(c.path, "/search") {
			_, err = s.LookupPhone(ctx(t), p)
		} else {
			it := item(callLog("odd-" + c.body))
			it.MayExist = strings.HasSuffix(c.path, "/read")
			res, err = s.LogCalls(ctx(t), []crm.LogItem{it})
		}
		if got := crm.KindOf(err); got != c.want {
			t.Fatalf("%s %s: error %v (kind %v), want kind %v", c.path, c.body, err, got, c.want)
		}
		if err == nil && res != nil {
			if got := crm.KindOf(res[0].Err); got != c.item {
				t.Fatalf("%s %s: item %+v (kind %v), want kind %v", c.path, c.body, res[0], got, c.item)
			}
		}
	}
}

// TestPortalOutcomes maps the portal's custom call outcomes by label, read
// at sign-in; when they cannot be read the defaults still apply.
func TestPortalOutcomes(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, nil)
	const demo = "5e0c8a4e-1f7b-4c8e-9a57-0d5b8f3c0a11"
	f.emu.AddDisposition(demo, "Demo booked")
	s := f.signIn(t)
	l := callLog("po-1")
	l.Outcome = "demo BOOKED"
	if res, err := s.LogCalls(ctx(t), []crm.LogItem{item(l)}); err != nil || res[0].Err != nil {
		t.Fatal(err, res)
	}
	if c, _, _ := f.emu.CallByKey("po-1"); c.Properties["hs_call_disposition"] != demo {
		t.Fatalf("custom outcome: %+v", c.Properties)
	}
	f.emu.AddFault(emukit.Fault{Match: emukit.Match{Path: "/calling/v1/dispositions"}, Status: http.StatusForbidden, Code: "MISSING_SCOPES"})
	s2, err := f.newConn(t).SignIn(ctx(t), agent, crm.SignInOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l = callLog("po-2")
	l.Outcome = "Demo booked"
	if res, err := s2.LogCalls(ctx(t), []crm.LogItem{item(l), item(callLog("po-3"))}); err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatal(err, res)
	}
	c2, _, _ := f.emu.CallByKey("po-2")
	c3, _, _ := f.emu.CallByKey("po-3")
	if _, ok := c2.Properties["hs_call_disposition"]; ok || !strings.Contains(c2.Properties["hs_call_body"], "Outcome: Demo booked") ||
		c3.Properties["hs_call_disposition"] != "f240bbac-87c9-4f6e-bf70-924b57d47db7" {
		t.Fatalf("without the portal's list: %+v / %+v", c2.Properties, c3.Properties)
	}
}
