package domain

import (
	"strings"
	"testing"
	"time"
)

func TestAutoWrapWithDefaultOutcome(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.DefaultOutcome = "Callback"; c.OutcomeRequired = true })
	h.inbound("c1", "1")
	h.do(Hangup{ID: "c1"})
	if at := Derive(&h.s).Timers[Timer{Kind: TimerWrapUp, Key: "c1"}]; !at.Equal(t0.Add(60 * time.Second)) {
		t.Fatalf("wrap-up deadline %v", at)
	}
	want(t, h.fire(TimerWrapUp, "c1"), "SaveLog c1")
	if l := h.log("c1"); l.Outcome != "Callback" {
		t.Fatalf("outcome %q", l.Outcome)
	}
	// A chosen outcome wins over the default.
	h.inbound("c2", "1")
	h.do(Hangup{ID: "c2"})
	h.do(SetOutcome{Key: "c2", Outcome: "Sale"})
	h.fire(TimerWrapUp, "c2")
	if l := h.log("c2"); l.Outcome != "Sale" {
		t.Fatalf("outcome %q", l.Outcome)
	}
}

func TestMandatoryOutcome(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.OutcomeRequired = true })
	h.inbound("c1", "1")
	h.do(Hangup{ID: "c1"})
	h.do(CompleteWrapUp{Key: "c1"})
	wantNotice(t, h, "Choose an outcome")
	want(t, h.fire(TimerWrapUp, "c1"), "CancelTimer wrap-up:c1")
	if !h.ix("c1").Overdue || h.status() != StatusWrapUp {
		t.Fatal("expired wrap-up without an outcome must stay open")
	}
	wantNotice(t, h, "Wrap-up time is up")
	h.do(SetOutcome{Key: "c1", Outcome: "Lottery"})
	wantNotice(t, h, "from the list")
	h.do(SetOutcome{Key: "c1", Outcome: "No sale"})
	want(t, h.do(CompleteWrapUp{Key: "c1"}), "SaveLog c1")
}

func TestManualWrapUpAndExtend(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.WrapUpTime = 0 })
	h.inbound("c1", "1")
	wantNot(t, h.do(Hangup{ID: "c1"}), "StartTimer")
	h.do(ExtendWrapUp{Key: "c1"})
	wantNotice(t, h, "no time limit")
	h.do(CompleteWrapUp{Key: "c1"})
	h.log("c1")

	h = newHarness(t, func(c *Config) { c.WrapUpTime = 30 * time.Second; c.WrapUpExtend = 20 * time.Second })
	h.inbound("c1", "1")
	h.do(ExtendWrapUp{Key: "c1"})
	wantNotice(t, h, "starts when the call has ended")
	h.do(Hangup{ID: "c1"})
	h.tick(10 * time.Second)
	want(t, h.do(ExtendWrapUp{Key: "c1"}), "StartTimer wrap-up:c1")
	if at := Derive(&h.s).Timers[Timer{Kind: TimerWrapUp, Key: "c1"}]; !at.Equal(t0.Add(50 * time.Second)) {
		t.Fatalf("extended deadline %v", at)
	}
	h.do(ExtendWrapUp{Key: "c1"})
	wantNotice(t, h, "only once")
	h.now = t0.Add(30 * time.Second)
	wantNot(t, h.do(TimerFired{Timer: Timer{Kind: TimerWrapUp, Key: "c1"}}), "SaveLog") // old deadline: stale
	h.fire(TimerWrapUp, "c1")
	h.log("c1")

	h = newHarness(t, func(c *Config) { c.WrapUpExtend = 0 })
	h.inbound("c1", "1")
	h.do(Hangup{ID: "c1"})
	h.do(ExtendWrapUp{Key: "c1"})
	wantNotice(t, h, "not allowed")
}

