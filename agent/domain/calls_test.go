package domain

import (
	"testing"
	"time"
)

func TestInboundAnswerHangupWrapUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	eff := h.do(CallOffered{ID: "c1", Remote: Party{Number: "+4930111", Name: "Bob"}, DialedNumber: "+4930999", Queue: "Sales"})
	want(t, eff, "Lookup c1", "Ringer ring", "StartTimer ring:c1")
	if c := h.call("c1"); c.State != CallStateOffered || c.RingDeadline != t0.Add(30*time.Second) {
		t.Fatalf("call %+v", c)
	}
	h.tick(3 * time.Second)
	want(t, h.do(Answer{ID: "c1"}), "Answer c1", "Ringer off", "CancelTimer ring:c1")
	if h.status() != StatusOnCall {
		t.Fatalf("status %s", h.status())
	}
	h.tick(time.Second)
	want(t, h.do(CallAnswered{ID: "c1"}), "Route [c1]")
	h.tick(60 * time.Second)
	want(t, h.do(CallEnded{ID: "c1", Cause: CauseRemoteHangup}), "Route []", "StartTimer wrap-up:c1")
	if h.status() != StatusWrapUp || h.ix("c1").Phase != PhaseWrapUp {
		t.Fatalf("status %s", h.status())
	}
	h.do(SetOutcome{Key: "c1", Outcome: "Sale"})
	h.do(SetNotes{Key: "c1", Notes: "Renewal"})
	want(t, h.do(CompleteWrapUp{Key: "c1"}), "SaveLog c1", "CancelTimer wrap-up:c1")
	l := h.log("c1")
	if l.Direction != DirectionInbound || l.Remote.Name != "Bob" || l.DialedNumber != "+4930999" || l.Queue != "Sales" ||
		l.Talk != 60*time.Second || l.Outcome != "Sale" || l.Notes != "Renewal" || l.Cause != CauseRemoteHangup ||
		l.AgentID != "a1" || !l.StartedAt.Equal(t0) || !l.AnsweredAt.Equal(t0.Add(4*time.Second)) || len(l.Legs) != 1 {
		t.Fatalf("log %+v", l)
	}
	if h.status() != StatusAvailable || len(h.s.PendingLogs) != 1 {
		t.Fatalf("status %s pending %d", h.status(), len(h.s.PendingLogs))
	}
	h.do(CallLogSaved{Key: "c1"})
	if len(h.s.PendingLogs) != 0 {
		t.Fatal("saved log still pending")
	}
}

func TestRejectAndDecline(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		decline bool
		code    string
	}{{false, "486"}, {true, "603"}} {
		h := newHarness(t)
		h.do(CallOffered{ID: "c1", Remote: Party{Number: "1"}})
		want(t, h.do(Reject{ID: "c1", Decline: tt.decline}), "Reject c1 "+tt.code, "SaveLog c1", "Ringer off", "CancelTimer ring:c1")
		if l := h.log("c1"); l.Cause != CauseRejected || l.Missed {
			t.Fatalf("log cause %s missed %v", l.Cause, l.Missed)
		}
		if h.status() != StatusAvailable {
			t.Fatalf("rejecting must not start wrap-up: %s", h.status())
		}
	}
}

func TestRedirect(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "1"}})
	h.do(Redirect{ID: "c1", Target: "not a number!"})
	wantNotice(t, h, "Cannot redirect")
	want(t, h.do(Redirect{ID: "c1", Target: "+49 (30) 555-12"}), "Redirect c1 +493055512", "SaveLog c1")
	l := h.log("c1")
	if l.Cause != CauseRedirected || len(l.History) != 1 || l.History[0].Action != "redirect" || l.History[0].Target != "+493055512" {
		t.Fatalf("log %+v", l)
	}
	h.do(Answer{ID: "c1"})
	wantNotice(t, h, "no longer ringing")
}

