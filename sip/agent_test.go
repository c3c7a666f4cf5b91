package sip

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/agenttest"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
	"github.com/callcentre/softphone/lab/sipp"
)

// liveAgent is the real actor over the sip engine, with the recording
// fakes of agenttest for the other ports.
type liveAgent struct {
	a   *agent.Agent
	e   *Engine
	rec *agenttest.Recorder

	mu      sync.Mutex
	notices []domain.Notice
}

func startAgent(t *testing.T, acct Account, password string) *liveAgent {
	t.Helper()
	e, err := New(acct, pw(password), WithLogger(testLogger(t)), WithBindHost("127.0.0.1"),
		WithRegisterTimeout(3*time.Second), WithRetryBackoff(500*time.Millisecond, 2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec := agenttest.NewRecorder()
	_, media, calllog, dir := rec.Ports()
	a := agent.New(agent.Ports{Telephony: e, Media: media, CallLog: calllog, Directory: dir},
		agent.WithLogger(testLogger(t)), agent.WithInvariantChecks(true))
	e.Attach(a)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { _ = a.Run(ctx) }()
	la := &liveAgent{a: a, e: e, rec: rec}
	stop := a.Watch(ctx, func(n agent.Notify) {
		la.mu.Lock()
		la.notices = append(la.notices, n.Notices...)
		la.mu.Unlock()
	})
	t.Cleanup(func() {
		_ = e.Close()
		stop()
		cancel()
		<-a.Done()
	})
	return la
}

// until polls the agent's state until ok is true.
func (la *liveAgent) until(t *testing.T, what string, within time.Duration, ok func(s domain.State) bool) domain.State {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s := la.a.Snapshot()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent: no %s within %v; state: status %v, reg %+v, calls %+v", what, within,
				s.Status(), s.Registration, s.Calls)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (la *liveAgent) notice(t *testing.T, within time.Duration, ok func(domain.Notice) bool) domain.Notice {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		la.mu.Lock()
		i := slices.IndexFunc(la.notices, ok)
		var n domain.Notice
		if i >= 0 {
			n = la.notices[i]
		}
		all := slices.Clone(la.notices)
		la.mu.Unlock()
		if i >= 0 {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("no matching notice within %v; notices: %+v", within, all)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// signIn logs in with manual wrap-up, waits for the registration and makes
// the agent available.
func (la *liveAgent) signIn(t *testing.T) {
	t.Helper()
	cfg := domain.DefaultConfig()
	cfg.WrapUpTime = 0
	if err := la.a.Login(domain.AgentInfo{ID: "a1", Name: "Agent One"}, cfg); err != nil {
		t.Fatal(err)
	}
	la.until(t, "registration", 15*time.Second, func(s domain.State) bool {
		return s.Registration.State == domain.RegRegistered
	})
	if err := la.a.SetStatus(domain.Status{Presence: domain.PresenceAvailable}); err != nil {
		t.Fatal(err)
	}
	la.until(t, "available", 5*time.Second, func(s domain.State) bool { return s.Status() == domain.StatusAvailable })
}

// TestAgentInboundCallThroughKamailio drives the real actor: baresip calls
// the agent through kamailio, the call is offered, answered (audio flows),
// the caller hangs up, wrap-up follows and exactly one call log is saved.
func TestAgentInboundCallThroughKamailio(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr, ToneHz: 440})
	la := startAgent(t, Account{User: "go1", DisplayName: "Agent", Domain: k.Addr}, "go1-pw")
	la.signIn(t)

	if _, err := alice.Command("dial", "sip:go1@"+k.Addr); err != nil {
		t.Fatal(err)
	}
	s := la.until(t, "offered call", 15*time.Second, func(s domain.State) bool {
		return len(s.Calls) == 1 && s.Calls[0].State == domain.CallStateOffered
	})
	c := s.Calls[0]
	if c.Remote.Number != "alice" || c.DialedNumber != "go1" || c.Direction != domain.DirectionInbound {
		t.Errorf("offered call %+v", c)
	}
	la.rec.WaitFor(t, "Ringer ring", 5*time.Second)
	if err := la.a.Answer(c.ID); err != nil {
		t.Fatal(err)
	}
	la.until(t, "connected call", 10*time.Second, func(s domain.State) bool {
		x := s.Call(c.ID)
		return x != nil && x.State == domain.CallStateActive
	})
	if _, err := alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	la.rec.WaitFor(t, "Route ["+string(c.ID)+"]", 5*time.Second)
	ca, err := la.e.CallAudio(c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sh := baresip.ToneShare(readPCM(t, ca.Rx, time.Second), 8000, 440); sh < 0.6 {
		t.Errorf("440 Hz share = %.2f", sh)
	}
	if _, err := alice.Command("hangup", ""); err != nil {
		t.Fatal(err)
	}
	s = la.until(t, "wrap-up", 10*time.Second, func(s domain.State) bool {
		return len(s.Calls) == 0 && s.Status() == domain.StatusWrapUp
	})
	key := s.Interactions[0].Key
	if len(la.rec.Logs()) != 0 {
		t.Fatal("call logged before wrap-up ended")
	}
	if err := la.a.Do(domain.CompleteWrapUp{Key: key}); err != nil {
		t.Fatal(err)
	}
	la.until(t, "available after wrap-up", 5*time.Second, func(s domain.State) bool {
		return s.Status() == domain.StatusAvailable
	})
	la.rec.WaitFor(t, "SaveLog "+key, 5*time.Second)
	time.Sleep(300 * time.Millisecond)
	logs := la.rec.Logs()
	if len(logs) != 1 || logs[0].Key != key {
		t.Fatalf("call logs %+v, want exactly one for %s", logs, key)
	}
}

// TestAgentOutboundBusy: the agent dials a number that answers 486; the
// core ends the call and shows the busy notice.
func TestAgentOutboundBusy(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	la := startAgent(t, Account{User: "go1", DisplayName: "Agent", Domain: k.Addr}, "go1-pw")
	la.signIn(t)
	uas := sipp.Start(t, uasReply(486, "Busy Here"), "-m", "1")
	id, err := la.a.Dial("sip:x@" + uas.Addr)
	if err != nil {
		t.Fatal(err)
	}
	n := la.notice(t, 15*time.Second, func(n domain.Notice) bool { return n.CallID == id })
	if n.Cause != domain.CauseBusy || !strings.Contains(n.Message, domain.CauseBusy.Message()) {
		t.Errorf("notice %+v, want busy", n)
	}
	la.until(t, "no calls", 5*time.Second, func(s domain.State) bool { return len(s.Calls) == 0 })
	if err := uas.Wait(10 * time.Second); err != nil {
		t.Error(err)
	}
}

// TestAgentDNDAndAllLinesBusyReject486: with the real actor, a call to an
// agent in DND and a call beyond the agent's lines (MaxLines 1) are refused
// with 486 Busy Here at the caller without ringing the agent, and the call
// in progress is untouched.
func TestAgentDNDAndAllLinesBusyReject486(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr})
	bob := baresip.Start(t, baresip.Options{User: "bob", Password: "bob-pw", Registrar: k.Addr})
	la := startAgent(t, Account{User: "go1", DisplayName: "Agent", Domain: k.Addr}, "go1-pw")
	cfg := domain.DefaultConfig()
	cfg.WrapUpTime = 0
	cfg.MaxLines = 1
	if err := la.a.Login(domain.AgentInfo{ID: "a1", Name: "Agent One"}, cfg); err != nil {
		t.Fatal(err)
	}
	la.until(t, "registration", 15*time.Second, func(s domain.State) bool {
		return s.Registration.State == domain.RegRegistered
	})
	if err := la.a.SetStatus(domain.Status{Presence: domain.PresenceDND}); err != nil {
		t.Fatal(err)
	}
	la.until(t, "dnd", 5*time.Second, func(s domain.State) bool { return s.Presence.Presence == domain.PresenceDND })

	if _, err := alice.Command("dial", "sip:go1@"+k.Addr); err != nil {
		t.Fatal(err)
	}
	ev, err := alice.WaitEvent("CALL_CLOSED", 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ev.Param, "486") {
		t.Errorf("caller of an agent in dnd closed with %q, want 486", ev.Param)
	}
	if slices.Contains(la.rec.Calls(), "Ringer ring") {
		t.Error("the agent's ringer rang in dnd")
	}

	if err := la.a.SetStatus(domain.Status{Presence: domain.PresenceAvailable}); err != nil {
		t.Fatal(err)
	}
	la.until(t, "available", 5*time.Second, func(s domain.State) bool { return s.Status() == domain.StatusAvailable })
	if _, err := alice.Command("dial", "sip:go1@"+k.Addr); err != nil {
		t.Fatal(err)
	}
	s := la.until(t, "offered call", 15*time.Second, func(s domain.State) bool {
		return len(s.Calls) == 1 && s.Calls[0].State == domain.CallStateOffered
	})
	first := s.Calls[0].ID
	if err := la.a.Answer(first); err != nil {
		t.Fatal(err)
	}
	la.until(t, "connected call", 10*time.Second, func(s domain.State) bool {
		c := s.Call(first)
		return c != nil && c.State == domain.CallStateActive
	})
	if _, err := alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatal(err)
	}

	if _, err := bob.Command("dial", "sip:go1@"+k.Addr); err != nil {
		t.Fatal(err)
	}
	ev, err = bob.WaitEvent("CALL_CLOSED", 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ev.Param, "486") {
		t.Errorf("caller beyond the agent's lines closed with %q, want 486", ev.Param)
	}
	la.notice(t, 5*time.Second, func(n domain.Notice) bool { return strings.Contains(n.Message, "all lines in use") })
	s = la.a.Snapshot()
	if len(s.Calls) != 1 || s.Calls[0].ID != first || s.Calls[0].State != domain.CallStateActive {
		t.Errorf("calls after the busy reject: %+v", s.Calls)
	}
}
