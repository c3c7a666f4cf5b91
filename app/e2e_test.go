package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio/audiotest"
	"github.com/callcentre/softphone/control"
	"github.com/callcentre/softphone/crm/local"
	"github.com/callcentre/softphone/desktop"
	"github.com/callcentre/softphone/sip/demopbx"
	"github.com/callcentre/softphone/store"
)

const e2eToken = "e2e-token-0123456789abcdef"

// client drives the app through the control API over real HTTP and follows
// its event stream.
type client struct {
	t      *testing.T
	base   string
	events chan control.Event
	last   control.State
}

func newClient(t *testing.T, addr string) *client {
	t.Helper()
	c := &client{t: t, base: "http://" + addr, events: make(chan control.Event, 4096)}
	req, _ := http.NewRequest(http.MethodGet, c.base+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("event stream: %d", res.StatusCode)
	}
	go func() {
		defer res.Body.Close()
		defer close(c.events)
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev control.Event
				if json.Unmarshal([]byte(data), &ev) == nil {
					c.events <- ev
				}
			}
		}
	}()
	return c
}

func (c *client) post(path string, body any) map[string]string {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(http.MethodPost, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != http.StatusAccepted {
		c.t.Fatalf("POST %s: %d %v", path, res.StatusCode, out)
	}
	return out
}

// wait follows the event stream until cond holds for the state, failing
// on any error notice unless allowErr.
func (c *client) wait(what string, cond func(control.State) bool, allowErr bool) control.State {
	c.t.Helper()
	if cond(c.last) {
		return c.last
	}
	timeout := time.After(40 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			if !ok {
				c.t.Fatalf("event stream ended waiting for %s", what)
			}
			for _, n := range ev.Notices {
				if n.Kind == "error" && !allowErr {
					c.t.Fatalf("error notice waiting for %s: %s", what, n.Message)
				}
			}
			c.last = ev.State
			if cond(ev.State) {
				return ev.State
			}
		case <-timeout:
			b, _ := json.MarshalIndent(c.last, "", " ")
			c.t.Fatalf("timed out waiting for %s; last state:\n%s", what, b)
		}
	}
}

func callIn(s control.State, pred func(control.CallState) bool) *control.CallState {
	for i := range s.Calls {
		if pred(s.Calls[i]) {
			return &s.Calls[i]
		}
	}
	return nil
}

func byID(id string) func(control.CallState) bool {
	return func(c control.CallState) bool { return c.ID == id }
}

func inState(id, st string) func(control.State) bool {
	return func(s control.State) bool { c := callIn(s, byID(id)); return c != nil && c.State == st }
}