func TestNotesAndQuickNotes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "1")
	h.do(SetNotes{Key: "c1", Notes: "Asked about price"})
	h.do(AddQuickNote{Key: "c1", Name: "cb"})
	h.do(AddQuickNote{Key: "c1", Name: "zz"})
	wantNotice(t, h, "no quick note")
	h.do(SetNotes{Key: "c1", Notes: strings.Repeat("x", maxNotesLen+1)})
	wantNotice(t, h, "too long")
	h.do(Hangup{ID: "c1"})
	h.do(AddQuickNote{Key: "c1", Name: "vm"})
	h.do(CompleteWrapUp{Key: "c1"})
	if l := h.log("c1"); l.Notes != "Asked about price\nCustomer wants a callback\nLeft voicemail" {
		t.Fatalf("notes %q", l.Notes)
	}
	h.do(SetNotes{Key: "c1", Notes: "late"})
	wantNotice(t, h, "already been wrapped up")
}

func TestDoNotLog(t *testing.T) {
	t.Parallel()
	// The value when the interaction is finalised decides; toggles while
	// ringing, dialling, on hold and in wrap-up all count.
	h := newHarness(t)
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "1"}})
	h.do(SetDoNotLog{Key: "c1", On: true})
	h.do(Answer{ID: "c1"})
	h.do(CallAnswered{ID: "c1"})
	h.do(Hold{ID: "c1"})
	h.do(SetDoNotLog{Key: "c1", On: false})
	h.do(SetDoNotLog{Key: "c1", On: true})
	h.do(Hangup{ID: "c1"})
	wantNot(t, h.do(CompleteWrapUp{Key: "c1"}), "SaveLog")
	h.notLogged("c1")

	h.do(Dial{ID: "d1", Target: "2"})
	h.do(SetDoNotLog{Key: "d1", On: true})
	h.do(SetDoNotLog{Key: "d1", On: false})
	h.do(CallFailed{ID: "d1", Cause: CauseBusy})
	h.log("d1")

	// The flag resets to the configured default for the next call.
	h.inbound("c2", "3")
	if h.ix("c2").DoNotLog {
		t.Fatal("flag carried over to the next call")
	}
	h.do(Hangup{ID: "c2"})
	h.do(SetDoNotLog{Key: "c2", On: true})
	h.do(CompleteWrapUp{Key: "c2"})
	h.notLogged("c2")

	h = newHarness(t, func(c *Config) { c.DoNotLogDefault = true })
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "1"}})
	h.do(CallEnded{ID: "c1"})
	h.notLogged("c1")
}

func TestRecording(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "1"}})
	h.do(SetRecording{Key: "c1", Action: RecordStart})
	wantNotice(t, h, "once the call is answered")
	h.do(Answer{ID: "c1"})
	h.do(CallAnswered{ID: "c1"})
	want(t, h.do(SetRecording{Key: "c1", Action: RecordStart}), "Record c1 start")
	h.do(RecordingStarted{Key: "c1", Ref: "rec/c1-1.wav"})
	want(t, h.do(SetRecording{Key: "c1", Action: RecordPause}), "Record c1 pause")
	if h.ix("c1").Recording != RecordingPaused {
		t.Fatal("not paused")
	}
	want(t, h.do(SetRecording{Key: "c1", Action: RecordResume}), "Record c1 resume")
	want(t, h.do(Hangup{ID: "c1"}), "Record c1 stop")
	h.do(CompleteWrapUp{Key: "c1"})
	if l := h.log("c1"); len(l.Recordings) != 1 || l.Recordings[0] != "rec/c1-1.wav" {
		t.Fatalf("recordings %v", l.Recordings)
	}

	h.inbound("c2", "1")
	h.do(SetRecording{Key: "c2", Action: RecordStart})
	h.do(RecordingFailed{Key: "c2", Reason: "disk full"})
	wantNotice(t, h, "Recording failed: disk full")
	if h.ix("c2").Recording != RecordingOff {
		t.Fatal("failed recording still shown as on")
	}

	h = newHarness(t, func(c *Config) { c.Recording = RecordPolicyAuto })
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "1"}})
	h.do(Answer{ID: "c1"})
	want(t, h.do(CallAnswered{ID: "c1"}), "Record c1 start")

	h = newHarness(t, func(c *Config) { c.Recording = RecordPolicyNotAllowed })
	h.inbound("c1", "1")
	if h.ix("c1").Recording != RecordingNotAllowed {
		t.Fatalf("recording %s", h.ix("c1").Recording)
	}
	wantNot(t, h.do(SetRecording{Key: "c1", Action: RecordStart}), "Record")
	wantNotice(t, h, "not allowed")
}

