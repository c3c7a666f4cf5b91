package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/agenttest"
	"github.com/callcentre/softphone/agent/domain"
)

const (
	testToken  = "test-token-0123456789abcdef"
	crmOrigin  = "https://acme.my.salesforce.com"
	evilOrigin = "https://premium-rate.example"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newCore starts a real agent over recording fakes.
func newCore(t *testing.T) (*agent.Agent, *agenttest.Recorder) {
	t.Helper()
	rec := agenttest.NewRecorder()
	tel, med, cl, dir := rec.Ports()
	a := agent.New(agent.Ports{Telephony: tel, Media: med, CallLog: cl, Directory: dir}, agent.WithLogger(quiet()), agent.WithInvariantChecks(true))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return a, rec
}

func newServer(t *testing.T, a *agent.Agent) *Server {
	t.Helper()
	cfg := domain.DefaultConfig()
	cfg.LoginStatus = domain.Status{Presence: domain.PresenceAvailable}
	cfg.WrapUpTime = 0
	s, err := New(a, Options{Token: testToken, AllowedOrigins: []string{crmOrigin + "/"}, Logger: quiet(),
		Config: func(string) domain.Config { return cfg }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

type reqOpt func(*http.Request)

func withRemote(addr string) reqOpt { return func(r *http.Request) { r.RemoteAddr = addr } }
func withHost(h string) reqOpt      { return func(r *http.Request) { r.Host = h } }
func withOrigin(o string) reqOpt    { return func(r *http.Request) { r.Header.Set("Origin", o) } }
func withAuth(v string) reqOpt      { return func(r *http.Request) { r.Header.Set("Authorization", v) } }
func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }
func noAuth() reqOpt                { return func(r *http.Request) { r.Header.Del("Authorization") } }
func do(t *testing.T, s *Server, method, path, body string, opts ...reqOpt) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "http://127.0.0.1:47811"+path, strings.NewReader(body))
	r.RemoteAddr = "127.0.0.1:50000"
	r.Header.Set("Authorization", "Bearer "+testToken)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(r)
	}
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, r)
	return w
}

func TestRefusals(t *testing.T) {
	a, rec := newCore(t)
	s := newServer(t, a)
	dial := `{"number":"+44 20 7946 0018"}`
	cases := []struct {
		name string
		opts []reqOpt
		code int
	}{
		{"non-loopback peer", []reqOpt{withRemote("192.0.2.7:41000")}, http.StatusForbidden},
		{"non-loopback ipv6 peer", []reqOpt{withRemote("[2001:db8::1]:41000")}, http.StatusForbidden},
		{"garbage peer address", []reqOpt{withRemote("nonsense")}, http.StatusForbidden},
		{"dns rebinding host", []reqOpt{withHost("attacker.example:47811")}, http.StatusForbidden},
		{"missing token", []reqOpt{noAuth()}, http.StatusUnauthorized},
		{"wrong token", []reqOpt{withAuth("Bearer not-the-token")}, http.StatusUnauthorized},
		{"basic auth scheme", []reqOpt{withAuth("Basic " + testToken)}, http.StatusUnauthorized},
		{"token only in the query", []reqOpt{noAuth(), func(r *http.Request) { r.URL.RawQuery = "access_token=" + testToken }}, http.StatusUnauthorized},
		{"foreign origin with a valid token", []reqOpt{withOrigin(evilOrigin)}, http.StatusForbidden},
		{"allowed origin over plain http", []reqOpt{withOrigin("http://acme.my.salesforce.com")}, http.StatusForbidden},
		{"allowed origin as a suffix", []reqOpt{withOrigin("https://acme.my.salesforce.com.evil.example")}, http.StatusForbidden},
		{"null origin", []reqOpt{withOrigin("null")}, http.StatusForbidden},
		{"allowed origin without token", []reqOpt{withOrigin(crmOrigin), noAuth()}, http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := do(t, s, http.MethodPost, "/v1/calls", dial, c.opts...)
			if w.Code != c.code {
				t.Fatalf("status %d, want %d: %s", w.Code, c.code, w.Body)
			}
			var e errorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("no error message: %q", w.Body)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); c.code == http.StatusForbidden && got != "" {
				t.Fatalf("refused request allowed origin %q", got)
			}
		})
	}
	if err := a.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, c := range rec.Calls() {
		if strings.HasPrefix(c, "Dial") {
			t.Fatalf("a refused request dialled: %q", c)
		}
	}
}