func TestMissedCalls(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.RingTimeout = 20 * time.Second })
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "1", Name: "Eve"}})
	h.do(CallEnded{ID: "c1", Cause: CauseRemoteHangup})
	wantNotice(t, h, "Missed call from Eve")
	h.do(CallOffered{ID: "c2", Remote: Party{Number: "2"}})
	h.tick(19 * time.Second)
	wantNot(t, h.do(TimerFired{Timer: Timer{Kind: TimerRing, Key: "c2"}}), "Reject") // early fire is stale
	want(t, h.fire(TimerRing, "c2"), "Reject c2 480", "SaveLog c2")
	for _, k := range []string{"c1", "c2"} {
		if l := h.log(k); !l.Missed || !l.AnsweredAt.IsZero() {
			t.Fatalf("%s log %+v", k, l)
		}
	}
	// A ring timeout that fires after the agent pressed Answer is ignored.
	h.do(CallOffered{ID: "c3", Remote: Party{Number: "3"}})
	h.do(Answer{ID: "c3"})
	h.tick(time.Minute)
	wantNot(t, h.do(TimerFired{Timer: Timer{Kind: TimerRing, Key: "c3"}}), "Reject")
	// CANCEL racing our answer: the call is missed, not answered.
	h.do(CallEnded{ID: "c3", Cause: CauseMissed})
	if l := h.log("c3"); !l.Missed {
		t.Fatalf("c3 log %+v", l)
	}
	if h.status() != StatusAvailable {
		t.Fatalf("status %s", h.status())
	}
}

func TestOutbound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	want(t, h.do(Dial{ID: "d1", Target: "tel:+1-212-555-0100"}), "Dial d1 +12125550100", "Lookup d1")
	if c := h.call("d1"); c.State != CallStateDialing || c.Direction != DirectionOutbound {
		t.Fatalf("call %+v", c)
	}
	want(t, h.do(CallProgress{ID: "d1"}), "Ringback d1")
	want(t, h.do(CallProgress{ID: "d1", EarlyMedia: true}), "Ringback off")
	want(t, h.do(CallAnswered{ID: "d1"}), "Route [d1]")
	h.tick(10 * time.Second)
	h.do(Hangup{ID: "d1"})
	h.do(CompleteWrapUp{Key: "d1"})
	if l := h.log("d1"); l.Direction != DirectionOutbound || l.Cause != CauseLocalHangup || l.Talk != 10*time.Second {
		t.Fatalf("log %+v", l)
	}
}

func TestOutboundFailures(t *testing.T) {
	t.Parallel()
	for _, cause := range []EndCause{CauseBusy, CauseNoAnswer, CauseInvalidNumber, CauseUnavailable, CauseDeclined, CauseNetwork, CauseFailed} {
		t.Run(cause.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.do(Dial{ID: "d1", Target: "123"})
			h.do(CallProgress{ID: "d1"})
			want(t, h.do(CallFailed{ID: "d1", Cause: cause, Reason: "SIP"}), "SaveLog d1", "Ringback off")
			wantNotice(t, h, cause.Message())
			if l := h.log("d1"); l.Cause != cause || l.Legs[0].Reason != "SIP" {
				t.Fatalf("log %+v", l)
			}
			if h.status() != StatusAvailable {
				t.Fatalf("a failed call must not start wrap-up: %s", h.status())
			}
		})
	}
	// A remote end before answer maps to a failure too.
	h := newHarness(t)
	h.do(Dial{ID: "d1", Target: "123"})
	h.do(CallEnded{ID: "d1", Cause: CauseRemoteHangup})
	if l := h.log("d1"); l.Cause != CauseFailed {
		t.Fatalf("cause %s", l.Cause)
	}
	// Cancelling a dialling call.
	h.do(Dial{ID: "d2", Target: "123"})
	want(t, h.do(Hangup{ID: "d2"}), "Hangup d2", "SaveLog d2")
	if l := h.log("d2"); l.Cause != CauseCancelled {
		t.Fatalf("cause %s", l.Cause)
	}
}