func TestBookmarksAndAnnouncements(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "1")
	h.tick(42 * time.Second)
	h.do(AddBookmark{Key: "c1", Label: " complaint "})
	want(t, h.do(PlayAnnouncement{ID: "c1", Name: "gdpr"}), "Announce c1 gdpr")
	h.do(PlayAnnouncement{ID: "c1", Name: "gdpr"})
	wantNotice(t, h, "already playing")
	h.do(AnnouncementDone{ID: "c1"})
	if h.call("c1").Announcement != "" {
		t.Fatal("announcement still shown")
	}
	h.do(PlayAnnouncement{ID: "c1", Name: "other"})
	h.do(AnnouncementDone{ID: "c1", Reason: "file missing"})
	wantNotice(t, h, "file missing")
	h.do(Hangup{ID: "c1"})
	h.do(AddBookmark{Key: "c1"})
	wantNotice(t, h, "during a connected call")
	h.do(CompleteWrapUp{Key: "c1"})
	l := h.log("c1")
	if len(l.Bookmarks) != 1 || l.Bookmarks[0].Offset != 42*time.Second || l.Bookmarks[0].Label != "complaint" {
		t.Fatalf("bookmarks %+v", l.Bookmarks)
	}
}

func TestScreenPop(t *testing.T) {
	t.Parallel()
	rec := CRMRecord{ID: "003A", Type: "Contact", Name: "Bob Smith", URL: "https://x/003A"}
	other := CRMRecord{ID: "003B", Type: "Lead", Name: "Bob Smyth"}

	h := newHarness(t) // at ringing
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "1"}})
	want(t, h.do(CallerMatched{Key: "c1", Records: []CRMRecord{rec}}), "Pop c1 003A")
	if h.call("c1").Remote.Name != "Bob Smith" || h.ix("c1").RecordID != "003A" {
		t.Fatal("single match not applied to caller ID")
	}
	h.do(Answer{ID: "c1"})
	wantNot(t, h.do(CallAnswered{ID: "c1"}), "Pop") // only once

	h = newHarness(t, func(c *Config) { c.ScreenPop = ScreenPopAtAnswer })
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "1"}})
	wantNot(t, h.do(CallerMatched{Key: "c1", Records: []CRMRecord{rec}}), "Pop")
	h.do(Answer{ID: "c1"})
	want(t, h.do(CallAnswered{ID: "c1"}), "Pop c1 003A")
	h.do(CallOffered{ID: "c2", Remote: Party{Number: "1"}}) // match arriving after answer
	h.do(Answer{ID: "c2"})
	h.do(CallAnswered{ID: "c2"})
	want(t, h.do(CallerMatched{Key: "c2", Records: []CRMRecord{rec}}), "Pop c2 003A")

	h = newHarness(t, func(c *Config) { c.ScreenPop = ScreenPopNever })
	h.inbound("c1", "1")
	wantNot(t, h.do(CallerMatched{Key: "c1", Records: []CRMRecord{rec}}), "Pop")

	// Several matches: the agent chooses; the log goes to the chosen one.
	h = newHarness(t)
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "1"}})
	wantNot(t, h.do(CallerMatched{Key: "c1", Records: []CRMRecord{rec, other, rec}}), "Pop")
	if ix := h.ix("c1"); ix.Match != MatchMultiple || len(ix.Matches) != 2 || ix.RecordID != "" {
		t.Fatalf("match %s %d", ix.Match, len(ix.Matches))
	}
	h.do(ChooseRecord{Key: "c1", RecordID: "nope"})
	wantNotice(t, h, "not one of the matches")
	want(t, h.do(ChooseRecord{Key: "c1", RecordID: "003B"}), "Pop c1 003B")
	h.do(Answer{ID: "c1"})
	h.do(CallAnswered{ID: "c1"})
	h.do(Hangup{ID: "c1"})
	h.do(CompleteWrapUp{Key: "c1"})
	if l := h.log("c1"); l.RecordID != "003B" || len(l.Matches) != 2 {
		t.Fatalf("log record %q matches %d", l.RecordID, len(l.Matches))
	}

	// No match offers a new contact.
	h.do(CallOffered{ID: "c2", Remote: Party{Number: "+4930111"}})
	h.do(CallerMatched{Key: "c2"})
	if h.ix("c2").Match != MatchNone {
		t.Fatal("no match not recorded")
	}
	want(t, h.do(CreateContact{Key: "c2"}), "PopNew c2")
	h.do(CallerMatched{Key: "c2", Err: "503"})
	wantNotice(t, h, "CRM lookup failed")

	// Outbound calls are matched (for the log) but never popped.
	h.do(Reject{ID: "c2"})
	h.do(Dial{ID: "d1", Target: "1"})
	wantNot(t, h.do(CallerMatched{Key: "d1", Records: []CRMRecord{rec}}), "Pop")
	if h.ix("d1").RecordID != "003A" {
		t.Fatal("outbound match not kept for the log")
	}
}

