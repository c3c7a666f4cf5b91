package salesforce_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/sfemu"
	"github.com/callcentre/softphone/secrets"
)

type fixture struct {
	emu     *sfemu.Server
	conn    *salesforce.Connector
	keyring *crmtest.Keyring
	browser *crmtest.Browser
	cfg     salesforce.Config
}

func newFixture(t *testing.T, emuCfg sfemu.Config, mod func(*salesforce.Config)) *fixture {
	t.Helper()
	emu := sfemu.New(emuCfg)
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	port, err := crmtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{emu: emu, keyring: crmtest.NewKeyring(), browser: &crmtest.Browser{}}
	f.cfg = salesforce.Config{
		LoginURL:    emu.URL(),
		ClientID:    sfemu.DefaultClientID,
		RedirectURL: fmt.Sprintf("http://localhost:%d/OauthRedirect", port),
		SharedPC:    true,
		Keyring:     f.keyring,
		Opener:      f.browser.Open,
		HTTPClient:  &http.Client{Timeout: 5 * time.Second},
		FieldMap:    map[string]string{salesforce.FieldQueue: "CTI_Queue__c", salesforce.FieldRemoteNumber: "CTI_Number__c"},
		Location:    time.UTC,
		Logger:      slog.New(slog.DiscardHandler),
	}
	if mod != nil {
		mod(&f.cfg)
	}
	f.conn, err = salesforce.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) signIn(t *testing.T, agent string) crm.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := f.conn.SignIn(ctx, agent, crm.SignInOptions{})
	if err != nil {
		t.Fatalf("sign in: %v (browser: %v)", err, f.browser.Wait())
	}
	return s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func callLog(agent, key string) domain.CallLog {
	t0 := time.Date(2026, 5, 7, 15, 4, 5, 0, time.UTC)
	return domain.CallLog{Key: key, AgentID: agent, Direction: domain.DirectionInbound,
		Remote: domain.Party{Number: "+14155551212"}, Queue: "support", StartedAt: t0, AnsweredAt: t0.Add(5 * time.Second),
		EndedAt: t0.Add(5 * time.Minute), Talk: 312 * time.Second, Outcome: "Resolved", Notes: "invoice 1042"}
}

func TestSignInPKCELoopback(t *testing.T) {
	f := newFixture(t, sfemu.Config{}, nil)
	s := f.signIn(t, "alice")
	urls := f.browser.URLs()
	if len(urls) != 1 || !strings.Contains(urls[0], "code_challenge_method=S256") || !strings.Contains(urls[0], "code_challenge=") {
		t.Fatalf("authorize url without pkce: %v", urls)
	}
	if f.emu.LastPrompt() != "login" {
		t.Fatalf("shared pc sign-in did not force a fresh login: prompt=%q", f.emu.LastPrompt())
	}
	users := f.emu.Users()
	if id := s.Identity(); id.UserID != users[0].ID || id.Username != users[0].Username {
		t.Fatalf("identity %+v, want %+v", id, users[0])
	}
	for _, k := range []secrets.Kind{secrets.KindRefreshToken, secrets.KindAccessToken} {
		if v, err := f.keyring.Get("alice", "salesforce", k); err != nil || v == "" {
			t.Fatalf("%s not in keyring: %v", k, err)
		}
	}
	// A restarted app resumes from the keyring alone.
	conn2, err := salesforce.New(f.cfg)
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
	if _, err := conn2.Resume(ctx(t), "bob"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume of an agent never signed in: %v", err)
	}
}