func TestCauseFromSIP(t *testing.T) {
	t.Parallel()
	for code, want := range map[int]EndCause{486: CauseBusy, 600: CauseBusy, 408: CauseNoAnswer, 480: CauseNoAnswer,
		404: CauseInvalidNumber, 484: CauseInvalidNumber, 485: CauseInvalidNumber, 503: CauseUnavailable,
		603: CauseDeclined, 487: CauseCancelled, 500: CauseFailed, 200: CauseUnknown} {
		if got := CauseFromSIP(code); got != want {
			t.Errorf("CauseFromSIP(%d) = %s, want %s", code, got, want)
		}
	}
}

func TestDialRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tt := range []struct{ target, notice string }{
		{"", "Enter a number"}, {"12 ab?", "not a phone number"}, {"1234567890123456789012345678901234", "too long"},
	} {
		h.do(Dial{ID: "d1", Target: tt.target})
		wantNotice(t, h, tt.notice)
		if len(h.s.Calls) != 0 {
			t.Fatalf("%q created a call", tt.target)
		}
	}
	h.outbound("d1", "1")
	h.do(Dial{ID: "d1", Target: "2"})
	wantNotice(t, h, "internal error")
}

func TestHoldResume(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "1")
	h.tick(5 * time.Second)
	want(t, h.do(Hold{ID: "c1"}), "Hold c1", "Route []")
	if h.call("c1").State != CallStateHeld {
		t.Fatal("not held")
	}
	h.do(Hold{ID: "c1"}) // twice is harmless
	h.tick(7 * time.Second)
	want(t, h.do(Resume{ID: "c1"}), "Unhold c1", "Route [c1]")
	h.tick(3 * time.Second)
	h.do(Hold{ID: "c1"})
	h.tick(2 * time.Second)
	h.do(Hangup{ID: "c1"}) // ends while held: the open hold counts
	h.do(CompleteWrapUp{Key: "c1"})
	if l := h.log("c1"); l.Hold != 9*time.Second || l.Talk != 8*time.Second {
		t.Fatalf("hold %s talk %s", l.Hold, l.Talk)
	}
	h.do(Hold{ID: "nope"})
	wantNotice(t, h, "Only a connected call")
}

func TestRemoteHoldAndHoldFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "1")
	h.do(RemoteHold{ID: "c1", On: true})
	if !h.call("c1").RemoteHeld || h.call("c1").State != CallStateActive {
		t.Fatal("remote hold not recorded")
	}
	h.do(RemoteHold{ID: "c1", On: false})
	h.do(Hold{ID: "c1"})
	h.do(HoldFailed{ID: "c1", On: true, Reason: "488"})
	wantNotice(t, h, "refused to hold")
	if h.call("c1").State != CallStateHeld {
		t.Fatal("a refused hold must keep the call out of the headset")
	}
}

func TestCallWaiting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "1")
	want(t, h.do(CallOffered{ID: "c2", Remote: Party{Number: "2"}}), "Ringer waiting")
	want(t, h.do(Answer{ID: "c2"}), "Hold c1", "Answer c2", "Ringer off", "Route []")
	want(t, h.do(CallAnswered{ID: "c2"}), "Route [c2]")
	want(t, h.do(Resume{ID: "c1"}), "Hold c2", "Unhold c1", "Route [c1]")
	if h.ix("c1").Key == h.ix("c2").Key {
		t.Fatal("separate customers must be separate interactions")
	}
	h.do(Hangup{ID: "c1"})
	if h.status() != StatusOnCall {
		t.Fatalf("status %s with c2 held", h.status())
	}
	h.do(Resume{ID: "c2"})
	h.do(Hangup{ID: "c2"})
	h.do(CompleteWrapUp{Key: "c1"})
	h.do(CompleteWrapUp{Key: "c2"})
	h.log("c1")
	h.log("c2")
}

func TestLateAnswerOfOtherCallIsHeld(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do(Dial{ID: "d1", Target: "1"})
	h.do(CallOffered{ID: "c2", Remote: Party{Number: "2"}})
	h.do(Answer{ID: "c2"})
	h.do(CallAnswered{ID: "c2"})
	want(t, h.do(CallAnswered{ID: "d1"}), "Hold d1")
	wantNotice(t, h, "answered and is on hold")
	if h.call("c2").State != CallStateActive || h.call("d1").State != CallStateHeld {
		t.Fatal("the agent's focus call must keep the headset")
	}
}

