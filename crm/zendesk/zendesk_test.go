package zendesk_test

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/emukit"
	"github.com/callcentre/softphone/crm/zendesk"
	"github.com/callcentre/softphone/crm/zendeskemu"
	"github.com/callcentre/softphone/secrets"
)

func TestNewRejectsIncompleteConfig(t *testing.T) {
	kr := crmtest.NewKeyring()
	good := zendesk.Config{Subdomain: "acme", ClientID: "c", Keyring: kr}
	if c, err := zendesk.New(good); err != nil || c.AuthorizeURL() != "https://acme.zendesk.com/oauth/authorizations/new" {
		t.Fatalf("good config: %v", err)
	}
	mapped := zendesk.Config{BaseURL: "https://support.acme.com/", ClientID: "c", Keyring: kr}
	if c, err := zendesk.New(mapped); err != nil || c.AuthorizeURL() != "https://support.acme.com/oauth/authorizations/new" {
		t.Fatalf("host-mapped config: %v", err)
	}
	for name, mod := range map[string]func(*zendesk.Config){
		"no subdomain":      func(c *zendesk.Config) { c.Subdomain = "" },
		"bad subdomain":     func(c *zendesk.Config) { c.Subdomain = "acme.zendesk.com/x" },
		"bad base url":      func(c *zendesk.Config) { c.BaseURL = "acme" },
		"no client id":      func(c *zendesk.Config) { c.ClientID = "" },
		"no keyring":        func(c *zendesk.Config) { c.Keyring = nil },
		"remote redirect":   func(c *zendesk.Config) { c.RedirectURL = "https://example.com/cb" },
		"redirect w/o port": func(c *zendesk.Config) { c.RedirectURL = "http://127.0.0.1/cb" },
		"access ttl":        func(c *zendesk.Config) { c.AccessTTL = time.Minute },
		"refresh ttl":       func(c *zendesk.Config) { c.RefreshTTL = 365 * 24 * time.Hour },
		"closed status":     func(c *zendesk.Config) { c.TicketStatus = "closed" },
	} {
		c := good
		mod(&c)
		if _, err := zendesk.New(c); !errors.Is(err, zendesk.ErrConfig) {
			t.Errorf("%s: err %v, want ErrConfig", name, err)
		}
	}
}

func TestSignInKeepsTokensInTheKeyringAndShowsTheUser(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	s := f.signIn(t, "alice")
	id := s.Identity()
	if want := f.emu.AgentID("u0001"); id.UserID == "" || id.UserID != itoa(want) {
		t.Fatalf("identity %+v, want user %d", id, want)
	}
	if id.Display != "Agent One" || id.Username != "agent1@emu.test" || id.OrgID != "127.0.0.1" {
		t.Fatalf("identity %+v", id)
	}
	for _, k := range []secrets.Kind{secrets.KindRefreshToken, secrets.KindAccessToken} {
		if v, err := f.keyring.Get("alice", zendesk.Name, k); err != nil || v == "" {
			t.Fatalf("%s not in the keyring: %v", k, err)
		}
	}
	for k, want := range map[string]string{"client_id": zendeskemu.DefaultClientID, "scope": "read write",
		"code_challenge_method": "S256", "response_type": "code"} {
		if got := f.emu.LastAuthorize(k); got != want {
			t.Errorf("authorize %s = %q, want %q", k, got, want)
		}
	}
	if f.emu.LastAuthorize("code_challenge") == "" {
		t.Error("no PKCE challenge")
	}
	var tokenBody string
	for _, r := range f.emu.Journal() {
		if r.Path == zendeskemu.TokenPath {
			tokenBody = r.Body
		}
	}
	if !strings.HasPrefix(tokenBody, "{") || !strings.Contains(tokenBody, `"grant_type":"authorization_code"`) ||
		strings.Contains(tokenBody, "expires_in") {
		t.Fatalf("token request is not the JSON Zendesk takes: %s", tokenBody)
	}
}

