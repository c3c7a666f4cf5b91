package domain

import (
	"testing"
	"time"
)

func TestOfflineOnlyLoginLeaves(t *testing.T) {
	t.Parallel()
	inputs := []Input{
		Logout{}, SetStatus{Status: Status{Presence: PresenceAvailable}}, Dial{ID: "x", Target: "123"},
		Answer{ID: "x"}, Hangup{ID: "x"}, RegistrationChanged{State: RegRegistered},
		CallOffered{ID: "x", Remote: Party{Number: "+4930123"}}, CallAnswered{ID: "x"},
		TimerFired{Timer: Timer{Kind: TimerRing, Key: "x"}}, CompleteWrapUp{Key: "x"}, Mute{On: true},
		Login{Agent: AgentInfo{ID: "  "}},
	}
	for _, in := range inputs {
		s, eff := Step(NewState(), in, t0)
		if s.SignedIn() || s.Status() != StatusOffline {
			t.Errorf("%T moved the agent out of Offline to %s", in, s.Status())
		}
		if len(s.Calls) > 0 || len(s.Interactions) > 0 {
			t.Errorf("%T created calls while offline", in)
		}
		if _, ok := in.(CallOffered); ok {
			want(t, describe(eff), "Reject x 480")
		}
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	h := &harness{t: t, s: NewState(), now: t0}
	want(t, h.do(Login{Agent: AgentInfo{ID: " a1 "}, Config: testConfig()}), "Register")
	if h.s.Agent.ID != "a1" || h.status() != StatusConnecting {
		t.Fatalf("agent %q status %s, want a1 connecting", h.s.Agent.ID, h.status())
	}
	if h.s.Presence != (Status{Presence: PresenceBreak, Reason: "Signing in"}) {
		t.Fatalf("presence after login %+v", h.s.Presence)
	}
	h.do(RegistrationChanged{State: RegRegistered})
	if h.status() != StatusBreak {
		t.Fatalf("status %s, want break", h.status())
	}
	h.do(Login{Agent: AgentInfo{ID: "b2"}})
	wantNotice(t, h, "Already signed in as a1")
	if h.s.Agent.ID != "a1" {
		t.Fatal("a second login replaced the agent")
	}
}

func TestSetStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     Status
		want   AgentStatus
		notice string
	}{
		{"available", Status{Presence: PresenceAvailable, Reason: "ignored"}, StatusAvailable, ""},
		{"break with reason", Status{Presence: PresenceBreak, Reason: "Lunch"}, StatusBreak, ""},
		{"break with unknown reason", Status{Presence: PresenceBreak, Reason: "Nap"}, StatusAvailable, "break reason"},
		{"break without reason", Status{Presence: PresenceBreak}, StatusAvailable, "break reason"},
		{"dnd", Status{Presence: PresenceDND}, StatusDND, ""},
		{"auto-pause is not choosable", Status{Presence: PresenceAutoPaused, Reason: AutoPauseReason}, StatusAvailable, "cannot be chosen"},
		{"unknown", Status{Presence: 99}, StatusAvailable, "cannot be chosen"},
		{"offline signs out", Status{Presence: PresenceOffline}, StatusOffline, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			eff := h.do(SetStatus{Status: tt.in})
			if h.status() != tt.want {
				t.Fatalf("status %s, want %s", h.status(), tt.want)
			}
			if tt.notice != "" {
				wantNotice(t, h, tt.notice)
			}
			if tt.want == StatusOffline {
				want(t, eff, "Unregister")
			}
		})
	}
}

func TestNextStatusAppliedAfterWrapUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "+4930111")
	h.do(SetStatus{Status: Status{Presence: PresenceBreak, Reason: "Lunch"}})
	if h.s.Next == nil || h.s.Next.Reason != "Lunch" || h.s.Presence.Presence != PresenceAvailable {
		t.Fatalf("during a call the status must become the next status: presence %+v next %+v", h.s.Presence, h.s.Next)
	}
	h.do(CallEnded{ID: "c1", Cause: CauseRemoteHangup})
	if h.status() != StatusWrapUp || h.s.Next == nil {
		t.Fatalf("status %s next %v, want wrap-up with next pending", h.status(), h.s.Next)
	}
	h.do(SetOutcome{Key: "c1", Outcome: "Sale"})
	h.do(CompleteWrapUp{Key: "c1"})
	if h.status() != StatusBreak || h.s.Presence.Reason != "Lunch" || h.s.Next != nil {
		t.Fatalf("after wrap-up status %s %+v next %v", h.status(), h.s.Presence, h.s.Next)
	}

	// Choosing the current status again cancels a pending next status.
	h.inbound("c2", "+4930111")
	h.do(SetStatus{Status: Status{Presence: PresenceAvailable}})
	h.do(SetStatus{Status: Status{Presence: PresenceBreak, Reason: "Lunch"}})
	if h.s.Next != nil {
		t.Fatalf("next status %+v, want none", h.s.Next)
	}
}

func TestLogoutDuringCallWaitsForWrapUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "+4930111")
	wantNot(t, h.do(Logout{}), "Unregister")
	wantNotice(t, h, "signed out when")
	h.do(Hangup{ID: "c1"})
	if !h.s.SignedIn() {
		t.Fatal("signed out before wrap-up")
	}
	want(t, h.do(CompleteWrapUp{Key: "c1"}), "SaveLog c1", "Unregister")
	if h.s.SignedIn() || h.s.Agent.ID != "" {
		t.Fatal("not signed out after wrap-up")
	}
	h.log("c1")
}

func TestRegistrationLostShowsDisconnected(t *testing.T) {
	t.Parallel()
	for _, p := range []Status{{Presence: PresenceAvailable}, {Presence: PresenceBreak, Reason: "Lunch"}, {Presence: PresenceDND}} {
		h := newHarness(t)
		h.do(SetStatus{Status: p})
		h.do(RegistrationChanged{State: RegFailed, Reason: "timeout"})
		if h.status() != StatusDisconnected {
			t.Fatalf("%v: status %s, want disconnected", p.Presence, h.status())
		}
		wantNotice(t, h, "lost: timeout")
		h.do(Dial{ID: "d1", Target: "123"})
		wantNotice(t, h, "Not connected")
		h.do(RegistrationChanged{State: RegRegistered})
		wantNotice(t, h, "again")
		if h.s.Presence != p {
			t.Fatalf("presence %+v changed by registration, want %+v", h.s.Presence, p)
		}
	}
	// A call in progress shows as disconnected too: the agent must know.
	h := newHarness(t)
	h.inbound("c1", "1")
	h.do(RegistrationChanged{State: RegFailed, Reason: "network"})
	if h.status() != StatusDisconnected {
		t.Fatalf("status %s during call, want disconnected", h.status())
	}
}

func TestAutoPauseAfterMissedCalls(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.AutoPauseAfter = 2 })
	h.do(CallOffered{ID: "m1", Remote: Party{Number: "1"}})
	h.fire(TimerRing, "m1")
	if h.s.Missed != 1 || h.status() != StatusAvailable {
		t.Fatalf("missed %d status %s", h.s.Missed, h.status())
	}
	// An answered call resets the count.
	h.inbound("ok", "2")
	h.do(Hangup{ID: "ok"})
	h.do(SetOutcome{Key: "ok", Outcome: "Sale"})
	h.do(CompleteWrapUp{Key: "ok"})
	if h.s.Missed != 0 {
		t.Fatalf("missed %d after an answered call", h.s.Missed)
	}
	h.do(CallOffered{ID: "m2", Remote: Party{Number: "3"}})
	h.do(CallEnded{ID: "m2", Cause: CauseRemoteHangup}) // caller gave up
	h.do(CallOffered{ID: "m3", Remote: Party{Number: "4"}})
	h.fire(TimerRing, "m3")
	if h.status() != StatusAutoPaused || h.s.Presence.Reason != AutoPauseReason {
		t.Fatalf("status %s %+v, want auto-paused", h.status(), h.s.Presence)
	}
	wantNotice(t, h, "paused after 2 missed calls")
	if l := h.log("m2"); !l.Missed || l.Cause != CauseMissed {
		t.Fatalf("m2 log missed=%v cause %s", l.Missed, l.Cause)
	}
	if l := h.log("m3"); !l.Missed || l.Cause != CauseRingTimeout {
		t.Fatalf("m3 log missed=%v cause %s", l.Missed, l.Cause)
	}
	// Calls while paused do not count; the agent must set Available again.
	h.do(CallOffered{ID: "m4", Remote: Party{Number: "5"}})
	h.fire(TimerRing, "m4")
	if h.s.Missed != 0 || h.status() != StatusAutoPaused {
		t.Fatalf("missed %d status %s while paused", h.s.Missed, h.status())
	}
	h.do(SetStatus{Status: Status{Presence: PresenceAvailable}})
	if h.status() != StatusAvailable {
		t.Fatalf("status %s", h.status())
	}
}

func TestAutoPauseDropsPendingAvailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.AutoPauseAfter = 1 })
	h.inbound("c1", "1")
	h.do(SetStatus{Status: Status{Presence: PresenceBreak, Reason: "Lunch"}})
	h.do(SetStatus{Status: Status{Presence: PresenceAvailable}}) // back to current: no next
	h.do(SetStatus{Status: Status{Presence: PresenceDND}})
	h.do(CallOffered{ID: "w1", Remote: Party{Number: "2"}}) // call waiting, not answered
	h.fire(TimerRing, "w1")
	if h.s.Presence.Presence != PresenceAutoPaused {
		t.Fatalf("presence %s", h.s.Presence.Presence)
	}
	if h.s.Next == nil || h.s.Next.Presence != PresenceDND {
		t.Fatalf("a pending DND must survive auto-pause, next %+v", h.s.Next)
	}
}

func TestDNDRejectsWith486AndLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do(SetStatus{Status: Status{Presence: PresenceDND}})
	eff := h.do(CallOffered{ID: "c1", Remote: Party{Number: "+4930111", Name: "Bob"}})
	want(t, eff, "Reject c1 486", "SaveLog c1")
	wantNot(t, eff, "Ringer", "StartTimer", "Lookup")
	if l := h.log("c1"); l.Cause != CauseDND || l.Missed || l.Remote.Name != "Bob" {
		t.Fatalf("log %+v", l)
	}
	if h.status() != StatusDND {
		t.Fatalf("status %s", h.status())
	}
}

func TestAllLinesBusy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.MaxLines = 2 })
	h.inbound("c1", "1")
	h.do(CallOffered{ID: "c2", Remote: Party{Number: "2"}})
	want(t, h.do(CallOffered{ID: "c3", Remote: Party{Number: "3"}}), "Reject c3 486", "SaveLog c3")
	wantNotice(t, h, "all lines in use")
	if l := h.log("c3"); l.Cause != CauseLinesBusy {
		t.Fatalf("cause %s", l.Cause)
	}
	h.do(Dial{ID: "d1", Target: "4"})
	wantNotice(t, h, "All 2 lines are in use")
	if h.s.Call("d1") != nil {
		t.Fatal("dialled beyond the line limit")
	}
}

func TestConfigNormalize(t *testing.T) {
	t.Parallel()
	c := Config{MaxConference: 9, RingTimeout: 0, AutoPauseAfter: -3, WrapUpTime: -1, BreakReasons: []string{"Lunch"},
		LoginStatus: Status{Presence: PresenceBreak, Reason: "Nap"}, Outcomes: []string{"A"}, DefaultOutcome: "B"}.Normalize()
	if c.MaxLines != 4 || c.MaxConference != 5 || c.RingTimeout != 30*time.Second || c.AutoPauseAfter != 0 ||
		c.WrapUpTime != 0 || c.LoginStatus.Presence != PresenceAvailable || c.DefaultOutcome != "" ||
		c.ScreenPop != ScreenPopAtRinging || c.Recording != RecordPolicyManual {
		t.Fatalf("normalised %+v", c)
	}
}
