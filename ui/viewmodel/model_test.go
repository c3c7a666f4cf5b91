package viewmodel

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
)

func TestSignedOutShowsLogin(t *testing.T) {
	r := newRig(t, domain.Config{}, nil)
	v := r.view()
	if v.Screen != ScreenLogin || v.Header.SignedIn || v.Header.Status != "Signed out" || v.Header.Dot != DotGrey {
		t.Fatalf("signed-out view: %+v", v)
	}
}

func TestHeaderFollowsStatusAndRegistration(t *testing.T) {
	r := newRig(t, domain.Config{}, nil)
	r.ok(r.a.Login(domain.AgentInfo{ID: "a1", Name: "Alice Smith"}, baseConfig()))
	h := r.view().Header
	if h.Agent != "Alice Smith (a1)" || h.Status != "Connecting…" || h.Dot != DotGrey || h.RegOK {
		t.Fatalf("connecting header: %+v", h)
	}
	r.post(domain.RegistrationChanged{State: domain.RegRegistered})
	v := r.view()
	if v.Screen != ScreenIdle || v.Header.Status != "Break: Signing in" || v.Header.Dot != DotOrange || !v.Header.RegOK {
		t.Fatalf("after registration: %+v", v.Header)
	}
	if v.Selected != "Break: Signing in" {
		t.Fatalf("selected %q", v.Selected)
	}
	labels := []string{}
	for _, o := range v.Options {
		labels = append(labels, o.Label)
	}
	want := []string{"Available", "Break: Break", "Break: Lunch", "Break: Meeting", "Break: Training", "Break: Signing in", "Do not disturb", "Offline (sign out)"}
	if !slices.Equal(labels, want) {
		t.Fatalf("options %q", labels)
	}
	r.ok(r.a.SetStatus(v.Options[0].Status))
	if h := r.view().Header; h.Status != "Available" || h.Dot != DotGreen {
		t.Fatalf("available: %+v", h)
	}
	r.ok(r.a.SetStatus(domain.Status{Presence: domain.PresenceDND}))
	if h := r.view().Header; h.Status != "Do not disturb" || h.Dot != DotRed {
		t.Fatalf("dnd: %+v", h)
	}
	r.post(domain.RegistrationChanged{State: domain.RegFailed, Reason: "timeout"})
	if h := r.view().Header; h.Status != "Disconnected" || h.Dot != DotRed || h.Registration != "Phone: disconnected (timeout)" {
		t.Fatalf("disconnected: %+v", h)
	}
	if h := r.view().Header; h.CRM != "CRM: up to date" || h.CRMProblem {
		t.Fatalf("crm: %+v", h)
	}
	r.m.SetSync(Sync{Failed: 2, LastError: "401 unauthorized"})
	if h := r.view().Header; h.CRM != "CRM: 2 logs failed: 401 unauthorized" || !h.CRMProblem {
		t.Fatalf("crm failed: %+v", h)
	}
}

func TestAutoPauseIsOrangeWithReason(t *testing.T) {
	cfg := baseConfig()
	cfg.AutoPauseAfter = 1
	r := newRig(t, cfg, nil)
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111"}})
	r.post(domain.CallEnded{ID: "c1", Cause: domain.CauseMissed})
	h := r.view().Header
	if h.Status != "Paused: Missed call" || h.Dot != DotOrange {
		t.Fatalf("auto-paused: %+v", h)
	}
	toasts := r.takeToasts()
	if !slices.ContainsFunc(toasts, func(t Toast) bool { return strings.HasPrefix(t.Text, "Missed call from +4930111") }) {
		t.Fatalf("toasts %+v", toasts)
	}
}