func TestAllowedRequests(t *testing.T) {
	a, rec := newCore(t)
	s := newServer(t, a)
	if w := do(t, s, http.MethodPost, "/v1/login", `{"agent_id":"ag1"}`); w.Code != http.StatusAccepted {
		t.Fatalf("login %d %s", w.Code, w.Body)
	}
	_ = a.Post(domain.RegistrationChanged{State: domain.RegRegistered})
	for _, host := range []string{"localhost:47811", "[::1]:47811", "127.0.0.1"} {
		if w := do(t, s, http.MethodGet, "/v1/state", "", withHost(host), withRemote("[::1]:5000")); w.Code != http.StatusOK {
			t.Fatalf("state via host %s: %d %s", host, w.Code, w.Body)
		}
	}
	w := do(t, s, http.MethodPost, "/v1/calls", `{"number":"tel:+44-20-7946-0018"}`, withOrigin(crmOrigin))
	if w.Code != http.StatusAccepted {
		t.Fatalf("dial %d %s", w.Code, w.Body)
	}
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != crmOrigin {
		t.Fatalf("allow-origin %q", got)
	}
	var res map[string]string
	_ = json.Unmarshal(w.Body.Bytes(), &res)
	if res["target"] != "+442079460018" || res["id"] == "" {
		t.Fatalf("dial answer %v", res)
	}
	rec.WaitFor(t, "Dial "+res["id"]+" +442079460018", 10*time.Second)
	// The call is known to the very next request (read your writes).
	if w := do(t, s, http.MethodPost, "/v1/calls/"+res["id"]+"/hangup", ""); w.Code != http.StatusAccepted {
		t.Fatalf("hangup %d %s", w.Code, w.Body)
	}
}

