//go:build unix && !darwin

package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/control"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/crm/webhook"
	labkeyring "github.com/callcentre/softphone/lab/keyring"
	"github.com/callcentre/softphone/secrets"
	"github.com/callcentre/softphone/sip/demopbx"
	"github.com/callcentre/softphone/store"
)

const (
	hookSecret = "whsec-0123456789abcdef0123456789"
	hookBearer = "bearer-token-for-the-receiver"
	hookID     = "wh-contact-1"
)

// hookReceiver is a webhook endpoint on 127.0.0.1 that behaves as the
// connector's contract asks: it checks the bearer token and the HMAC
// signature of every request, answers lookups of one number with a
// contact, fails the first delivery with a 503, and dedupes deliveries by
// Idempotency-Key (a repeated key gets 409 and is counted).
type hookReceiver struct {
	known string // the E.164 number the lookup knows

	mu         sync.Mutex
	lookupDown bool
	posts      int
	failed     int
	delivered  map[string]webhook.Payload
	repeats    int
	lookups    map[string]int
	violations []string
}

func (r *hookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	bad := func(format string, args ...any) {
		r.violations = append(r.violations, req.Method+" "+req.URL.Path+": "+fmt.Sprintf(format, args...))
		http.Error(w, "refused", http.StatusUnauthorized)
	}
	if err != nil {
		bad("body: %v", err)
		return
	}
	if got := req.Header.Get("Authorization"); got != "Bearer "+hookBearer {
		bad("authorization %q", got)
		return
	}
	if err := webhook.Verify([]byte(hookSecret), req.Header.Get(webhook.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
		bad("signature: %v", err)
		return
	}
	switch {
	case req.Method == http.MethodHead:
		return
	case req.Method == http.MethodGet && req.URL.Path == "/lookup":
		n := req.URL.Query().Get("phone")
		r.lookups[n]++
		if r.lookupDown {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if n == r.known {
			_ = json.NewEncoder(w).Encode([]map[string]string{{"id": hookID, "type": "contact", "name": "Alice Martin", "url": "https://crm.example/contacts/" + hookID}})
			return
		}
		_, _ = w.Write([]byte(`[]`))
		return
	case req.Method != http.MethodPost || req.URL.Path != "/calls":
		http.NotFound(w, req)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		bad("payload: %v", err)
		return
	}
	key := req.Header.Get(webhook.HeaderIdempotency)
	if key == "" || key != p.IdempotencyKey || req.Header.Get(webhook.HeaderAgent) != p.AgentID {
		bad("idempotency key %q for payload key %q, agent %q/%q", key, p.IdempotencyKey, req.Header.Get(webhook.HeaderAgent), p.AgentID)
		return
	}
	r.posts++
	if r.posts == 1 {
		r.failed++
		http.Error(w, "warming up", http.StatusServiceUnavailable)
		return
	}
	if _, dup := r.delivered[key]; dup {
		r.repeats++
		w.WriteHeader(http.StatusConflict)
		return
	}
	r.delivered[key] = p
	w.WriteHeader(http.StatusCreated)
}

func (r *hookReceiver) setLookupDown(down bool) {
	r.mu.Lock()
	r.lookupDown = down
	r.mu.Unlock()
}

func (r *hookReceiver) deliveredCopy() map[string]webhook.Payload {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]webhook.Payload, len(r.delivered))
	for k, v := range r.delivered {
		out[k] = v
	}
	return out
}