func TestIncomingAnswerHoldConsultTransferWrapUp(t *testing.T) {
	r := newRig(t, baseConfig(), nil)
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111", Name: "Bob Jones"}, Queue: "Billing", DialedNumber: "+4930999"})
	v := r.view()
	if v.Screen != ScreenIncoming || v.Incoming == nil {
		t.Fatalf("incoming: %+v", v)
	}
	in := v.Incoming
	if in.Name != "Bob Jones" || in.Number != "+4930111" || in.Queue != "Billing" || in.Dialed != "+4930999" || in.Waiting {
		t.Fatalf("incoming details: %+v", in)
	}
	if in.Match != "Looking up the caller…" {
		t.Fatalf("match %q", in.Match)
	}
	r.post(domain.CallerMatched{Key: in.Key, Records: []domain.CRMRecord{{ID: "r1", Type: "Contact", Name: "Bob Jones"}, {ID: "r2", Type: "Lead", Name: "B. Jones"}}})
	if in := r.view().Incoming; !in.Choose || in.Match != "2 CRM records match: choose one" {
		t.Fatalf("multiple matches: %+v", in)
	}
	r.ok(r.a.ChooseRecord(in.Key, "r2"))
	if in := r.view().Incoming; in.Choose || in.Match != "CRM: B. Jones (Lead)" {
		t.Fatalf("chosen: %+v", in)
	}
	if len(v.Lines) != 1 || !v.Lines[0].Ringing {
		t.Fatalf("lines %+v", v.Lines)
	}

	r.ok(r.a.Answer("c1"))
	if in := r.view().Incoming; in == nil || !in.Answering {
		t.Fatalf("answering: %+v", in)
	}
	r.post(domain.CallAnswered{ID: "c1"})
	r.clock.advance(75 * time.Second)
	v = r.view()
	if v.Screen != ScreenCall || v.Call.Title != "Bob Jones" || v.Call.State != "Connected" || v.Call.Duration != "1:15" {
		t.Fatalf("call: %+v", v.Call)
	}
	if !v.Call.CanHold || v.Call.CanResume || !v.Call.CanTransfer || !v.Call.CanConsult || v.Header.Status != "On call" || v.Header.Dot != DotRed {
		t.Fatalf("call buttons: %+v", v.Call)
	}
	if v.Call.Record != RecordLightOff || v.Call.RecordAction != domain.RecordStart {
		t.Fatalf("record: %+v", v.Call)
	}

	r.ok(r.a.Hold("c1"))
	v = r.view()
	if !v.Call.Held || !v.Call.CanResume || v.Call.CanHold || v.Call.State != "On hold" {
		t.Fatalf("held: %+v", v.Call)
	}
	r.ok(r.a.Resume("c1"))

	cid, err := r.a.Consult("c1", "2001")
	r.ok(err)
	v = r.view()
	if v.Call.Consult == nil || v.Call.Consult.ID != cid || v.Call.Consult.Held != "Bob Jones" || v.Call.Consult.Connected {
		t.Fatalf("consult: %+v", v.Call)
	}
	if v.Call.CanTransfer || len(v.Lines) != 2 {
		t.Fatalf("consult lines: %+v %+v", v.Call, v.Lines)
	}
	r.post(domain.CallAnswered{ID: cid})
	if c := r.view().Call.Consult; !c.Connected || c.State != "Connected" {
		t.Fatalf("consult answered: %+v", c)
	}
	r.ok(r.a.CompleteTransfer(cid))
	r.post(domain.TransferResult{ID: "c1", OK: true})
	v = r.view()
	if v.Screen != ScreenWrapUp || v.WrapUp == nil {
		t.Fatalf("wrap-up after transfer: screen %s calls %+v", v.Screen, r.m.Mirror.Calls)
	}
	w := v.WrapUp
	if !w.Required || !w.Missing || !w.HasTimer || w.Remaining != "1:00 left" || !w.CanExtend || w.Progress != 1 {
		t.Fatalf("wrap-up: %+v", w)
	}
	if !slices.Equal(w.QuickNotes, []string{"Refund"}) || !slices.Equal(w.Outcomes, []string{"Resolved", "Callback"}) {
		t.Fatalf("wrap-up lists: %+v", w)
	}
	r.clock.advance(15 * time.Second)
	r.ok(r.a.ExtendWrapUp(w.Key))
	w = r.view().WrapUp
	if w.CanExtend || w.Remaining != "1:15 left" {
		t.Fatalf("extended: %+v", w)
	}
	r.ok(r.a.AddQuickNote(w.Key, "Refund"))
	r.ok(r.a.SetOutcome(w.Key, "Resolved"))
	w = r.view().WrapUp
	if w.Missing || w.Notes != "Refund issued." {
		t.Fatalf("filled: %+v", w)
	}
	r.ok(r.a.CompleteWrapUp(w.Key))
	if v := r.view(); v.Screen != ScreenIdle || v.Header.Status != "Available" {
		t.Fatalf("after wrap-up: %s %+v", v.Screen, v.Header)
	}
}

