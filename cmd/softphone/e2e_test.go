//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/control"
	"github.com/callcentre/softphone/sip/demopbx"
	"github.com/callcentre/softphone/store"
)

// e2eClient drives the running binary through its control API over HTTP
// and follows its event stream.
type e2eClient struct {
	t      *testing.T
	base   string
	token  string
	events chan control.Event
	last   control.State
	stderr func() string
}

func (c *e2eClient) follow(ctx context.Context) {
	c.t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/events", nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		c.t.Fatalf("event stream: %d", res.StatusCode)
	}
	go func() {
		defer res.Body.Close()
		defer close(c.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<22)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev control.Event
				if json.Unmarshal([]byte(data), &ev) == nil {
					c.events <- ev
				}
			}
		}
	}()
}

// e2eHTTP bounds each control API request: a hung app fails the test
// with its output instead of hanging it until go test's own timeout
// (whose panic shows the test's goroutines, not the app's).
var e2eHTTP = &http.Client{Timeout: 60 * time.Second}

// stderrText is the app's output so far, if the client knows it.
func (c *e2eClient) stderrText() string {
	if c.stderr == nil {
		return ""
	}
	return c.stderr()
}

func (c *e2eClient) do(method, path string, body any) (int, map[string]string) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := e2eHTTP.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v\n%s", method, path, err, c.stderrText())
	}
	defer res.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func (c *e2eClient) post(path string, body any) map[string]string {
	c.t.Helper()
	code, out := c.do(http.MethodPost, path, body)
	if code != http.StatusAccepted {
		c.t.Fatalf("POST %s: %d %v", path, code, out)
	}
	return out
}

// wait follows the event stream until cond holds, failing on an error
// notice unless allowErr.
func (c *e2eClient) wait(what string, cond func(control.State) bool, allowErr bool) control.State {
	c.t.Helper()
	if cond(c.last) {
		return c.last
	}
	timeout := time.After(60 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatalf("event stream ended waiting for %s:\n%s", what, c.stderr())
			}
			for _, n := range ev.Notices {
				// Headless there is no window to pop the local CRM's
				// contact card in, and the core says so.
				if n.Kind == "error" && !allowErr && !strings.Contains(n.Message, "record could not be opened") {
					c.t.Fatalf("error notice waiting for %s: %s", what, n.Message)
				}
			}
			c.last = ev.State
			if cond(ev.State) {
				return ev.State
			}
		case <-timeout:
			b, _ := json.MarshalIndent(c.last, "", " ")
			c.t.Fatalf("timed out waiting for %s; last state:\n%s\n%s", what, b, c.stderr())
		}
	}
}

func e2eCall(s control.State, pred func(control.CallState) bool) *control.CallState {
	for i := range s.Calls {
		if pred(s.Calls[i]) {
			return &s.Calls[i]
		}
	}
	return nil
}

func e2eIn(id, st string) func(control.State) bool {
	return func(s control.State) bool {
		c := e2eCall(s, func(c control.CallState) bool { return c.ID == id })
		return c != nil && c.State == st
	}
}

var controlAddrRE = regexp.MustCompile(`msg="control api listening" addr=(127\.0\.0\.1:[0-9]+)`)

// localDirLoaded is the app's log line once the signed-in agent's local
// directory is loaded (the demo contacts seeded).
const localDirLoaded = `msg="local directory loaded"`

// waitOutput polls the app's output until it contains want, failing when
// the app exits first or after 60 s.
func waitOutput(t testing.TB, what, want string, output func() string, exited chan error) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(output(), want) {
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("the app ended (%v) waiting for %s:\n%s", err, what, output())
		case <-time.After(100 * time.Millisecond): // the polling interval
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 60 s:\n%s", what, output())
		}
	}
}

// addrWatch is the app's stderr: kept whole and scanned for the control
// API's address, which it sends once on found (buffered). It is a
// writer, not a pipe: Wait returns only after all output was copied, so
// the last lines of a crash are never lost (a pipe read by another
// goroutine is closed by Wait, possibly before they were read).
type addrWatch struct {
	mu    *sync.Mutex
	b     *strings.Builder
	found chan<- string
	sent  bool
}

func (w *addrWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.b.Write(p)
	if !w.sent {
		if m := controlAddrRE.FindStringSubmatch(w.b.String()); m != nil {
			w.sent = true
			w.found <- m[1]
		}
	}
	return n, err
}