func TestSignInRefusedAndWrongClient(t *testing.T) {
	f := newFixture(t, sfemu.Config{}, nil)
	f.emu.SetBrowserUser("") // the user cancels at the login page
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := f.conn.SignIn(c, "alice", crm.SignInOptions{}); !errors.Is(err, crm.ErrSignInCancelled) {
		t.Fatalf("denied sign-in: %v", err)
	}
	bad := f.cfg
	bad.ClientID = "nope"
	conn, _ := salesforce.New(bad)
	if _, err := conn.SignIn(c, "alice", crm.SignInOptions{Timeout: 2 * time.Second}); !errors.Is(err, crm.ErrSignInCancelled) {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestRefreshOnInvalidSessionAndRevoke(t *testing.T) {
	f := newFixture(t, sfemu.Config{}, nil)
	s := f.signIn(t, "alice")
	f.emu.ExpireAccessTokens()
	if _, err := s.LogCalls(ctx(t), []crm.LogItem{{Key: "k1", AgentID: "alice", Log: callLog("alice", "c1")}}); err != nil {
		t.Fatalf("log after session expiry: %v", err)
	}
	var statuses []int
	for _, r := range f.emu.Journal() {
		if strings.Contains(r.Path, "/sobjects/Task/") || strings.HasSuffix(r.Path, "/token") {
			statuses = append(statuses, r.Status)
		}
	}
	if fmt.Sprint(statuses) != "[200 401 200 201]" { // code exchange, expired, refresh, replay
		t.Fatalf("expected one refresh and one replay, journal statuses %v", statuses)
	}
	f.emu.RevokeRefreshTokens()
	_, err := s.LogCalls(ctx(t), []crm.LogItem{{Key: "k2", AgentID: "alice", Log: callLog("alice", "c2")}})
	if crm.KindOf(err) != crm.KindAuthRevoked || !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("revoked refresh token: %v", err)
	}
	if got := len(f.emu.Records("Task")); got != 1 {
		t.Fatalf("tasks: %d", got)
	}
}

func TestSignOutRevokes(t *testing.T) {
	f := newFixture(t, sfemu.Config{}, nil)
	s := f.signIn(t, "alice")
	if err := s.SignOut(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if f.keyring.Len() != 0 {
		t.Fatalf("tokens left in the keyring after sign-out")
	}
	if err := s.Health(ctx(t)); crm.KindOf(err) != crm.KindAuthRevoked {
		t.Fatalf("old session still works after revoke: %v", err)
	}
	if _, err := f.conn.Resume(ctx(t), "alice"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume after sign-out: %v", err)
	}
}

func TestLookupPhone(t *testing.T) {
	f := newFixture(t, sfemu.Config{PersonAccounts: true}, func(c *salesforce.Config) { c.PersonAccounts = true })
	ana, _ := f.emu.Seed("Contact", sfemu.Record{"FirstName": "Ana", "LastName": "Diaz", "Phone": "(415) 555-1212"})
	bo, _ := f.emu.Seed("Lead", sfemu.Record{"FirstName": "Bo", "LastName": "Lee", "Company": "Beta", "MobilePhone": "415.555.1212"})
	pa, _ := f.emu.Seed("Account", sfemu.Record{"Name": "Cy Person", "IsPersonAccount": true, "PersonMobilePhone": "+1 415 555 1212"})
	_, _ = f.emu.Seed("Lead", sfemu.Record{"LastName": "Converted", "Phone": "4155551212", "IsConverted": true})
	_, _ = f.emu.Seed("Contact", sfemu.Record{"LastName": "Other", "Phone": "+44 20 7946 0018"})
	_, _ = f.emu.Seed("Contact", sfemu.Record{"LastName": "Suffix", "Phone": "555-1212"}) // over-match the CRM makes
	s := f.signIn(t, "alice")
	p, err := crm.NewNormalizer("US").Parse("+1 (415) 555-1212")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.LookupPhone(ctx(t), p)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]domain.CRMRecord{}
	for _, r := range recs {
		got[r.ID] = r
	}
	if len(recs) != 3 || got[ana].Type != "Contact" || got[bo].Type != "Lead" || got[pa].Type != "PersonAccount" {
		t.Fatalf("matches %+v", recs)
	}
	if want := f.emu.URL() + "/lightning/r/Contact/" + ana + "/view"; got[ana].URL != want {
		t.Fatalf("url %q, want %q", got[ana].URL, want)
	}
	if want := f.emu.URL() + "/lightning/r/Account/" + pa + "/view"; got[pa].URL != want {
		t.Fatalf("person account url %q", got[pa].URL)
	}
	u, err := s.NewRecordURL(p)
	if err != nil || u != f.emu.URL()+"/lightning/o/Contact/new?defaultFieldValues=Phone%3D%2B14155551212" {
		t.Fatalf("new url %q %v", u, err)
	}
	none, _ := crm.NewNormalizer("US").Parse("+1 212 555 0000")
	if recs, err := s.LookupPhone(ctx(t), none); err != nil || len(recs) != 0 {
		t.Fatalf("no match: %v %v", recs, err)
	}
	byName, err := s.Search(ctx(t), "Ana D", 10)
	if err != nil || len(byName) != 1 || byName[0].ID != ana {
		t.Fatalf("name search: %v %v", byName, err)
	}
}

func TestLogCallsTaskShapeAndReadFirst(t *testing.T) {
	f := newFixture(t, sfemu.Config{}, nil)
	who, _ := f.emu.Seed("Contact", sfemu.Record{"LastName": "Diaz", "Phone": "4155551212"})
	s := f.signIn(t, "alice")
	l := callLog("alice", "c1")
	l.RecordID = who
	l.Matches = []domain.CRMRecord{{ID: who, Type: "Contact"}}
	res, err := s.LogCalls(ctx(t), []crm.LogItem{{Key: "key-1", AgentID: "alice", Log: l}})
	if err != nil || res[0].Err != nil || !res[0].Created {
		t.Fatalf("log: %+v %v", res, err)
	}
	tasks := f.emu.Records("Task")
	if len(tasks) != 1 {
		t.Fatalf("tasks %d", len(tasks))
	}
	task := tasks[0]
	want := map[string]any{"Subject": "Inbound call from +14155551212", "TaskSubtype": "Call", "CallType": "Inbound",
		"CallDurationInSeconds": float64(312), "CallDisposition": "Resolved", "CallObject": "c1", "ActivityDate": "2026-05-07",
		"Status": "Completed", "WhoId": who, "Description": "invoice 1042", "CTI_Call_Id__c": "key-1",
		"CTI_Queue__c": "support", "CTI_Number__c": "+14155551212", "OwnerId": f.emu.Users()[0].ID}
	for k, v := range want {
		if task[k] != v {
			t.Errorf("Task.%s = %v, want %v", k, task[k], v)
		}
	}
	// A replay of a possibly applied write reads first and never patches.
	res, err = s.LogCalls(ctx(t), []crm.LogItem{{Key: "key-1", AgentID: "alice", MayExist: true, Log: l}})
	if err != nil || res[0].Err != nil || res[0].Created || res[0].ID != task["Id"] {
		t.Fatalf("replay: %+v %v", res, err)
	}
	if w := f.emu.TaskWrites()[task["Id"].(string)]; w != 1 {
		t.Fatalf("task written %d times, want once", w)
	}
	// Another agent's log is never sent with this session.
	res, err = s.LogCalls(ctx(t), []crm.LogItem{{Key: "key-b", AgentID: "bob", Log: callLog("bob", "c9")}})
	if err != nil || !errors.Is(res[0].Err, crm.ErrWrongAgent) {
		t.Fatalf("cross-agent: %+v %v", res, err)
	}
}

func TestLogCallsCollections(t *testing.T) {
	f := newFixture(t, sfemu.Config{}, nil)
	gone, _ := f.emu.Seed("Contact", sfemu.Record{"LastName": "Gone", "Phone": "4155550000"})
	f.emu.Delete(gone)
	f.emu.AddValidationRule(sfemu.ValidationRule{Field: "Description", Contains: "REJECT", Message: "Call Result is required for outbound calls"})
	s := f.signIn(t, "alice")
	var items []crm.LogItem
	for i := range 450 {
		l := callLog("alice", fmt.Sprint("c", i))
		switch i {
		case 7:
			l.Notes = "REJECT me"
		case 9:
			l.RecordID = gone
		}
		items = append(items, crm.LogItem{Key: fmt.Sprint("k", i), AgentID: "alice", Log: l})
	}
	if _, err := s.LogCalls(ctx(t), items); err == nil {
		t.Fatal("more than 200 in one batch accepted")
	}
	for start := 0; start < len(items); start += salesforce.MaxBatch {
		end := min(start+salesforce.MaxBatch, len(items))
		res, err := s.LogCalls(ctx(t), items[start:end])
		if err != nil {
			t.Fatal(err)
		}
		for j, r := range res {
			i := start + j
			switch i {
			case 7:
				if crm.KindOf(r.Err) != crm.KindPermanent || crm.MessageOf(r.Err) != "FIELD_CUSTOM_VALIDATION_EXCEPTION: Call Result is required for outbound calls" {
					t.Fatalf("item 7: %+v", r)
				}
			case 9:
				if r.Err != nil || !r.Unassociated {
					t.Fatalf("item 9 (deleted contact): %+v", r)
				}
			default:
				if r.Err != nil || !r.Created {
					t.Fatalf("item %d: %+v", i, r)
				}
			}
		}
	}
	patches := 0
	for _, r := range f.emu.Journal() {
		if r.Method == http.MethodPatch {
			patches++
		}
	}
	if patches != 4 || len(f.emu.Records("Task")) != 449 { // 200+200+50, plus the unassociated retry
		t.Fatalf("patches %d tasks %d", patches, len(f.emu.Records("Task")))
	}
}

func TestErrorTaxonomy(t *testing.T) {
	tests := []struct {
		name  string
		fault sfemu.Fault
		want  crm.Kind
		wrote bool
	}{
		{"503 html", sfemu.Fault{Status: 503, Body: "<html>maintenance</html>"}, crm.KindTransient, false},
		{"daily limit", sfemu.Fault{Status: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED"}, crm.KindRateLimited, false},
		{"row lock", sfemu.Fault{Status: 400, ErrorCode: "UNABLE_TO_LOCK_ROW"}, crm.KindTransient, false},
		{"429 retry-after", sfemu.Fault{Status: 429}, crm.KindRateLimited, false},
		{"commit then drop", sfemu.Fault{CommitThenDrop: true}, crm.KindAmbiguous, true},
		{"truncated json", sfemu.Fault{TruncateBody: true}, crm.KindAmbiguous, true},
		{"drop before commit", sfemu.Fault{DropBeforeCommit: true}, crm.KindAmbiguous, false},
		{"slow response", sfemu.Fault{Latency: 1500 * time.Millisecond}, crm.KindAmbiguous, true},
		{"permission", sfemu.Fault{Status: 403, ErrorCode: "INSUFFICIENT_ACCESS_OR_READONLY", Message: "no access"}, crm.KindPermanent, false},
	}
	f := newFixture(t, sfemu.Config{}, func(c *salesforce.Config) { c.HTTPClient = &http.Client{Timeout: 700 * time.Millisecond} })
	s := f.signIn(t, "alice")
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.emu.ClearFaults()
			tt.fault.Match = sfemu.Match{Method: "PATCH", Path: "/sobjects/Task/*"}
			f.emu.AddFault(tt.fault)
			key := fmt.Sprint("tax-", i)
			res, err := s.LogCalls(ctx(t), []crm.LogItem{{Key: key, AgentID: "alice", Log: callLog("alice", key)}})
			if err == nil {
				err = res[0].Err // per-item refusal
			}
			if crm.KindOf(err) != tt.want {
				t.Fatalf("kind %v (%v), want %v", crm.KindOf(err), err, tt.want)
			}
			time.Sleep(tt.fault.Latency) // let a slow server finish its write
			exists := false
			for _, r := range f.emu.Records("Task") {
				exists = exists || r["CTI_Call_Id__c"] == key
			}
			if exists != tt.wrote {
				t.Fatalf("written %v, want %v", exists, tt.wrote)
			}
		})
	}
	f.emu.ClearFaults()
	_ = f.emu.Stop()
	// The first request may go out on a pooled connection the server
	// closed (ambiguous); once it has to dial, the CRM is offline.
	var err error
	for range 2 {
		_, err = s.LogCalls(ctx(t), []crm.LogItem{{Key: "down", AgentID: "alice", Log: callLog("alice", "down")}})
	}
	if crm.KindOf(err) != crm.KindOffline {
		t.Fatalf("crm down: %v", err)
	}
}