// TestDemoWithWebhook wires the generic webhook as the CRM of the demo
// app, with its signing secret and bearer token in a real Secret Service
// (a private gnome-keyring, see lab/keyring): caller ID comes from the
// webhook's lookup (and from the store's contact cache when the lookup
// fails), each call log is delivered through the outbox exactly once
// although the first delivery gets a 503, and the sign-out on a shared PC
// flushes the agent's logs.
func TestDemoWithWebhook(t *testing.T) {
	if !labkeyring.InChild() {
		e := labkeyring.Start(t)
		labkeyring.RunInChild(t, t.Name(), e.Vars)
		return
	}
	kr := secrets.New(secrets.WithService("softphone-app-test"))
	if err := kr.Check(); err != nil {
		t.Fatal(err)
	}
	known, other := demopbx.Contacts()[0], demopbx.Contacts()[2]
	rcv := &hookReceiver{known: known.Number, delivered: map[string]webhook.Payload{}, lookups: map[string]int{}}
	srv := httptest.NewServer(rcv) // 127.0.0.1
	t.Cleanup(srv.Close)
	hook := &webhook.Config{LogURL: srv.URL + "/calls", LookupURL: srv.URL + "/lookup?phone={e164}",
		NewRecordURL: "https://crm.example/new?phone={e164}", HTTPClient: &http.Client{Timeout: 5 * time.Second}}
	agentCfg := domain.DefaultConfig()
	agentCfg.WrapUpTime = 0
	agentCfg.LoginStatus = domain.Status{Presence: domain.PresenceAvailable}
	pops := &urlRecorder{}
	config := func() Config {
		return Config{
			DataDir: t.TempDir(), Demo: true, InstanceSocket: "off", AgentConfig: &agentCfg, ControlAddr: "127.0.0.1:0", ControlToken: e2eToken,
			DemoOptions: demopbx.Options{AnswerDelay: 150 * time.Millisecond},
			Logger:      quietLog(), Region: "GB", Secrets: kr, NoAudio: true, Webhook: hook, Opener: pops.open,
			OutboxOptions: []outbox.Option{outbox.WithPoll(100 * time.Millisecond), outbox.WithBackoff(20*time.Millisecond, 200*time.Millisecond)},
			FlushTimeout:  time.Minute,
		}
	}

	// Nothing in the keyring yet: Build says what is missing.
	if _, err := Build(context.Background(), config()); !errors.Is(err, ErrNoWebhookSecret) {
		t.Fatalf("build without the secret in the keyring: %v", err)
	}
	if err := SetWebhookSecrets(kr, "", hookSecret, hookBearer); err != nil {
		t.Fatal(err)
	}
	a, err := Build(context.Background(), config())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if a.Webhook == nil || a.Connector != a.Webhook || a.Salesforce != nil || a.Local != nil || a.CRM == nil || a.Outbox == nil {
		t.Fatal("webhook configured but not wired as the crm")
	}
	if err := a.Store.PutMachineSettings(store.MachineSettings{Shared: true}); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, a.ControlAddr)
	c.wait("initial state", func(s control.State) bool { return s.Agent.Status == "offline" }, false)
	c.post("/v1/login", map[string]string{"agent_id": "demo-agent", "name": "Demo Agent"})
	c.wait("available", func(s control.State) bool { return s.Agent.Status == "available" }, false)
	// The webhook has no interactive sign-in: SignInCRM just resumes.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for err := a.SignInCRM(ctx); err != nil; err = a.SignInCRM(ctx) {
		if err != ErrNotSignedIn || ctx.Err() != nil { // the watcher may not have seen the login yet
			t.Fatalf("webhook sign-in: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// call takes one inbound demo call from number, checks its caller ID
	// (recordID "" for no match), answers, hangs up and wraps up.
	call := func(number, name, recordID, notes string) string {
		t.Helper()
		if _, err := a.PBX.CallAgent(number); err != nil {
			t.Fatal(err)
		}
		s := c.wait("caller id of "+name, func(s control.State) bool {
			cl := callIn(s, func(c control.CallState) bool { return c.State == "offered" })
			return cl != nil && cl.Remote.Name == name && cl.Remote.Number == number && len(s.Interactions) == 1 &&
				s.Interactions[0].RecordID == recordID
		}, true)
		cl := callIn(s, func(c control.CallState) bool { return c.State == "offered" })
		c.post("/v1/calls/"+cl.ID+"/answer", nil)
		c.wait("answered", inState(cl.ID, "active"), true)
		c.post("/v1/calls/"+cl.ID+"/hangup", nil)
		c.wait("wrap-up", func(s control.State) bool {
			return len(s.Calls) == 0 && len(s.Interactions) == 1 && s.Interactions[0].Phase == "wrap-up"
		}, true)
		c.post("/v1/interactions/"+cl.Interaction+"/wrapup", map[string]any{"outcome": "Resolved", "notes": notes, "complete": true})
		c.wait("logged", func(s control.State) bool { return len(s.Interactions) == 0 && s.PendingLogs == 0 }, true)
		return cl.Interaction
	}
	waitDelivered := func(n int) map[string]webhook.Payload {
		t.Helper()
		deadline := time.Now().Add(40 * time.Second)
		for len(rcv.deliveredCopy()) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d logs delivered, want %d; outbox %+v", len(rcv.deliveredCopy()), n, a.Outbox.Status())
			}
			time.Sleep(20 * time.Millisecond)
		}
		return rcv.deliveredCopy()
	}

	// 1: the lookup knows the caller; the first delivery gets a 503 and
	// the outbox retries.
	k1 := call(known.Number, known.Name, hookID, "call 1")
	got := waitDelivered(1)
	p, ok := got[store.IdempotencyKey("demo-agent", k1, webhook.DefaultName)]
	if !ok || p.CallKey != k1 || p.AgentID != "demo-agent" || p.RecordID != hookID || p.Notes != "call 1" ||
		p.Outcome != "Resolved" || p.RemoteNumber != known.Number || p.Direction != "inbound" {
		t.Fatalf("delivered %+v", got)
	}
	if u := pops.all(); len(u) == 0 || u[0] != "https://crm.example/contacts/"+hookID {
		t.Fatalf("screen pops %q", u)
	}
	// 2: a caller the lookup does not know.
	k2 := call(other.Number, other.Name, "", "call 2")
	// 3: the lookup fails; the store's contact cache (filled by call 1)
	// still names the caller.
	rcv.setLookupDown(true)
	k3 := call(known.Number, known.Name, hookID, "call 3")
	rcv.setLookupDown(false)

	// Sign-out on a shared PC flushes the agent's logs first.
	c.post("/v1/logout", nil)
	c.wait("signed out", func(s control.State) bool { return s.Agent.Status == "offline" }, true)
	got = waitDelivered(3)
	profile, err := a.Store.Profile("demo-agent")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{k1, k2, k3} {
		p, ok := got[store.IdempotencyKey("demo-agent", k, webhook.DefaultName)]
		if !ok || p.CallKey != k {
			t.Fatalf("log of %s not delivered: %+v", k, got)
		}
		l, err := profile.CallLog(k)
		if err != nil {
			t.Fatal(err)
		}
		if want := k != k2; want != (l.Log.RecordID == hookID && len(l.Log.Matches) == 1 && l.Log.Matches[0].Type == "contact") {
			t.Fatalf("log %s: record %q matches %+v", k, l.Log.RecordID, l.Log.Matches)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := profile.CountTarget(webhook.DefaultName)
		if err != nil {
			t.Fatal(err)
		}
		if n.Queued == 0 && n.Dead == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox left %+v", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.violations) != 0 {
		t.Fatalf("receiver refused requests: %q", rcv.violations)
	}
	if len(rcv.delivered) != 3 || rcv.failed != 1 || rcv.repeats != 0 || rcv.posts != 4 {
		t.Fatalf("%d logs delivered in %d posts (%d failed, %d repeated), want 3 in 4 (1 failed, 0 repeated)",
			len(rcv.delivered), rcv.posts, rcv.failed, rcv.repeats)
	}
	if rcv.lookups[known.Number] != 2 || rcv.lookups[other.Number] != 1 {
		t.Fatalf("lookups %v", rcv.lookups)
	}
	if st := a.Outbox.Status(); st.Target != webhook.DefaultName || st.LastSuccess.IsZero() || slices.Contains(st.SignInNeeded, "demo-agent") {
		t.Fatalf("outbox status %+v", st)
	}
}