func TestConferenceParticipantsAndLeave(t *testing.T) {
	r := newRig(t, baseConfig(), nil)
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111", Name: "Bob"}})
	r.ok(r.a.Answer("c1"))
	r.post(domain.CallAnswered{ID: "c1"})
	cid, err := r.a.Consult("c1", "2001")
	r.ok(err)
	r.post(domain.CallAnswered{ID: cid})
	r.ok(r.a.Merge(cid))
	c := r.view().Call
	if !c.Conference || c.Title != "Conference (3 parties)" || len(c.Participants) != 2 || !c.CanLeave || c.CanTransfer {
		t.Fatalf("conference: %+v", c)
	}
	if c.Participants[0].Label != "Bob" || c.Participants[1].Label != "2001" || c.Participants[0].State != "In conference" {
		t.Fatalf("participants: %+v", c.Participants)
	}
	d, err := r.a.Consult(c.ID, "2002")
	r.ok(err)
	r.post(domain.CallAnswered{ID: d})
	r.ok(r.a.Merge(d))
	if c := r.view().Call; len(c.Participants) != 3 || c.CanLeave || c.Title != "Conference (4 parties)" {
		t.Fatalf("four-party conference: %+v", c)
	}
	r.ok(r.a.EndConference(c.Key))
	for _, id := range []domain.CallID{"c1", cid, d} {
		r.post(domain.CallEnded{ID: id, Cause: domain.CauseLocalHangup})
	}
	if v := r.view(); v.Screen != ScreenWrapUp {
		t.Fatalf("after terminate: %s", v.Screen)
	}
}

func TestFailureToastsInPlainWords(t *testing.T) {
	for _, tc := range []struct {
		cause domain.EndCause
		en    string
		de    string
	}{
		{domain.CauseBusy, "The number is busy", "Die Nummer ist besetzt"},
		{domain.CauseNoAnswer, "No answer", "Keine Antwort"},
		{domain.CauseInvalidNumber, "The number does not exist or is incomplete", "Die Nummer existiert nicht oder ist unvollständig"},
		{domain.CauseUnavailable, "The number cannot be reached right now", "Die Nummer ist gerade nicht erreichbar"},
		{domain.CauseNetwork, "Network problem: the phone system did not answer", "Netzwerkproblem: Die Telefonanlage hat nicht geantwortet"},
	} {
		for _, lang := range []string{"en", "de"} {
			r := newRig(t, baseConfig(), NewTranslator(lang))
			id, err := r.a.Dial("+4930123")
			r.ok(err)
			r.post(domain.CallFailed{ID: id, Cause: tc.cause})
			want := tc.en
			if lang == "de" {
				want = tc.de
			}
			toasts := r.takeToasts()
			if !slices.ContainsFunc(toasts, func(x Toast) bool { return x.Text == want && x.Kind == domain.NoticeError }) {
				t.Errorf("%s %s: toasts %+v, want %q", tc.cause, lang, toasts, want)
			}
		}
	}
}

func TestRecordingIndicator(t *testing.T) {
	r := newRig(t, baseConfig(), nil)
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111"}})
	r.ok(r.a.Answer("c1"))
	r.post(domain.CallAnswered{ID: "c1"})
	key := r.view().Call.Key
	r.ok(r.a.SetRecording(key, domain.RecordStart))
	if c := r.view().Call; c.Record != RecordLightOn || c.RecordAction != domain.RecordPause || c.RecordText != "Recording" {
		t.Fatalf("recording: %+v", c)
	}
	r.ok(r.a.SetRecording(key, domain.RecordPause))
	if c := r.view().Call; c.Record != RecordLightPaused || c.RecordAction != domain.RecordResume {
		t.Fatalf("paused: %+v", c)
	}

	cfg := baseConfig()
	cfg.Recording = domain.RecordPolicyNotAllowed
	r2 := newRig(t, cfg, nil)
	r2.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111"}})
	r2.ok(r2.a.Answer("c1"))
	r2.post(domain.CallAnswered{ID: "c1"})
	if c := r2.view().Call; c.Record != RecordLightForbidden || c.RecordAction != domain.RecordUnknown {
		t.Fatalf("not allowed: %+v", c)
	}
}