func TestMuteAndDTMF(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do(Mute{On: true})
	if h.s.Muted {
		t.Fatal("muted without a call")
	}
	h.inbound("c1", "1")
	want(t, h.do(Mute{On: true}), "Mute true")
	want(t, h.do(SendDTMF{ID: "c1", Digits: "12#*a"}), "DTMF c1 12#*A")
	h.do(SendDTMF{ID: "c1", Digits: "12x"})
	wantNotice(t, h, "Only the digits")
	h.do(Hold{ID: "c1"})
	h.do(SendDTMF{ID: "c1", Digits: "1"})
	wantNotice(t, h, "active call")
	want(t, h.do(Hangup{ID: "c1"}), "Mute false")
	if h.s.Muted {
		t.Fatal("mute must reset when the last call ends")
	}
}

func TestBlindTransfer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "1")
	want(t, h.do(BlindTransfer{ID: "c1", Target: "201"}), "Transfer c1 201")
	h.do(BlindTransfer{ID: "c1", Target: "202"})
	wantNotice(t, h, "already in progress")
	h.do(TransferResult{ID: "c1", OK: false, Reason: "403 Forbidden"})
	wantNotice(t, h, "Transfer failed: 403 Forbidden")
	if h.call("c1").Transfer != TransferNone {
		t.Fatal("transfer flag not reset")
	}
	h.do(BlindTransfer{ID: "c1", Target: "202"})
	h.do(TransferResult{ID: "c1", OK: true})
	if h.status() != StatusWrapUp {
		t.Fatalf("status %s", h.status())
	}
	h.do(CompleteWrapUp{Key: "c1"})
	l := h.log("c1")
	if l.Cause != CauseTransferred || len(l.History) != 4 || l.History[3].Action != "transferred" {
		t.Fatalf("log %+v", l)
	}
}

func TestConsultComplete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "+4930111")
	want(t, h.do(ConsultStart{ID: "c1", NewID: "k1", Target: "201"}), "Hold c1", "Dial k1 201", "Route []")
	h.do(ConsultStart{ID: "c1", NewID: "k2", Target: "202"})
	wantNotice(t, h, "current consultation")
	h.do(CallProgress{ID: "k1"})
	h.do(ConsultComplete{ID: "k1"})
	wantNotice(t, h, "Wait until")
	h.do(CallAnswered{ID: "k1"})
	if h.call("k1").Role != RoleConsult || h.call("k1").Interaction != "c1" {
		t.Fatalf("consult leg %+v", h.call("k1"))
	}
	want(t, h.do(ConsultComplete{ID: "k1"}), "TransferTo c1 k1")
	want(t, h.do(TransferResult{ID: "c1", OK: true}), "Hangup c1", "Hangup k1", "Route []")
	if len(h.s.Calls) != 0 || h.status() != StatusWrapUp {
		t.Fatalf("calls %d status %s", len(h.s.Calls), h.status())
	}
	h.do(CompleteWrapUp{Key: "c1"})
	l := h.log("c1")
	if len(l.Legs) != 2 || l.Legs[0].Cause != CauseTransferred || l.Legs[1].Cause != CauseTransferred {
		t.Fatalf("legs %+v", l.Legs)
	}
	if len(h.saved) != 1 {
		t.Fatalf("%d logs for one interaction", len(h.saved))
	}
}

func TestConsultCancelAndFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "1")
	h.do(ConsultStart{ID: "c1", NewID: "k1", Target: "201"})
	want(t, h.do(ConsultCancel{ID: "k1"}), "Hangup k1", "Unhold c1", "Route [c1]")
	h.do(ConsultStart{ID: "c1", NewID: "k2", Target: "202"})
	h.do(CallFailed{ID: "k2", Cause: CauseBusy})
	wantNotice(t, h, "still on hold")
	if h.call("c1").State != CallStateHeld {
		t.Fatal("the caller must stay on hold after a failed consult")
	}
	// The held caller hangs up during a consult: the consult goes on.
	h.do(ConsultStart{ID: "c1", NewID: "k3", Target: "203"})
	h.do(CallAnswered{ID: "k3"})
	h.do(CallEnded{ID: "c1", Cause: CauseRemoteHangup})
	h.do(ConsultComplete{ID: "k3"})
	wantNotice(t, h, "held caller has hung up")
	if h.status() != StatusOnCall {
		t.Fatalf("status %s", h.status())
	}
	h.do(Hangup{ID: "k3"})
	h.do(CompleteWrapUp{Key: "c1"})
	if l := h.log("c1"); len(l.Legs) != 4 {
		t.Fatalf("legs %d", len(l.Legs))
	}
}

func TestConferenceToFiveAndLeave(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "1")
	h.do(ConsultStart{ID: "c1", NewID: "k1", Target: "201"})
	h.do(CallAnswered{ID: "k1"})
	want(t, h.do(ConsultMerge{ID: "k1"}), "Unhold c1", "Route [c1 k1]")
	if !h.ix("c1").Conference || !h.call("c1").Conference || !h.call("k1").Conference {
		t.Fatal("no conference")
	}
	for i, id := range []CallID{"k2", "k3"} {
		want(t, h.do(ConsultStart{ID: "c1", NewID: id, Target: "20" + string(rune('2'+i))}), "Hold c1", "Hold k1")
		h.do(CallAnswered{ID: id})
		h.do(ConsultMerge{ID: id})
	}
	if r := Derive(&h.s).Route; len(r) != 4 {
		t.Fatalf("route %v, want 4 parties mixed", r)
	}
	h.do(ConsultStart{ID: "c1", NewID: "k4", Target: "205"})
	wantNotice(t, h, "at most 5 parties")
	h.do(ConferenceLeave{Key: "c1"})
	wantNotice(t, h, "exactly two other parties")
	// Hold and resume act on the whole conference.
	want(t, h.do(Hold{ID: "k2"}), "Hold c1", "Hold k1", "Hold k2", "Hold k3", "Route []")
	want(t, h.do(Resume{ID: "c1"}), "Unhold c1", "Unhold k1", "Unhold k2", "Unhold k3")
	// Removing one participant keeps the rest.
	want(t, h.do(Hangup{ID: "k3"}), "Hangup k3", "Route [c1 k1 k2]")
	h.do(CallEnded{ID: "k2", Cause: CauseRemoteHangup})
	if !h.ix("c1").Conference {
		t.Fatal("conference of three ended too early")
	}
	want(t, h.do(ConferenceLeave{Key: "c1"}), "TransferTo c1 k1")
	h.do(TransferResult{ID: "c1", OK: true})
	if len(h.s.Calls) != 0 || h.status() != StatusWrapUp {
		t.Fatalf("calls %d status %s", len(h.s.Calls), h.status())
	}
	h.do(CompleteWrapUp{Key: "c1"})
	l := h.log("c1")
	if len(l.Legs) != 4 {
		t.Fatalf("legs %d", len(l.Legs))
	}
}

func TestConferenceTerminateAndDissolve(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "1")
	h.do(ConsultStart{ID: "c1", NewID: "k1", Target: "201"})
	h.do(CallAnswered{ID: "k1"})
	h.do(ConsultMerge{ID: "k1"})
	h.do(CallEnded{ID: "k1"})
	if h.ix("c1").Conference || h.call("c1").Conference {
		t.Fatal("a conference of one must dissolve into a normal call")
	}
	h.do(ConsultStart{ID: "c1", NewID: "k2", Target: "202"})
	h.do(CallAnswered{ID: "k2"})
	h.do(ConsultMerge{ID: "k2"})
	want(t, h.do(ConferenceTerminate{Key: "c1"}), "Hangup c1", "Hangup k2")
	if h.status() != StatusWrapUp {
		t.Fatalf("status %s", h.status())
	}
	h.do(ConferenceTerminate{Key: "c1"})
	wantNotice(t, h, "no conference")
}