func TestConfiguredTokenLifetimesAreAskedFor(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, func(c *zendesk.Config) { c.AccessTTL, c.RefreshTTL = time.Hour, 14*24*time.Hour })
	s := f.signIn(t, "alice")
	f.emu.ExpireAccessTokens()
	if err := s.Health(ctx(t)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range f.emu.Journal() {
		if r.Path == zendeskemu.TokenPath {
			n++
			if !strings.Contains(r.Body, `"expires_in":"3600"`) || !strings.Contains(r.Body, `"refresh_token_expires_in":"1209600"`) {
				t.Fatalf("token request without the lifetimes: %s", r.Body)
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d token requests, want sign-in and refresh", n)
	}
}

func TestSignInRefusedByTheBrowserUser(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	f.emu.SetActive("u0001", false)
	_, err := f.conn.SignIn(ctx(t), "alice", crm.SignInOptions{Timeout: 30 * time.Second})
	if !errors.Is(err, crm.ErrSignInCancelled) {
		t.Fatalf("sign-in with a denied login: %v", err)
	}
	if f.keyring.Len() != 0 {
		t.Fatal("tokens kept after a failed sign-in")
	}
}

func itoa(n int64) string {
	return strconv.FormatInt(n, 10)
}

func TestResumeAfterRestartFromTheKeyring(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	f.emu.AddContact("Ada Lovelace", "+14155551212", "")
	f.signIn(t, "alice")
	// The app restarts: a new connector over the same keyring.
	c2 := f.newConn(t, f.cfg)
	s, err := c2.Resume(ctx(t), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if s.Identity().Display != "Agent One" {
		t.Fatalf("identity after resume: %+v", s.Identity())
	}
	recs, err := s.LookupPhone(ctx(t), phone(t, "+14155551212"))
	if err != nil || len(recs) != 1 {
		t.Fatalf("lookup after resume: %v %v", recs, err)
	}
	if _, err := c2.Resume(ctx(t), "bob"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume of an agent never signed in: %v", err)
	}
}

func TestResumeWhileZendeskIsDownReadsTheUserLater(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	f.signIn(t, "alice")
	if err := f.emu.Stop(); err != nil {
		t.Fatal(err)
	}
	c2 := f.newConn(t, f.cfg)
	s, err := c2.Resume(ctx(t), "alice")
	if err != nil {
		t.Fatalf("resume while offline must still give a session: %v", err)
	}
	_, err = s.LogCalls(ctx(t), []crm.LogItem{item("alice", "k-off", false, callLog("alice", "c1"))})
	kindIs(t, err, crm.KindOffline)
	if err := f.emu.Restart(); err != nil {
		t.Fatal(err)
	}
	if r := logOne(t, s, item("alice", "k-off", false, callLog("alice", "c1"))); r.Err != nil || !r.Created {
		t.Fatalf("log after the crm came back: %+v", r)
	}
	if s.Identity().Display != "Agent One" {
		t.Fatalf("identity not read: %+v", s.Identity())
	}
}

func TestExpiredTokenRotatesAndPersistsTheNewRefreshTokenFirst(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	s := f.signIn(t, "alice")
	rt1, _ := f.keyring.Get("alice", zendesk.Name, secrets.KindRefreshToken)
	f.emu.ExpireAccessTokens()
	if err := s.Health(ctx(t)); err != nil {
		t.Fatalf("request after expiry: %v", err)
	}
	rt2, _ := f.keyring.Get("alice", zendesk.Name, secrets.KindRefreshToken)
	if rt2 == "" || rt2 == rt1 {
		t.Fatal("the rotated refresh token is not in the keyring")
	}
	if n := f.emu.LiveRefreshTokens(); n != 1 {
		t.Fatalf("%d live refresh tokens, want 1 (rotation kills the old one)", n)
	}
}

// crashKeyring fails every write of an access token: the process "dies"
// after the rotated refresh token was persisted and before the new access
// token was kept or used.
type crashKeyring struct {
	*crmtest.Keyring
	crashed bool
}

func (k *crashKeyring) Set(agent, account string, kind secrets.Kind, v string) error {
	if kind == secrets.KindAccessToken {
		k.crashed = true
		return errors.New("process killed")
	}
	return k.Keyring.Set(agent, account, kind, v)
}

func TestCrashBetweenRotationAndUseKeepsTheAgentSignedIn(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	f.signIn(t, "alice")
	f.emu.ExpireAccessTokens()
	ck := &crashKeyring{Keyring: f.keyring}
	cfg := f.cfg
	cfg.Keyring = ck
	c := f.newConn(t, cfg)
	if _, err := c.Resume(ctx(t), "alice"); err != nil || !ck.crashed {
		t.Fatalf("the refresh should have died while keeping the access token: %v", err)
	}
	// The process is dead from here on: nothing more runs with c.
	// Restart with what the keyring holds: the rotated refresh token.
	c2 := f.newConn(t, f.cfg)
	s2, err := c2.Resume(ctx(t), "alice")
	if err != nil {
		t.Fatalf("resume after the crash: %v", err)
	}
	if err := s2.Health(ctx(t)); err != nil {
		t.Fatalf("the agent was signed out by a crash after rotation: %v", err)
	}
}

func TestRevokedSignInRequiresSignInAndClearsTheKeyring(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	s := f.signIn(t, "alice")
	f.emu.RevokeRefreshTokens()
	_, err := s.LookupPhone(ctx(t), phone(t, "+14155551212"))
	if !errors.Is(err, crm.ErrSignInRequired) || crm.KindOf(err) != crm.KindAuthRevoked {
		t.Fatalf("lookup with a revoked grant: %v (kind %v)", err, crm.KindOf(err))
	}
	if f.keyring.Len() != 0 {
		t.Fatal("dead tokens left in the keyring")
	}
	if _, err := f.conn.Resume(ctx(t), "alice"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume after revocation: %v", err)
	}
	res, err := s.LogCalls(ctx(t), []crm.LogItem{item("alice", "k1", false, callLog("alice", "c1"))})
	if !errors.Is(err, crm.ErrSignInRequired) || res != nil {
		t.Fatalf("log with a revoked grant: %v %v", res, err)
	}
	if n := len(f.emu.Tickets()); n != 0 {
		t.Fatalf("%d tickets written with a revoked grant", n)
	}
}

func TestLookupVerifiesAndRanksMatches(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	a := f.emu.AddContact("Ada Exact", "+14155551212", "ada@example.com")
	b := f.emu.AddContact("Bob Formatted", "(415) 555-1212", "")
	c := f.emu.AddContact("Cy National", "+44 4155551212", "")
	f.emu.AddContact("Dee Decoy", "5551212", "") // the search over-matches by suffix
	f.emu.AddContact("Eve Other", "+14155550000", "")
	s := f.signIn(t, "alice")

	recs, err := s.LookupPhone(ctx(t), phone(t, "+1 (415) 555-1212"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
		if r.Type != zendesk.TypeUser || !strings.HasSuffix(r.URL, "/agent/users/"+r.ID) {
			t.Errorf("record %+v", r)
		}
	}
	want := []string{itoa(a.ID), itoa(b.ID), itoa(c.ID)}
	if !slices.Equal(ids, want) {
		t.Fatalf("matches %v, want %v (exact first, decoy dropped)", ids, want)
	}
	one, err := s.LookupPhone(ctx(t), phone(t, "+14155550000"))
	if err != nil || len(one) != 1 || one[0].Name != "Eve Other" {
		t.Fatalf("single match: %v %v", one, err)
	}
	none, err := s.LookupPhone(ctx(t), phone(t, "+12125550199"))
	if err != nil || len(none) != 0 {
		t.Fatalf("no match: %v %v", none, err)
	}
	for _, r := range f.emu.Journal() {
		if r.Path == "/api/v2/users/search.json" && !strings.Contains(r.Query, "phone") {
			t.Fatalf("lookup query without phone: %s", r.Query)
		}
	}
}

func TestSearchFreeText(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	f.emu.AddContact("Ada Lovelace", "+14155551212", "ada@example.com")
	f.emu.AddContact("Charles Babbage", "+14155550001", "")
	s := f.signIn(t, "alice")
	recs, err := s.Search(ctx(t), "lovelace", 10)
	if err != nil || len(recs) != 1 || recs[0].Name != "Ada Lovelace" {
		t.Fatalf("search: %v %v", recs, err)
	}
	if recs, err := s.Search(ctx(t), `name:"x" phone:1`, 10); err != nil || len(recs) != 0 {
		t.Fatalf("search syntax in free text: %v %v", recs, err)
	}
	if recs, err := s.Search(ctx(t), "a", 10); err != nil || recs != nil {
		t.Fatalf("one letter: %v %v", recs, err)
	}
}

func TestLogCallWritesOneTicketWithTheMappedFields(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, func(c *zendesk.Config) { c.CallKeyFieldID = 360001 })
	ada := f.emu.AddContact("Ada Lovelace", "+14155551212", "")
	s := f.signIn(t, "alice")
	l := callLog("alice", "c1")
	l.Matches = []domain.CRMRecord{{ID: itoa(ada.ID), Type: zendesk.TypeUser, Name: "Ada Lovelace"}}
	l.RecordID = itoa(ada.ID)
	r := logOne(t, s, item("alice", "key-1", false, l))
	if r.Err != nil || !r.Created || r.ID == "" {
		t.Fatalf("first log: %+v", r)
	}
	tks := f.emu.TicketsByExternalID("key-1")
	if len(tks) != 1 {
		t.Fatalf("%d tickets", len(tks))
	}
	tk := tks[0]
	agent := f.emu.AgentID("u0001")
	if itoa(tk.ID) != r.ID || tk.RequesterID != ada.ID || tk.AssigneeID == nil || *tk.AssigneeID != agent ||
		tk.SubmitterID != agent || tk.Status != "solved" || tk.IdempotencyKey != "key-1" {
		t.Fatalf("ticket %+v", tk)
	}
	if tk.Subject != "Inbound call from +14155551212" || tk.CommentPublic {
		t.Fatalf("subject %q, public comment %v", tk.Subject, tk.CommentPublic)
	}
	for _, want := range []string{"Inbound call", "From: +14155551212 (Ada Lovelace)", "Dialed number: +18005550100",
		"Queue: Support", "Started: 2026-05-07T09:30:00Z", "Talk time: 0:03:05", "Hold time: 0:00:20",
		"Outcome: Resolved", "Recording: https://rec.example/r/1.wav", "Call key: key-1", "asked about the invoice"} {
		if !strings.Contains(tk.Comment, want) {
			t.Errorf("comment lacks %q:\n%s", want, tk.Comment)
		}
	}
	if !slices.Equal(tk.Tags, []string{"softphone", "phone_call", "inbound_call"}) {
		t.Errorf("tags %v", tk.Tags)
	}
	if len(tk.CustomFields) != 1 || tk.CustomFields[0].ID != 360001 || tk.CustomFields[0].Value != "key-1" {
		t.Errorf("custom fields %+v", tk.CustomFields)
	}
	// The same log again: Zendesk answers the original ticket.
	r2 := logOne(t, s, item("alice", "key-1", false, l))
	if r2.Err != nil || r2.Created || r2.ID != r.ID {
		t.Fatalf("replay: %+v", r2)
	}
	if n := len(f.emu.Tickets()); n != 1 {
		t.Fatalf("%d tickets after a replay", n)
	}
}

func TestOutboundAndMissedCalls(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, func(c *zendesk.Config) { c.Tags = []string{}; c.TicketStatus = "open" })
	s := f.signIn(t, "alice")
	out := callLog("alice", "o")
	out.Direction, out.Remote = domain.DirectionOutbound, domain.Party{Number: "+14155550001"}
	missed := callLog("alice", "m")
	missed.Missed, missed.AnsweredAt, missed.Talk, missed.Notes = true, time.Time{}, 0, ""
	for key, l := range map[string]domain.CallLog{"k-out": out, "k-missed": missed} {
		if r := logOne(t, s, item("alice", key, false, l)); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	o := f.emu.TicketsByExternalID("k-out")[0]
	m := f.emu.TicketsByExternalID("k-missed")[0]
	if o.Subject != "Outbound call to +14155550001" || !strings.Contains(o.Comment, "To: +14155550001") ||
		!slices.Equal(o.Tags, []string{"outbound_call"}) || o.Status != "open" {
		t.Errorf("outbound %+v %q", o, o.Comment)
	}
	if m.Subject != "Missed call from +14155551212" || !slices.Equal(m.Tags, []string{"missed_call"}) || m.RequesterID != *m.AssigneeID {
		t.Errorf("missed %+v", m)
	}
}

func TestMayExistReadsBeforeWritingAfterTheIdempotencyWindow(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	s := f.signIn(t, "alice")
	first := logOne(t, s, item("alice", "k1", false, callLog("alice", "c1")))
	f.emu.ExpireIdempotencyKeys()
	r := logOne(t, s, item("alice", "k1", true, callLog("alice", "c1")))
	if r.Err != nil || r.Created || r.ID != first.ID {
		t.Fatalf("may-exist replay: %+v (first %+v)", r, first)
	}
	if n := len(f.emu.Tickets()); n != 1 {
		t.Fatalf("%d tickets", n)
	}
	// May exist but does not: written.
	if r := logOne(t, s, item("alice", "k2", true, callLog("alice", "c2"))); r.Err != nil || !r.Created {
		t.Fatalf("may-exist, absent: %+v", r)
	}
}

func TestSameKeyWithAnotherPayloadIsFoundByExternalID(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	s := f.signIn(t, "alice")
	first := logOne(t, s, item("alice", "k1", false, callLog("alice", "c1")))
	// An admin changed the tags since: the replay's payload differs.
	cfg := f.cfg
	cfg.Tags = []string{"changed"}
	s2, err := f.newConn(t, cfg).Resume(ctx(t), "alice")
	if err != nil {
		t.Fatal(err)
	}
	r := logOne(t, s2, item("alice", "k1", false, callLog("alice", "c1")))
	if r.Err != nil || r.Created || r.ID != first.ID {
		t.Fatalf("replay with another payload: %+v", r)
	}
	if n := len(f.emu.Tickets()); n != 1 {
		t.Fatalf("%d tickets", n)
	}
}

func TestDeletedRequesterLogsUnassociated(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	ada := f.emu.AddContact("Ada Lovelace", "+14155551212", "")
	s := f.signIn(t, "alice")
	f.emu.DeleteUser(ada.ID)
	l := callLog("alice", "c1")
	l.RecordID = itoa(ada.ID)
	r := logOne(t, s, item("alice", "k1", false, l))
	if r.Err != nil || !r.Unassociated || !r.Created {
		t.Fatalf("stale requester: %+v", r)
	}
	tks := f.emu.TicketsByExternalID("k1")
	if len(tks) != 1 || tks[0].RequesterID != f.emu.AgentID("u0001") {
		t.Fatalf("tickets %+v", tks)
	}
}

func TestWrongAgentAndMissingKeyAreRefusedPerItem(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	s := f.signIn(t, "alice")
	r := logOne(t, s, item("bob", "k1", false, callLog("bob", "c1")))
	if !errors.Is(r.Err, crm.ErrWrongAgent) {
		t.Fatalf("another agent's log: %+v", r)
	}
	r = logOne(t, s, item("alice", "", false, callLog("alice", "c1")))
	kindIs(t, r.Err, crm.KindPermanent)
	if _, err := s.LogCalls(ctx(t), make([]crm.LogItem, 2)); err == nil {
		t.Fatal("two logs in one request accepted")
	}
	if n := len(f.emu.Tickets()); n != 0 {
		t.Fatalf("%d tickets", n)
	}
}

func writeFault(f emukit.Fault) emukit.Fault {
	f.Match = emukit.Match{Method: http.MethodPost, Path: "/api/v2/tickets.json"}
	return f
}

func TestErrorsAreClassified(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	s := f.signIn(t, "alice")
	send := func() ([]crm.LogResult, error) {
		return s.LogCalls(ctx(t), []crm.LogItem{item("alice", "k1", false, callLog("alice", "c1"))})
	}

	f.emu.AddFault(writeFault(emukit.Fault{Status: 429, Header: map[string]string{"Retry-After": "7"}}))
	_, err := send()
	if e := kindIs(t, err, crm.KindRateLimited); e.RetryAfter != 7*time.Second {
		t.Fatalf("retry after %v", e.RetryAfter)
	}

	f.emu.AddFault(writeFault(emukit.Fault{Status: 409}))
	_, err = send()
	kindIs(t, err, crm.KindTransient)

	f.emu.AddFault(writeFault(emukit.Fault{Status: 503, Body: "<html>maintenance</html>"}))
	_, err = send()
	kindIs(t, err, crm.KindAmbiguous)

	f.emu.AddFault(writeFault(emukit.Fault{Status: 422, Code: "RecordInvalid", Message: "Subject: is too long"}))
	res, err := send()
	if err != nil {
		t.Fatal(err)
	}
	if e := kindIs(t, res[0].Err, crm.KindPermanent); e.Code != "RecordInvalid" || !strings.Contains(crm.MessageOf(res[0].Err), "Subject: is too long") {
		t.Fatalf("422: %+v", e)
	}

	f.emu.AddFault(writeFault(emukit.Fault{Status: 403, Code: "Forbidden", Message: "You do not have access"}))
	res, err = send()
	if err != nil {
		t.Fatal(err)
	}
	kindIs(t, res[0].Err, crm.KindPermanent)

	// Garbage where the created ticket should be: it may exist.
	f.emu.AddFault(writeFault(emukit.Fault{Status: 201, Body: "<html>oops"}))
	_, err = send()
	kindIs(t, err, crm.KindAmbiguous)
	f.emu.AddFault(writeFault(emukit.Fault{TruncateBody: true}))
	_, err = send()
	kindIs(t, err, crm.KindAmbiguous)
	// A reset after the commit: net/http replays a request carrying an
	// Idempotency-Key on a reused connection by itself, and Zendesk answers
	// the original ticket; otherwise the loss is ambiguous.
	f.emu.AddFault(writeFault(emukit.Fault{CommitThenDrop: true}))
	if res, err = send(); err != nil {
		kindIs(t, err, crm.KindAmbiguous)
	} else if res[0].Err != nil || res[0].Created {
		t.Fatalf("commit then drop: %+v", res[0])
	}

	// Reads: garbage and 5xx are transient, never "no match".
	read := emukit.Match{Method: http.MethodGet, Path: "/api/v2/users/search.json"}
	f.emu.AddFault(emukit.Fault{Match: read, Status: 200, Body: "{{{"})
	_, err = s.LookupPhone(ctx(t), phone(t, "+14155551212"))
	kindIs(t, err, crm.KindTransient)
	f.emu.AddFault(emukit.Fault{Match: read, Status: 500})
	_, err = s.LookupPhone(ctx(t), phone(t, "+14155551212"))
	kindIs(t, err, crm.KindTransient)

	// Every write that reached Zendesk left exactly one ticket.
	if n := len(f.emu.TicketsByExternalID("k1")); n != 1 {
		t.Fatalf("%d tickets for one key", n)
	}
	if r := logOne(t, s, item("alice", "k1", true, callLog("alice", "c1"))); r.Err != nil || r.Created {
		t.Fatalf("final replay: %+v", r)
	}
}

func TestSignOutRevokesAtZendeskAndClearsTheKeyring(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	s := f.signIn(t, "alice")
	if err := s.SignOut(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if f.keyring.Len() != 0 {
		t.Fatal("tokens left in the keyring")
	}
	if n := f.emu.LiveRefreshTokens(); n != 0 {
		t.Fatalf("%d live refresh tokens after sign-out", n)
	}
	if _, err := f.conn.Resume(ctx(t), "alice"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume after sign-out: %v", err)
	}
	// Signing out while Zendesk is down still clears the keyring.
	s = f.signIn(t, "alice")
	_ = f.emu.Stop()
	if err := s.SignOut(ctx(t)); err == nil {
		t.Fatal("revoke while offline reported success")
	}
	if f.keyring.Len() != 0 {
		t.Fatal("tokens left in the keyring after an offline sign-out")
	}
}

func TestServerSidePop(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, func(c *zendesk.Config) { c.TalkDisplay = true })
	ada := f.emu.AddContact("Ada Lovelace", "+14155551212", "")
	s := f.signIn(t, "alice")
	rec := domain.CRMRecord{ID: itoa(ada.ID), Type: zendesk.TypeUser}
	if ok, err := s.PopRecord(ctx(t), rec); ok || err != nil {
		t.Fatalf("without Talk Partner Edition: %v %v", ok, err)
	}
	f.emu.SetTalkPartnerEdition(true)
	if ok, err := s.PopRecord(ctx(t), rec); ok || err != nil {
		t.Fatalf("agent without an open Zendesk tab: %v %v", ok, err)
	}
	agent := f.emu.AgentID("u0001")
	f.emu.SetAgentOnline(agent, true)
	if ok, err := s.PopRecord(ctx(t), rec); !ok || err != nil {
		t.Fatalf("pop: %v %v", ok, err)
	}
	pops := f.emu.Pops()
	if len(pops) != 1 || pops[0].AgentID != agent || pops[0].UserID != ada.ID {
		t.Fatalf("pops %+v", pops)
	}
	r := logOne(t, s, item("alice", "k1", false, callLog("alice", "c1")))
	if ok, err := s.PopRecord(ctx(t), domain.CRMRecord{ID: r.ID, Type: zendesk.TypeTicket}); !ok || err != nil {
		t.Fatalf("ticket pop: %v %v", ok, err)
	}
	f.emu.AddFault(emukit.Fault{Match: emukit.Match{Path: "/api/v2/channels/*"}, Status: 500})
	if ok, err := s.PopRecord(ctx(t), rec); ok || crm.KindOf(err) != crm.KindTransient {
		t.Fatalf("pop answered 500: %v %v", ok, err)
	}
	// Without TalkDisplay no request is made.
	g := newFixture(t, zendeskemu.Config{TalkPartnerEdition: true}, nil)
	s2 := g.signIn(t, "alice")
	before := len(g.emu.Journal())
	if ok, err := s2.PopRecord(ctx(t), rec); ok || err != nil || len(g.emu.Journal()) != before {
		t.Fatalf("pop with TalkDisplay off: %v %v", ok, err)
	}
}

func TestURLs(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	s := f.signIn(t, "alice")
	base := f.emu.URL()
	for _, tc := range []struct {
		rec  domain.CRMRecord
		want string
	}{
		{domain.CRMRecord{ID: "42", Type: zendesk.TypeUser}, base + "/agent/users/42"},
		{domain.CRMRecord{ID: "42"}, base + "/agent/users/42"},
		{domain.CRMRecord{ID: "7", Type: zendesk.TypeTicket}, base + "/agent/tickets/7"},
		{domain.CRMRecord{ID: "9", Type: zendesk.TypeOrganization}, base + "/agent/organizations/9"},
	} {
		if got, err := s.RecordURL(tc.rec); err != nil || got != tc.want {
			t.Errorf("%+v: %q %v", tc.rec, got, err)
		}
	}
	if _, err := s.RecordURL(domain.CRMRecord{ID: "../x"}); err == nil {
		t.Error("bad id accepted")
	}
	if u, err := s.NewRecordURL(phone(t, "+14155551212")); err != nil || u != base+"/agent/search/1?q=%2B14155551212" {
		t.Errorf("new record url %q %v", u, err)
	}
	if _, err := s.NewRecordURL(crm.Phone{}); !errors.Is(err, crm.ErrInvalidNumber) {
		t.Errorf("new record url without a number: %v", err)
	}
}

// flakyKeyring refuses the first write of an access token (a keyring
// that is busy or locked for a moment).
type flakyKeyring struct {
	*crmtest.Keyring
	failed bool
}

func (k *flakyKeyring) Set(agent, account string, kind secrets.Kind, v string) error {
	if kind == secrets.KindAccessToken && !k.failed {
		k.failed = true
		return errors.New("keyring busy")
	}
	return k.Keyring.Set(agent, account, kind, v)
}

func TestKeyringFailureAfterRotationDoesNotSignTheAgentOut(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	f.signIn(t, "alice")
	fk := &flakyKeyring{Keyring: f.keyring}
	cfg := f.cfg
	cfg.Keyring = fk
	s, err := f.newConn(t, cfg).Resume(ctx(t), "alice")
	if err != nil {
		t.Fatal(err)
	}
	f.emu.ExpireAccessTokens()
	if err := s.Health(ctx(t)); err == nil || !fk.failed {
		t.Fatalf("the keyring failure should fail this request: %v", err)
	}
	// The same session goes on: it must use the rotated refresh token.
	if err := s.Health(ctx(t)); err != nil {
		t.Fatalf("signed out by a keyring hiccup after rotation: %v", err)
	}
	if f.keyring.Len() != 2 {
		t.Fatalf("keyring holds %d secrets", f.keyring.Len())
	}
}