// TestEndToEndBinary runs the real binary, "softphone -headless -demo
// -data DIR -control 127.0.0.1:0 -agent a1", gives it the control token on
// standard input (-control-token-stdin) and drives the agent only through
// the control API over HTTP; the demo customer line is asked to ring with
// "ring NUMBER" lines on standard input (the headless "Ring me"). An
// inbound call is answered, held, consulted with 201, transferred attended
// and wrapped up with an outcome and notes; then a blind transfer, a
// conference of four and a busy outbound call. After the binary exits the
// store holds exactly one call log per interaction, the inbound ones
// logged against their local CRM contact.
func TestEndToEndBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the app")
	}
	env := headlessEnv(t)
	data := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	const token = "e2e-binary-token-0123456789"
	cmd := exec.Command(exe, "-headless", "-demo", "-data", data, "-control", "127.0.0.1:0", "-agent", "a1", "-control-token-stdin")
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var stderr strings.Builder
	addrCh := make(chan string, 1)
	cmd.Stderr = &addrWatch{mu: &mu, b: &stderr, found: addrCh}
	cmd.Stdout = io.Discard // the same states come over the event stream
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	stderrNow := func() string { return stderrOf(&mu, &stderr) }
	if _, err := fmt.Fprintln(stdin, token); err != nil {
		t.Fatal(err)
	}
	var addr string
	select {
	case addr = <-addrCh:
	case err := <-exited:
		exited <- err // for the cleanup
		t.Fatalf("the app ended: %v\n%s", err, stderrNow())
	case <-time.After(60 * time.Second):
		t.Fatalf("no control api address within 60 s:\n%s", stderrNow())
	}
	c := &e2eClient{t: t, base: "http://" + addr, token: token, events: make(chan control.Event, 4096), stderr: stderrNow}
	if code, _ := (&e2eClient{t: t, base: c.base, token: "wrong-token-0123456789"}).do(http.MethodGet, "/v1/state", nil); code != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d, want 401", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.follow(ctx)
	c.wait("a1 registered", func(s control.State) bool {
		return s.Agent.ID == "a1" && s.Agent.Registration == "registered"
	}, false)
	c.post("/v1/status", map[string]string{"status": "available"})
	c.wait("available", func(s control.State) bool { return s.Agent.Status == "available" }, false)
	// The app loads the agent's local directory (and seeds the demo
	// contacts) after the sign-in, off the core: a call offered before
	// that is looked up in an empty directory. Wait for it.
	waitOutput(t, "the local directory", localDirLoaded, stderrNow, exited)

	contacts := demopbx.Contacts()
	keys := map[string]bool{}
	inbound := map[string]string{} // interaction -> customer number
	offer := func(number string) control.CallState {
		t.Helper()
		if _, err := fmt.Fprintln(stdin, "ring", number); err != nil {
			t.Fatal(err)
		}
		s := c.wait("offered call from "+number, func(s control.State) bool {
			return e2eCall(s, func(c control.CallState) bool { return c.State == "offered" }) != nil
		}, false)
		call := *e2eCall(s, func(c control.CallState) bool { return c.State == "offered" })
		if call.Remote.Number != number {
			t.Fatalf("caller id %q, want %q", call.Remote.Number, number)
		}
		// The local CRM's match arrives while the call rings; the logs'
		// contacts are checked below, so wait for it as an agent would
		// for the pop (the lookup is asynchronous: the call must not
		// depend on its speed).
		c.wait("the contact of "+number, func(s control.State) bool {
			return slices.ContainsFunc(s.Interactions, func(ix control.Interaction) bool {
				return ix.Key == call.Interaction && ix.RecordID != ""
			})
		}, false)
		c.post("/v1/calls/"+call.ID+"/answer", nil)
		c.wait("answered", e2eIn(call.ID, "active"), false)
		keys[call.Interaction], inbound[call.Interaction] = true, number
		return call
	}
	wrapUp := func(key, outcome, notes string) {
		t.Helper()
		c.wait("wrap-up of "+key, func(s control.State) bool {
			return len(s.Calls) == 0 && len(s.Interactions) == 1 && s.Interactions[0].Key == key && s.Interactions[0].Phase == "wrap-up"
		}, false)
		c.post("/v1/interactions/"+key+"/wrapup", map[string]any{"outcome": outcome, "notes": notes, "complete": true})
		c.wait("log of "+key+" saved", func(s control.State) bool { return len(s.Interactions) == 0 && s.PendingLogs == 0 }, false)
	}

	// Inbound -> answer -> hold -> consult 201 -> attended transfer.
	cust := offer(contacts[0].Number)
	c.post("/v1/calls/"+cust.ID+"/hold", nil)
	c.wait("held", e2eIn(cust.ID, "held"), false)
	k := c.post("/v1/calls/"+cust.ID+"/consult", map[string]string{"target": "201"})["id"]
	c.wait("consult answered", e2eIn(k, "active"), false)
	c.post("/v1/calls/"+k+"/complete-transfer", nil)
	wrapUp(cust.Interaction, "Resolved", "moved to Anna")

	// Blind transfer.
	cust = offer(contacts[1].Number)
	c.post("/v1/calls/"+cust.ID+"/transfer", map[string]string{"target": "202"})
	wrapUp(cust.Interaction, "Callback", "")

	// Conference of four: the customer, the agent, 201 and 202.
	cust = offer(contacts[2].Number)
	for _, ext := range []string{"201", "202"} {
		k := c.post("/v1/calls/"+cust.ID+"/consult", map[string]string{"target": ext})["id"]
		c.wait("consult "+ext+" answered", e2eIn(k, "active"), false)
		c.post("/v1/calls/"+k+"/merge", nil)
	}
	s := c.wait("conference of four", func(s control.State) bool {
		n := 0
		for _, cl := range s.Calls {
			if cl.Conference && cl.State == "active" {
				n++
			}
		}
		return n == 3 && len(s.Interactions) == 1 && s.Interactions[0].Conference
	}, false)
	c.post("/v1/interactions/"+s.Interactions[0].Key+"/end-conference", nil)
	wrapUp(cust.Interaction, "Resolved", "conference")

	// A failed outbound call: busy (486), logged at once.
	id := c.post("/v1/calls", map[string]string{"number": demopbx.ExtBusy})["id"]
	var busyKey string
	c.wait("dialling", func(s control.State) bool {
		if cl := e2eCall(s, func(c control.CallState) bool { return c.ID == id }); cl != nil {
			busyKey = cl.Interaction
		}
		return busyKey != ""
	}, true)
	c.wait("busy failure logged", func(s control.State) bool {
		return len(s.Calls) == 0 && len(s.Interactions) == 0 && s.PendingLogs == 0
	}, true)
	keys[busyKey] = true

	cancel()
	_ = stdin.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderrNow())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no exit within 60 s of SIGTERM")
	}
	if out := stderrNow(); strings.Contains(out, "WARNING: DATA RACE") || strings.Contains(out, "panic:") {
		t.Fatalf("race or panic:\n%s", out)
	}

	// The store, opened after the binary exited: exactly one log per
	// interaction, and the local CRM's logs against the right contacts.
	db, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	profile, err := db.Profile("a1")
	if err != nil {
		t.Fatal(err)
	}
	hist, err := profile.History(store.ViewAll, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, h := range hist {
		seen[h.Log.Key]++
	}
	if len(hist) != 4 || len(seen) != 4 {
		t.Fatalf("history has %d logs for %d keys, want 4: %v", len(hist), len(seen), seen)
	}
	for key := range keys {
		if seen[key] != 1 {
			t.Fatalf("interaction %s logged %d times", key, seen[key])
		}
	}
	first, err := profile.CallLog(cust.Interaction)
	if err != nil {
		t.Fatal(err)
	}
	if first.Log.Outcome != "Resolved" || first.Log.Notes != "conference" || len(first.Log.Legs) < 3 {
		t.Fatalf("conference log: outcome %q notes %q, %d legs", first.Log.Outcome, first.Log.Notes, len(first.Log.Legs))
	}
	dir, err := profile.DirectoryContacts()
	if err != nil || len(dir) != len(contacts) {
		t.Fatalf("local crm contacts in the store: %d, %v", len(dir), err)
	}
	perRecord := map[string]int{}
	for _, h := range hist {
		if h.Log.RecordID != "" {
			perRecord[h.Log.RecordID]++
		}
	}
	for key, number := range inbound {
		got, err := profile.CallLog(key)
		if err != nil {
			t.Fatal(err)
		}
		var want string
		for _, dc := range dir {
			if slices.Contains(dc.Phones, number) {
				want = dc.ID
			}
		}
		if want == "" || got.Log.RecordID != want || perRecord[want] != 1 || got.Log.Remote.Number != number {
			t.Fatalf("log %s: record %q (want %q, %d logs for it), remote %q", key, got.Log.RecordID, want, perRecord[want], got.Log.Remote.Number)
		}
		if got.Log.Outcome == "" {
			t.Fatalf("log %s has no outcome", key)
		}
	}
	for key, number := range inbound {
		if number == contacts[0].Number {
			got, _ := profile.CallLog(key)
			if got.Log.Outcome != "Resolved" || got.Log.Notes != "moved to Anna" {
				t.Fatalf("attended transfer log: outcome %q notes %q", got.Log.Outcome, got.Log.Notes)
			}
		}
	}
	busy, err := profile.CallLog(busyKey)
	if err != nil || busy.Log.Cause != domain.CauseBusy || !busy.Log.AnsweredAt.IsZero() {
		t.Fatalf("busy log: cause %v answered %v: %v", busy.Log.Cause, busy.Log.AnsweredAt, err)
	}
	if oc, err := profile.Counts(); err != nil || oc != (store.OutboxCounts{}) {
		t.Fatalf("outbox %+v %v: the local crm queues nothing", oc, err)
	}
}