func TestCallLogSaveRetry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) { c.LogRetryInterval = time.Second })
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "1"}})
	h.do(Reject{ID: "c1"})
	want(t, h.do(CallLogFailed{Key: "c1", Reason: "disk full"}), "StartTimer log-retry:c1")
	wantNotice(t, h, "disk full")
	want(t, h.fire(TimerLogRetry, "c1"), "SaveLog c1", "CancelTimer log-retry:c1")
	h.do(CallLogFailed{Key: "c1", Reason: "disk full"})
	if len(h.notices()) != 0 {
		t.Fatal("repeated failures must not repeat the toast")
	}
	if at := Derive(&h.s).Timers[Timer{Kind: TimerLogRetry, Key: "c1"}]; !at.Equal(h.now.Add(2 * time.Second)) {
		t.Fatalf("second retry at %v, want doubled back-off", at)
	}
	h.fire(TimerLogRetry, "c1")
	h.do(CallLogSaved{Key: "c1"})
	if len(h.s.PendingLogs) != 0 || len(Derive(&h.s).Timers) != 0 {
		t.Fatal("log still pending")
	}
	if len(h.saved) != 3 {
		t.Fatalf("%d save attempts", len(h.saved))
	}
}

func TestEffectFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do(EffectFailed{Effect: Register{}, Reason: "403 wrong password"})
	if h.status() != StatusDisconnected {
		t.Fatalf("status %s", h.status())
	}
	h.do(RegistrationChanged{State: RegRegistered})
	h.do(Dial{ID: "d1", Target: "1"})
	h.do(EffectFailed{Effect: DialCall{ID: "d1", Target: "1"}, Reason: "no route"})
	if h.s.Call("d1") != nil || h.log("d1").Cause != CauseFailed {
		t.Fatal("refused dial not ended")
	}
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "1"}})
	h.do(Answer{ID: "c1"})
	h.do(EffectFailed{Effect: AnswerCall{ID: "c1"}, Reason: "call gone"})
	wantNotice(t, h, "Could not answer")
	if h.s.Call("c1") != nil {
		t.Fatal("unanswerable call left ringing")
	}
	h.inbound("c2", "1")
	h.do(BlindTransfer{ID: "c2", Target: "201"})
	h.do(EffectFailed{Effect: TransferCall{ID: "c2", Target: "201"}, Reason: "no dialog"})
	if h.call("c2").Transfer != TransferNone {
		t.Fatal("refused transfer still pending")
	}
	h.do(SetRecording{Key: "c2", Action: RecordStart})
	h.do(EffectFailed{Effect: RecordCalls{Key: "c2", Action: RecordStart}, Reason: "no audio"})
	if h.ix("c2").Recording != RecordingOff {
		t.Fatal("refused recording shown as on")
	}
	h.do(EffectFailed{Effect: SetAudioRoute{}, Reason: "headset unplugged"})
	wantNotice(t, h, "Audio problem: headset unplugged")
}
