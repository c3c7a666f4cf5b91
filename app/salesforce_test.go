package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/control"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/sfemu"
	"github.com/callcentre/softphone/secrets"
	"github.com/callcentre/softphone/sip/demopbx"
	"github.com/callcentre/softphone/store"
)

// urlRecorder is the screen-pop opener: it records URLs instead of
// starting a browser.
type urlRecorder struct {
	mu   sync.Mutex
	urls []string
}

func (r *urlRecorder) open(u string) error {
	r.mu.Lock()
	r.urls = append(r.urls, u)
	r.mu.Unlock()
	return nil
}

func (r *urlRecorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.urls...)
}

// TestDemoWithSalesforce wires the Salesforce connector (against the REST
// emulator over real HTTP) into the demo app: caller ID and the screen pop
// come from Salesforce, each call log is delivered by the outbox worker as
// exactly one Task, and on a shared PC the sign-out first flushes the
// agent's queued logs (delivered although the CRM was down during the
// call) and only then revokes the session.
func TestDemoWithSalesforce(t *testing.T) {
	emu := sfemu.New(sfemu.Config{})
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	customer := demopbx.Contacts()[0]
	first, last, _ := strings.Cut(customer.Name, " ")
	contactID, err := emu.Seed("Contact", sfemu.Record{"FirstName": first, "LastName": last, "Phone": customer.Number})
	if err != nil {
		t.Fatal(err)
	}
	user := emu.AddUser("demo@emu.test", "Demo Agent")
	emu.SetBrowserUser(user.ID)
	port, err := crmtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	keyring := crmtest.NewKeyring()
	pops := &urlRecorder{}
	cfg := domain.DefaultConfig()
	cfg.WrapUpTime = 0
	cfg.LoginStatus = domain.Status{Presence: domain.PresenceAvailable}
	a, err := Build(context.Background(), Config{
		DataDir: t.TempDir(), Demo: true, InstanceSocket: "off", AgentConfig: &cfg, ControlAddr: "127.0.0.1:0", ControlToken: e2eToken,
		DemoOptions: demopbx.Options{AnswerDelay: 150 * time.Millisecond},
		Logger:      quietLog(),
		Region:      "GB", NoAudio: true,
		Salesforce: &salesforce.Config{LoginURL: emu.URL(), ClientID: sfemu.DefaultClientID, Keyring: keyring,
			RedirectURL: fmt.Sprintf("http://localhost:%d/OauthRedirect", port), Opener: (&crmtest.Browser{}).Open,
			HTTPClient: &http.Client{Timeout: 5 * time.Second}, Location: time.UTC},
		Opener:        pops.open,
		OutboxOptions: []outbox.Option{outbox.WithPoll(100 * time.Millisecond), outbox.WithBackoff(20*time.Millisecond, 200*time.Millisecond)},
		FlushTimeout:  time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if a.Local != nil || a.CRM == nil || a.Outbox == nil {
		t.Fatal("salesforce configured but the local crm is the directory")
	}
	if err := a.SignInCRM(context.Background()); err != ErrNotSignedIn {
		t.Fatalf("crm sign-in before the agent's: %v", err)
	}
	if err := a.Store.PutMachineSettings(store.MachineSettings{Shared: true}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, a.ControlAddr)
	c.wait("initial state", func(s control.State) bool { return s.Agent.Status == "offline" }, false)
	c.post("/v1/login", map[string]string{"agent_id": "demo-agent", "name": "Demo Agent"})
	c.wait("available", func(s control.State) bool { return s.Agent.Status == "available" }, false)
	// No token in the keyring yet: the desk says the CRM needs a sign-in.
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if name, needed := a.CRMState(); name == "Salesforce" && needed {
			break
		}
		if time.Now().After(end) {
			name, needed := a.CRMState()
			t.Fatalf("crm state before the crm sign-in: %q %v", name, needed)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for err := a.SignInCRM(ctx); err != nil; err = a.SignInCRM(ctx) {
		if err != ErrNotSignedIn || ctx.Err() != nil { // the watcher may not have seen the login yet
			t.Fatalf("salesforce sign-in: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if name, needed := a.CRMState(); name != "Salesforce" || needed {
		t.Fatalf("crm state after the crm sign-in: %q %v", name, needed)
	}

	call := func(ix int) string {
		t.Helper()
		if _, err := a.PBX.CallAgent(customer.Number); err != nil {
			t.Fatal(err)
		}
		s := c.wait("caller matched in salesforce", func(s control.State) bool {
			cl := callIn(s, func(c control.CallState) bool { return c.State == "offered" })
			return cl != nil && cl.Remote.Name == customer.Name && len(s.Interactions) == 1 && s.Interactions[0].RecordID == contactID
		}, true)
		cl := callIn(s, func(c control.CallState) bool { return c.State == "offered" })
		c.post("/v1/calls/"+cl.ID+"/answer", nil)
		c.wait("answered", inState(cl.ID, "active"), true)
		c.post("/v1/calls/"+cl.ID+"/hangup", nil)
		c.wait("wrap-up", func(s control.State) bool {
			return len(s.Calls) == 0 && len(s.Interactions) == 1 && s.Interactions[0].Phase == "wrap-up"
		}, true)
		c.post("/v1/interactions/"+cl.Interaction+"/wrapup", map[string]any{"outcome": "Resolved", "notes": fmt.Sprint("call ", ix), "complete": true})
		c.wait("logged", func(s control.State) bool { return len(s.Interactions) == 0 && s.PendingLogs == 0 }, true)
		deadline := time.Now().Add(20 * time.Second)
		for len(pops.all()) < ix {
			if time.Now().After(deadline) {
				t.Fatalf("%d screen pops, want %d", len(pops.all()), ix)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if u := pops.all()[ix-1]; !strings.Contains(u, contactID) {
			t.Fatalf("screen pop %q does not open the contact", u)
		}
		return cl.Interaction
	}
	tasks := func() map[string]sfemu.Record {
		out := map[string]sfemu.Record{}
		for _, r := range emu.Records("Task") {
			k, _ := r[sfemu.DefaultExternalIDField].(string)
			out[k] = r
		}
		return out
	}
	waitTasks := func(n int) map[string]sfemu.Record {
		t.Helper()
		deadline := time.Now().Add(40 * time.Second)
		for len(tasks()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d tasks in salesforce, want %d; outbox %+v", len(tasks()), n, a.Outbox.Status())
			}
			time.Sleep(20 * time.Millisecond)
		}
		return tasks()
	}

	// The call log reaches Salesforce through the outbox, woken by the save.
	k1 := call(1)
	got := waitTasks(1)
	task, ok := got[store.IdempotencyKey("demo-agent", k1, salesforce.Name)]
	if !ok || task["WhoId"] != contactID || task["Description"] != "call 1" {
		t.Fatalf("task %+v", task)
	}

	// The CRM goes down for the next call (caller ID from the store's
	// contact cache); its log waits in the outbox.
	if err := emu.Stop(); err != nil {
		t.Fatal(err)
	}
	k2 := call(2)
	if n := len(tasks()); n != 1 {
		t.Fatalf("%d tasks while the crm is down", n)
	}
	// Sign-out on a shared PC: flush first (the CRM comes back meanwhile),
	// then revoke.
	c.post("/v1/logout", nil)
	c.wait("signed out", func(s control.State) bool { return s.Agent.Status == "offline" }, true)
	time.Sleep(300 * time.Millisecond)
	if _, err := keyring.Get("demo-agent", salesforce.Name, secrets.KindRefreshToken); err != nil {
		t.Fatalf("session revoked before the queued log was delivered: %v", err)
	}
	if err := emu.Restart(); err != nil {
		t.Fatal(err)
	}
	got = waitTasks(2)
	if _, ok := got[store.IdempotencyKey("demo-agent", k2, salesforce.Name)]; !ok || len(got) != 2 {
		t.Fatalf("tasks after the outage: %d", len(got))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := keyring.Get("demo-agent", salesforce.Name, secrets.KindRefreshToken)
		if err != nil {
			break // signed out of salesforce after the flush
		}
		if time.Now().After(deadline) {
			t.Fatal("shared-pc sign-out kept the salesforce tokens")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, n := range emu.TaskWrites() {
		if n != 1 {
			t.Fatalf("a task was written %d times", n)
		}
	}
}