func quietLog() *slog.Logger {
	if os.Getenv("E2E_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// TestEndToEndDemo runs the whole stack in demo mode, headless, driven only
// through the control API (and the demo customer line's "call me" button).
func TestEndToEndDemo(t *testing.T) {
	cfg := domain.DefaultConfig()
	cfg.WrapUpTime = 0 // manual wrap-up: the test completes it
	var err error
	cfg.LoginStatus = domain.Status{Presence: domain.PresenceAvailable}
	cfg.Outcomes = []string{"Resolved", "Callback"}
	dir := t.TempDir()
	sockDir, err := os.MkdirTemp("", "sp") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	sock := filepath.Join(sockDir, "instance.sock")
	pops := make(chan ScreenPop, 16)
	var a *App
	a, err = Build(context.Background(), Config{
		OnScreenPop: func(p ScreenPop) { pops <- p },
		DataDir:     dir, Demo: true, InstanceSocket: sock, AgentConfig: &cfg, ControlAddr: "127.0.0.1:0", ControlToken: e2eToken,
		DemoOptions: demopbx.Options{AnswerDelay: 150 * time.Millisecond, NoAnswerAfter: 3 * time.Second},
		Logger:      quietLog(),
		AudioDriver: audiotest.NewDriver(), // the calls' audio through the engine, no sound server
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	c := newClient(t, a.ControlAddr)
	c.wait("initial state", func(s control.State) bool { return s.Agent.Status == "offline" }, false)
	c.post("/v1/login", map[string]string{"agent_id": "demo-agent", "name": "Demo Agent"})
	c.wait("available and registered", func(s control.State) bool { return s.Agent.Status == "available" }, false)

	profile, err := a.Store.Profile("demo-agent")
	if err != nil {
		t.Fatal(err)
	}
	// Demo mode seeds the signed-in agent's local CRM (in the agent's
	// store profile) with the sample contacts the customer line calls
	// from.
	contacts := demopbx.Contacts()
	for deadline := time.Now().Add(20 * time.Second); len(a.Local.Contacts()) != len(contacts); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("local crm has %d contacts, want the %d demo contacts", len(a.Local.Contacts()), len(contacts))
		}
	}
	if stored, err := profile.DirectoryContacts(); err != nil || len(stored) != len(contacts) {
		t.Fatalf("demo contacts in the store: %d, %v", len(stored), err)
	}
	contactID := map[string]string{} // number -> local contact id
	for _, lc := range a.Local.Contacts() {
		contactID[lc.Phones[0]] = lc.ID
	}
	inbound := map[string]string{} // interaction -> local contact id
	logged := func(key string) store.Call {
		t.Helper()
		c.wait("log of "+key+" saved", func(s control.State) bool {
			for _, ix := range s.Interactions {
				if ix.Key == key {
					return false
				}
			}
			return s.PendingLogs == 0
		}, false)
		got, err := profile.CallLog(key)
		if err != nil {
			t.Fatalf("call log %s: %v", key, err)
		}
		return got
	}
	offer := func(number string) control.CallState {
		t.Helper()
		if _, err := a.PBX.CallAgent(number); err != nil {
			t.Fatal(err)
		}
		s := c.wait("offered call", func(s control.State) bool {
			return callIn(s, func(c control.CallState) bool { return c.State == "offered" }) != nil
		}, false)
		call := *callIn(s, func(c control.CallState) bool { return c.State == "offered" })
		if call.Remote.Number != number {
			t.Fatalf("caller id %q, want %q", call.Remote.Number, number)
		}
		// Caller ID from the local CRM: the interaction is matched to the
		// sample contact, whose name the call shows, and the contact pops
		// up in the app at ringing (never in a browser).
		var name string
		for _, ct := range contacts {
			if ct.Number == number {
				name = ct.Name
			}
		}
		c.wait("caller matched to "+name, func(s control.State) bool {
			cl := callIn(s, byID(call.ID))
			for _, ix := range s.Interactions {
				if ix.Key == call.Interaction {
					return cl != nil && cl.Remote.Name == name && ix.RecordID == contactID[number]
				}
			}
			return false
		}, false)
		select {
		case p := <-pops:
			if p.Key != call.Interaction || p.Contact == nil || p.Contact.Name != name || p.Contact.ID != contactID[number] {
				t.Fatalf("screen pop %+v, want %s for %s", p, name, call.Interaction)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("no in-app screen pop")
		}
		c.post("/v1/calls/"+call.ID+"/answer", nil)
		c.wait("answered", inState(call.ID, "active"), false)
		inbound[call.Interaction] = contactID[number]
		return call
	}
	wrapUp := func(key, outcome, notes string) {
		t.Helper()
		c.wait("wrap-up", func(s control.State) bool {
			return len(s.Calls) == 0 && len(s.Interactions) == 1 && s.Interactions[0].Phase == "wrap-up"
		}, false)
		c.post("/v1/interactions/"+key+"/wrapup", map[string]any{"outcome": outcome, "notes": notes, "complete": true})
	}
	t.Run("attended transfer", func(t *testing.T) {
		cust := offer(contacts[0].Number)
		c.post("/v1/calls/"+cust.ID+"/hold", nil)
		c.wait("held", inState(cust.ID, "held"), false)
		k := c.post("/v1/calls/"+cust.ID+"/consult", map[string]string{"target": "201"})["id"]
		c.wait("consult answered", inState(k, "active"), false)
		c.post("/v1/calls/"+k+"/complete-transfer", nil)
		wrapUp(cust.Interaction, "Resolved", "moved to Anna")
		got := logged(cust.Interaction)
		if got.Log.Outcome != "Resolved" || got.Log.Notes != "moved to Anna" || got.Log.Remote.Number != contacts[0].Number {
			t.Fatalf("log %+v", got.Log)
		}
		tr := a.PBX.Transfers()
		if len(tr) != 1 || !tr[0].Attended || tr[0].To != "201" || tr[0].Customer != contacts[0].Number {
			t.Fatalf("pbx transfers %+v", tr)
		}
	})

	t.Run("blind transfer", func(t *testing.T) {
		cust := offer(contacts[1].Number)
		c.post("/v1/calls/"+cust.ID+"/transfer", map[string]string{"target": "202"})
		wrapUp(cust.Interaction, "Callback", "")
		got := logged(cust.Interaction)
		if got.Log.Outcome != "Callback" {
			t.Fatalf("log %+v", got.Log)
		}
		tr := a.PBX.Transfers()
		if len(tr) != 2 || tr[1].Attended || tr[1].To != "202" {
			t.Fatalf("pbx transfers %+v", tr)
		}
	})

	t.Run("conference of four", func(t *testing.T) {
		cust := offer(contacts[2].Number)
		for _, ext := range []string{"201", "202"} {
			k := c.post("/v1/calls/"+cust.ID+"/consult", map[string]string{"target": ext})["id"]
			c.wait("consult "+ext+" answered", inState(k, "active"), false)
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
		deadline := time.Now().Add(20 * time.Second)
		for len(a.PBX.Calls()) != 3 {
			if time.Now().After(deadline) {
				t.Fatalf("pbx legs %+v, want the customer and two colleagues", a.PBX.Calls())
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.post("/v1/interactions/"+s.Interactions[0].Key+"/end-conference", nil)
		wrapUp(cust.Interaction, "Resolved", "conference")
		got := logged(cust.Interaction)
		if len(got.Log.Legs) < 3 {
			t.Fatalf("conference log has %d legs: %+v", len(got.Log.Legs), got.Log.Legs)
		}
	})

	t.Run("second launch with a tel link", func(t *testing.T) {
		req, ok, err := desktop.ParseArgs([]string{"tel:" + demopbx.ExtEcho})
		if !ok || err != nil {
			t.Fatalf("parse: %v %v", ok, err)
		}
		res, err := desktop.Send(sock, req, 10*time.Second)
		if err != nil || !res.OK {
			t.Fatalf("send: %+v %v", res, err)
		}
		s := c.wait("echo test answered", func(s control.State) bool {
			return len(s.Calls) == 1 && s.Calls[0].Target == demopbx.ExtEcho && s.Calls[0].State == "active"
		}, false)
		if res, err := desktop.Send(sock, desktop.Request{Verb: desktop.VerbHangup}, 10*time.Second); err != nil || !res.OK {
			t.Fatalf("hangup verb: %+v %v", res, err)
		}
		key := s.Calls[0].Interaction
		wrapUp(key, "Resolved", "")
		logged(key)
	})

	t.Run("failed outbound call", func(t *testing.T) {
		id := c.post("/v1/calls", map[string]string{"number": demopbx.ExtBusy})["id"]
		var key string
		c.wait("dialling", func(s control.State) bool {
			if cl := callIn(s, byID(id)); cl != nil {
				key = cl.Interaction
			}
			return key != ""
		}, true)
		c.wait("busy failure", func(s control.State) bool { return callIn(s, byID(id)) == nil }, true)
		got := logged(key)
		if got.Log.Cause != domain.CauseBusy || !got.Log.AnsweredAt.IsZero() {
			t.Fatalf("log cause %v answered %v", got.Log.Cause, got.Log.AnsweredAt)
		}
	})

	// Exactly one call log per interaction, four in all.
	hist, err := profile.History(store.ViewAll, 100)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, h := range hist {
		seen[h.Log.Key]++
	}
	if len(hist) != 5 || len(seen) != 5 {
		t.Fatalf("history has %d logs for %d keys: %v", len(hist), len(seen), fmt.Sprint(seen))
	}
	// The local CRM keeps its call logs in the store's history (crm/local
	// doc): each inbound call is logged exactly once against its contact,
	// and nothing was queued for an external CRM.
	perContact := map[string]int{}
	for _, h := range hist {
		if h.Log.RecordID != "" {
			perContact[h.Log.RecordID]++
		}
	}
	if len(inbound) != 3 {
		t.Fatalf("%d inbound calls recorded, want 3", len(inbound))
	}
	for key, id := range inbound {
		got, err := profile.CallLog(key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Log.RecordID != id || len(got.Log.Matches) != 1 || got.Log.Matches[0].Type != local.RecordType || perContact[id] != 1 {
			t.Fatalf("log %s: record %q matches %+v, %d logs for contact %s", key, got.Log.RecordID, got.Log.Matches, perContact[id], id)
		}
	}
	if oc, err := profile.Counts(); err != nil || oc != (store.OutboxCounts{}) {
		t.Fatalf("outbox %+v %v: the local crm queues nothing", oc, err)
	}
	if a.Outbox != nil || a.CRM != nil {
		t.Fatal("demo without salesforce built an outbox or a salesforce directory")
	}
}