func TestLinesAndCallWaiting(t *testing.T) {
	r := newRig(t, baseConfig(), nil)
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111", Name: "Bob"}})
	r.ok(r.a.Answer("c1"))
	r.post(domain.CallAnswered{ID: "c1"})
	r.post(domain.CallOffered{ID: "c2", Remote: domain.Party{Number: "+4930222", Name: "Carol"}})
	v := r.view()
	if v.Screen != ScreenIncoming || !v.Incoming.Waiting || v.Call == nil || v.Call.ID != "c1" {
		t.Fatalf("call waiting: %+v", v)
	}
	r.ok(r.a.Answer("c2"))
	r.post(domain.CallAnswered{ID: "c2"})
	v = r.view()
	if v.Screen != ScreenCall || v.Call.ID != "c2" || len(v.Lines) != 2 {
		t.Fatalf("second call: %+v", v)
	}
	if !v.Lines[0].Held || v.Lines[0].State != "On hold" || !v.Lines[1].Focused {
		t.Fatalf("lines: %+v", v.Lines)
	}
	// One click on the held line resumes it (and holds the other).
	r.ok(r.a.Resume("c1"))
	v = r.view()
	if v.Call.ID != "c1" || !v.Lines[1].Held || v.Lines[0].Held {
		t.Fatalf("switched: %+v", v.Lines)
	}
}

func TestQualityIndicator(t *testing.T) {
	r := newRig(t, baseConfig(), nil)
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111"}})
	r.ok(r.a.Answer("c1"))
	r.post(domain.CallAnswered{ID: "c1"})
	r.m.SetStats("c1", domain.CallStats{PacketsReceived: 990, PacketsLost: 10, Jitter: 4, RTT: 40})
	q := r.view().Call.Quality
	if q == nil || q.Grade != "Good" || q.Loss != 1 || !strings.HasPrefix(q.Text, "MOS 4.") {
		t.Fatalf("quality: %+v", q)
	}
	r.m.SetStats("nope", domain.CallStats{})
	if _, ok := r.m.stats["nope"]; ok {
		t.Fatal("stats kept for an unknown call")
	}
}

func TestDigitsReceivedAndRemotePartyChange(t *testing.T) {
	r := newRig(t, baseConfig(), nil)
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111", Name: "Bob Jones"}})
	r.ok(r.a.Answer("c1"))
	r.post(domain.CallAnswered{ID: "c1"})
	for _, d := range []string{"1", "2", "#"} {
		r.post(domain.DTMFReceived{ID: "c1", Digit: d})
	}
	if c := r.view().Call; c == nil || c.DigitsReceived != "12#" {
		t.Fatalf("call view %+v", c)
	}
	r.post(domain.RemotePartyChanged{ID: "c1", Party: domain.Party{Number: "+4930999", Name: "Carol"}})
	if c := r.view().Call; c.Title != "Carol" || c.Number != "+4930999" {
		t.Fatalf("after the transfer: title %q number %q", c.Title, c.Number)
	}
}

func TestEstimate(t *testing.T) {
	good := Estimate(domain.CallStats{PacketsReceived: 1000, Jitter: 2, RTT: 20})
	poor := Estimate(domain.CallStats{PacketsReceived: 900, PacketsLost: 100, Jitter: 60, RTT: 400})
	if good.MOS < 4.2 || good.Grade != "Good" || poor.MOS > 3 || poor.Grade != "Poor" {
		t.Fatalf("good %+v poor %+v", good, poor)
	}
	if z := Estimate(domain.CallStats{}); z.Loss != 0 || z.MOS < 4 {
		t.Fatalf("no packets yet: %+v", z)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0:00", -time.Second: "0:00", 59 * time.Second: "0:59", 61 * time.Second: "1:01", 3723 * time.Second: "1:02:03"} {
		if got := FormatDuration(d); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}

func TestInitialNotifyResetsModel(t *testing.T) {
	m := New(nil)
	m.Apply(agent.Notify{Seq: 1, Initial: true, Agent: &agent.AgentView{Status: domain.StatusAvailable, Agent: domain.AgentInfo{ID: "a1"}},
		Calls: []domain.Call{{ID: "x", State: domain.CallStateActive}}})
	if m.View(t0).Screen != ScreenCall {
		t.Fatal("call screen expected")
	}
	m.Apply(agent.Notify{Seq: 2, Initial: true, Agent: &agent.AgentView{Status: domain.StatusOffline}})
	if v := m.View(t0); v.Screen != ScreenLogin || len(v.Lines) != 0 {
		t.Fatalf("after a new snapshot: %+v", v)
	}
}