func TestBadInput(t *testing.T) {
	a, _ := newCore(t)
	s := newServer(t, a)
	cases := []struct{ name, method, path, body string }{
		{"garbage json", "POST", "/v1/calls", `{"number":`},
		{"unknown field", "POST", "/v1/calls", `{"number":"201","x":1}`},
		{"trailing data", "POST", "/v1/calls", `{"number":"201"}{}`},
		{"invalid number", "POST", "/v1/calls", `{"number":"call me"}`},
		{"empty number", "POST", "/v1/calls", `{"number":""}`},
		{"bad status", "POST", "/v1/status", `{"status":"sleeping"}`},
		{"break without reason", "POST", "/v1/status", `{"status":"break"}`},
		{"login without id", "POST", "/v1/login", `{}`},
		{"bad dtmf", "POST", "/v1/calls/x/dtmf", `{"digits":"12x"}`},
		{"huge body", "POST", "/v1/calls", `{"number":"` + strings.Repeat("1", maxBody) + `"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if w := do(t, s, c.method, c.path, c.body); w.Code != http.StatusBadRequest {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
		})
	}
	if w := do(t, s, "POST", "/v1/calls/nope/answer", ""); w.Code != http.StatusNotFound {
		t.Fatalf("unknown call: %d", w.Code)
	}
	if w := do(t, s, "POST", "/v1/interactions/nope/wrapup", `{"complete":true}`); w.Code != http.StatusNotFound {
		t.Fatalf("unknown interaction: %d", w.Code)
	}
	if w := do(t, s, "POST", "/v1/calls", `{"number":"201"}`, withHeader("Content-Type", "text/plain")); w.Code != http.StatusBadRequest {
		t.Fatalf("text/plain body: %d", w.Code)
	}
}

func TestPreflight(t *testing.T) {
	a, _ := newCore(t)
	s := newServer(t, a)
	pre := func(origin, method, headers string) *httptest.ResponseRecorder {
		return do(t, s, http.MethodOptions, "/v1/calls", "", noAuth(), withOrigin(origin),
			withHeader("Access-Control-Request-Method", method), withHeader("Access-Control-Request-Headers", headers),
			withHeader("Access-Control-Request-Private-Network", "true"))
	}
	w := pre(crmOrigin, "POST", "authorization, content-type")
	if w.Code != http.StatusNoContent {
		t.Fatalf("preflight %d %s", w.Code, w.Body)
	}
	h := w.Header()
	if h.Get("Access-Control-Allow-Origin") != crmOrigin || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") || h.Get("Access-Control-Allow-Private-Network") != "true" ||
		!strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
		t.Fatalf("preflight headers %v", h)
	}
	if w := pre(evilOrigin, "POST", "authorization"); w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign preflight %d %v", w.Code, w.Header())
	}
	if w := pre(crmOrigin, "DELETE", ""); w.Code != http.StatusForbidden {
		t.Fatalf("preflight for DELETE %d", w.Code)
	}
	if w := pre(crmOrigin, "POST", "x-custom"); w.Code != http.StatusForbidden {
		t.Fatalf("preflight for a custom header %d", w.Code)
	}
	if w := do(t, s, http.MethodOptions, "/v1/calls", "", noAuth()); w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("options without origin %d", w.Code)
	}
	if w := do(t, s, http.MethodOptions, "/v1/calls", "", noAuth(), withOrigin(crmOrigin), withRemote("192.0.2.1:1")); w.Code != http.StatusForbidden {
		t.Fatalf("preflight from a remote peer %d", w.Code)
	}
}

func TestNewAndListenRefuse(t *testing.T) {
	a, _ := newCore(t)
	if _, err := New(a, Options{}); !errors.Is(err, ErrNoToken) {
		t.Fatalf("no token: %v", err)
	}
	for _, o := range []string{"*", "acme.example", "https://acme.example/path", "ftp://acme.example"} {
		if _, err := New(a, Options{Token: testToken, AllowedOrigins: []string{o}}); !errors.Is(err, ErrBadOrigin) {
			t.Fatalf("origin %q: %v", o, err)
		}
	}
	s := newServer(t, a)
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", ":0", "192.0.2.1:0", "localhost:0"} {
		if _, err := s.Listen(addr); err == nil {
			t.Fatalf("listened on %s", addr)
		}
	}
}

// readEvents reads state events from an SSE stream into a channel.
func readEvents(t *testing.T, body io.Reader) <-chan Event {
	ch := make(chan Event, 1024)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				var ev Event
				if err := json.Unmarshal([]byte(data), &ev); err != nil {
					t.Errorf("bad event %q: %v", data, err)
					return
				}
				ch <- ev
			}
		}
	}()
	return ch
}

func TestEventStreamOrder(t *testing.T) {
	a, rec := newCore(t)
	s := newServer(t, a)
	addr, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + addr
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/events?access_token="+testToken, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	events := readEvents(t, res.Body)
	post := func(path, body string) map[string]string {
		t.Helper()
		r, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	post("/v1/login", `{"agent_id":"ag1","name":"Agent One"}`)
	_ = a.Post(domain.RegistrationChanged{State: domain.RegRegistered})
	id := post("/v1/calls", `{"number":"201"}`)["id"]
	rec.WaitFor(t, "Dial "+id+" 201", 10*time.Second)
	_ = a.Post(domain.CallProgress{ID: domain.CallID(id)})
	_ = a.Post(domain.CallAnswered{ID: domain.CallID(id)})
	post("/v1/calls/"+id+"/hold", "")
	post("/v1/calls/"+id+"/hangup", "")

	// Each step of the scenario must appear, in this order, with strictly
	// increasing sequence numbers and nothing skipped.
	want := []struct {
		what string
		ok   func(State) bool
	}{
		{"offline", func(s State) bool { return s.Agent.Status == "offline" }},
		{"signed in", func(s State) bool { return s.Agent.ID == "ag1" && s.Agent.Presence == "available" }},
		{"registered", func(s State) bool { return s.Agent.Registration == "registered" && len(s.Calls) == 0 }},
		{"dialling", func(s State) bool { return len(s.Calls) == 1 && s.Calls[0].State == "dialing" }},
		{"ringing", func(s State) bool { return len(s.Calls) == 1 && s.Calls[0].State == "ringing" }},
		{"active", func(s State) bool { return len(s.Calls) == 1 && s.Calls[0].State == "active" }},
		{"held", func(s State) bool { return len(s.Calls) == 1 && s.Calls[0].State == "held" }},
		{"ended, in wrap-up", func(s State) bool {
			return len(s.Calls) == 0 && len(s.Interactions) == 1 && s.Interactions[0].Phase == "wrap-up"
		}},
	}
	var last uint64
	first := true
	timeout := time.After(20 * time.Second)
	for i := 0; i < len(want); {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("stream ended before %q", want[i].what)
			}
			if ev.Initial != first {
				t.Fatalf("initial flag %v on event %d", ev.Initial, ev.State.Seq)
			}
			if !first && ev.State.Seq <= last {
				t.Fatalf("sequence went from %d to %d", last, ev.State.Seq)
			}
			first, last = false, ev.State.Seq
			if want[i].ok(ev.State) {
				i++
				continue
			}
			// Anything else in between must still be a state of the
			// current step or the next one (no reordering).
			if i+1 < len(want) && want[i+1].ok(ev.State) {
				t.Fatalf("step %q skipped", want[i].what)
			}
		case <-timeout:
			t.Fatalf("no %q event", want[i].what)
		}
	}
}
