package ui

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

func TestLoginLogoutHotDesk(t *testing.T) {
	r := newRig(t)
	r.wantScreen(viewmodel.ScreenLogin)
	l := r.d.login
	if l.remember.Disabled() || !l.password.Visible() {
		t.Fatal("remember me and password must be offered on a personal PC")
	}
	r.tap(l.signIn)
	if l.message.Text != "Enter your agent ID to sign in" {
		t.Fatalf("empty ID message %q", l.message.Text)
	}
	l.agentID.SetText("a1")
	l.password.SetText("wrong")
	l.remember.SetChecked(true)
	r.tap(l.signIn)
	if !strings.Contains(l.message.Text, "wrong agent ID or password") || l.password.Text != "" {
		t.Fatalf("failed sign-in: message %q, password kept %q", l.message.Text, l.password.Text)
	}
	r.wantScreen(viewmodel.ScreenLogin)
	l.password.SetText("secret")
	r.tap(l.signIn)
	if got := r.accounts.signIns; !slices.Equal(got, []string{"a1 remember=yes", "a1 remember=yes"}) {
		t.Fatalf("sign-ins %q", got)
	}
	r.rec.WaitFor(t, "Register", effectWait)
	r.post(domain.RegistrationChanged{State: domain.RegRegistered})
	r.wantScreen(viewmodel.ScreenIdle)
	// Who is signed in is shown plainly: header and window title.
	if r.d.header.agent.Text != "Alice Smith (a1)" || r.d.header.status.Text != "Break: Signing in" {
		t.Fatalf("header %q %q", r.d.header.agent.Text, r.d.header.status.Text)
	}
	if last := r.shell.titles[len(r.shell.titles)-1]; last != "Softphone · Alice Smith (a1)" {
		t.Fatalf("title %q", last)
	}
	// Typing goes to the number entry without a click.
	test.TypeOnCanvas(r.win.Canvas(), "12")
	if r.d.idle.number.Text != "12" {
		t.Fatalf("typed after sign-in: %q", r.d.idle.number.Text)
	}
	r.d.idle.number.SetText("")

	// Sign out from the status menu.
	r.tap(r.d.header.status)
	menu := r.win.Canvas().Overlays().Top()
	if menu == nil {
		t.Fatal("status menu did not open")
	}
	r.d.chooseStatus(r.d.view.Options[len(r.d.view.Options)-1].Status) // "Offline (sign out)"
	r.rec.WaitFor(t, "Unregister", effectWait)
	r.settle()
	r.wantScreen(viewmodel.ScreenLogin)
	if !slices.Equal(r.accounts.signedOut, []string{"a1"}) {
		t.Fatalf("signed-out cleanup %q", r.accounts.signedOut)
	}
	if r.d.header.agent.Text != "" {
		t.Fatalf("agent still shown: %q", r.d.header.agent.Text)
	}
}

func TestSharedPCNeverRemembers(t *testing.T) {
	r := newRig(t, func(r *rig, _ *[]Option) {
		r.accounts.shared = true
		r.accounts.remembered = "a9"
		r.accounts.sso = "Salesforce"
	})
	l := r.d.login
	if !l.remember.Disabled() || l.remember.Checked || !l.shared.Visible() {
		t.Fatal("remember me must be off and locked on a shared PC")
	}
	if l.agentID.Text != "" {
		t.Fatalf("a shared PC must not prefill the last agent: %q", l.agentID.Text)
	}
	if !l.sso.Visible() || l.sso.Text != "Sign in with Salesforce" {
		t.Fatalf("sso button %q", l.sso.Text)
	}
	l.agentID.SetText("a1")
	l.password.SetText("secret")
	l.remember.Checked = true // even if forced, a shared PC never remembers
	r.tap(l.signIn)
	if got := r.accounts.signIns; !slices.Equal(got, []string{"a1 remember=no"}) {
		t.Fatalf("sign-ins %q", got)
	}
}

func TestRememberedAgentIsPrefilled(t *testing.T) {
	r := newRig(t, func(r *rig, _ *[]Option) { r.accounts.remembered = "a7" })
	if r.d.login.agentID.Text != "a7" || !r.d.login.remember.Checked {
		t.Fatalf("prefill %q %v", r.d.login.agentID.Text, r.d.login.remember.Checked)
	}
}

func TestSSOSignIn(t *testing.T) {
	r := newRig(t, func(r *rig, _ *[]Option) { r.accounts.sso = "HubSpot" })
	r.tap(r.d.login.sso)
	r.rec.WaitFor(t, "Register", effectWait)
	r.post(domain.RegistrationChanged{State: domain.RegRegistered})
	if r.d.header.agent.Text != "Alice Smith (a1)" {
		t.Fatalf("header %q", r.d.header.agent.Text)
	}
}

func TestAnswerHoldConsultTransferWrapUp(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111", Name: "Bob Jones"}, Queue: "Billing"})
	r.wantScreen(viewmodel.ScreenIncoming)
	r.assertShown("Bob Jones")
	r.assertShown("+4930111")
	r.assertShown("Queue Billing")
	if !slices.Contains(r.shell.attention, "Incoming call: Bob Jones (+4930111) · Billing") {
		t.Fatalf("attention %q", r.shell.attention)
	}
	// Do not log is offered while ringing.
	r.tap(r.d.incoming.doNotLog)
	if !r.d.view.Incoming.DoNotLog {
		t.Fatal("do not log not applied while ringing")
	}
	r.tap(r.d.incoming.doNotLog)

	r.tap(r.d.incoming.answer)
	r.rec.WaitFor(t, "Answer c1", effectWait)
	if !r.d.incoming.answer.Disabled() || r.d.incoming.answer.Text != "Answering…" {
		t.Fatal("answer must be disabled while the answer is confirmed")
	}
	r.post(domain.CallAnswered{ID: "c1"})
	r.wantScreen(viewmodel.ScreenCall)
	r.clock.advance(65 * time.Second)
	r.d.Tick()
	if r.d.call.state.Text != "Connected · 1:05" {
		t.Fatalf("state %q", r.d.call.state.Text)
	}

	r.tap(r.d.call.hold)
	r.rec.WaitFor(t, "Hold c1", effectWait)
	if r.d.call.hold.Text != "Resume" || r.d.call.state.Text != "On hold · 1:05" {
		t.Fatalf("after hold: %q %q", r.d.call.hold.Text, r.d.call.state.Text)
	}
	r.tap(r.d.call.hold)
	r.rec.WaitFor(t, "Unhold c1", effectWait)

	// Transfer: consult first.
	r.tap(r.d.call.transfer)
	if r.d.targetPopUp == nil || !r.d.targetPopUp.Visible() {
		t.Fatal("transfer dialog not shown")
	}
	test.Type(r.d.targetEntry, "2001")
	r.tap(r.findButton("Consult first"))
	if r.d.targetPopUp.Visible() {
		t.Fatal("transfer dialog still open")
	}
	cons := r.d.view.Call.Consult
	if cons == nil {
		t.Fatalf("no consultation: %+v", r.d.view.Call)
	}
	r.rec.WaitFor(t, "Dial "+string(cons.ID)+" 2001", effectWait)
	r.assertShown("Consulting 2001 (Calling…). Bob Jones is on hold.")
	if !r.d.call.complete.Disabled() || !r.d.call.merge.Disabled() {
		t.Fatal("complete and merge need the consulted party to answer")
	}
	if len(r.d.lines.content.Objects) != 2 {
		t.Fatalf("two lines expected, got %d", len(r.d.lines.content.Objects))
	}
	r.post(domain.CallAnswered{ID: cons.ID})
	r.tap(r.d.call.complete)
	r.rec.WaitFor(t, "TransferTo c1 "+string(cons.ID), effectWait)
	r.post(domain.TransferResult{ID: "c1", OK: true})
	r.wantScreen(viewmodel.ScreenWrapUp)
	r.assertToast("Call transferred")

	w := r.d.wrap
	if w.outcomeLbl.Text != "Outcome (required) *" || !w.done.Disabled() {
		t.Fatalf("required marker %q, done enabled %v", w.outcomeLbl.Text, !w.done.Disabled())
	}
	if w.remaining.Text != "1:00 left" || w.extend.Disabled() {
		t.Fatalf("countdown %q", w.remaining.Text)
	}
	r.clock.advance(20 * time.Second)
	r.d.Tick()
	if w.remaining.Text != "0:40 left" {
		t.Fatalf("countdown after 20 s: %q", w.remaining.Text)
	}
	r.tap(w.extend)
	if w.remaining.Text != "1:10 left" || !w.extend.Disabled() {
		t.Fatalf("extended: %q", w.remaining.Text)
	}
	r.tap(r.findButton("+ Refund"))
	if w.notes.Text != "Refund issued." {
		t.Fatalf("quick note: %q", w.notes.Text)
	}
	test.Type(w.notes, " Customer happy.")
	w.outcome.SetSelected("Resolved")
	r.settle()
	if w.done.Disabled() {
		t.Fatal("wrap call still disabled after choosing the outcome")
	}
	r.tap(w.done)
	r.rec.WaitFor(t, "SaveLog c1", effectWait)
	r.wantScreen(viewmodel.ScreenIdle)
	logs := r.rec.Logs()
	if len(logs) != 1 || logs[0].Outcome != "Resolved" || logs[0].Notes != "Refund issued. Customer happy." {
		t.Fatalf("call log %+v", logs)
	}
	// The keyboard is back on the number entry: typing and Return dial the
	// next number (no hidden widget kept the focus).
	if f := r.win.Canvas().Focused(); f != nil {
		t.Fatalf("focus left on %T after wrap-up", f)
	}
	test.TypeOnCanvas(r.win.Canvas(), "2002")
	r.win.Canvas().(interface{ OnTypedKey() func(*fyne.KeyEvent) }).OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyReturn})
	r.settle()
	r.wantScreen(viewmodel.ScreenCall)
	if r.d.view.Call.Title != "2002" {
		t.Fatalf("dialled %q", r.d.view.Call.Title)
	}
}

func TestBlindTransferAndDTMF(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111"})
	r.tap(r.d.call.keypadBtn)
	r.tap(r.findButton("5"))
	r.rec.WaitFor(t, "DTMF c1 5", effectWait)
	// Digits typed with nothing focused go out as DTMF too.
	r.win.Canvas().Unfocus()
	test.TypeOnCanvas(r.win.Canvas(), "9#")
	r.settle()
	r.rec.WaitFor(t, "DTMF c1 #", effectWait)
	if r.d.call.dtmf.Text != "59#" {
		t.Fatalf("dtmf shown %q", r.d.call.dtmf.Text)
	}
	r.tap(r.d.call.transfer)
	test.Type(r.d.targetEntry, "not a number!")
	r.tap(r.findButton("Transfer now"))
	if !r.d.targetPopUp.Visible() {
		t.Fatal("an invalid target must keep the dialog open")
	}
	r.assertShown("that is not a phone number or SIP address")
	r.d.targetEntry.SetText("")
	r.d.targetEntry.paste("+49 (30) 2001-5")
	r.tap(r.findButton("Transfer now"))
	r.rec.WaitFor(t, "Transfer c1 +493020015", effectWait)
	r.post(domain.TransferResult{ID: "c1", OK: true})
	r.wantScreen(viewmodel.ScreenWrapUp)
}

func TestConferenceLeaveOrTerminate(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111", Name: "Bob"})
	r.tap(r.d.call.addParty)
	test.Type(r.d.targetEntry, "2001")
	r.tap(r.findButton("Call"))
	c2 := r.d.view.Call.Consult.ID
	r.post(domain.CallAnswered{ID: c2})
	r.tap(r.d.call.merge)
	if !r.d.view.Call.Conference {
		t.Fatalf("not a conference: %+v", r.d.view.Call)
	}
	r.assertShown("Conference (3 parties)")
	r.assertShown("Bob · In conference")
	r.assertShown("2001 · In conference")

	// Add a third party: now the agent cannot leave, only end it.
	r.tap(r.d.call.addParty)
	test.Type(r.d.targetEntry, "2002")
	r.tap(r.findButton("Call"))
	c3 := r.d.view.Call.Consult.ID
	r.post(domain.CallAnswered{ID: c3})
	r.tap(r.d.call.merge)
	r.assertShown("Conference (4 parties)")
	r.tap(r.d.call.hangup)
	if leave := r.findButton("Leave"); !leave.Disabled() {
		t.Fatal("leave must be disabled with three other parties")
	}
	r.tap(r.findButton("Stay"))
	// Drop one participant, then leave.
	r.tap(r.findButton("Drop 2002"))
	r.rec.WaitFor(t, "Hangup "+string(c3), effectWait)
	r.post(domain.CallEnded{ID: c3, Cause: domain.CauseLocalHangup})
	r.tap(r.d.call.hangup)
	r.tap(r.findButton("Leave"))
	r.rec.WaitFor(t, "TransferTo c1 "+string(c2), effectWait)
	r.post(domain.TransferResult{ID: "c1", OK: true})
	r.wantScreen(viewmodel.ScreenWrapUp)
}

func TestConferenceEndForEveryone(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111", Name: "Bob"})
	c2, err := r.a.Consult("c1", "2001")
	if err != nil {
		t.Fatal(err)
	}
	r.settle()
	r.post(domain.CallAnswered{ID: c2})
	r.tap(r.d.call.merge)
	r.tap(r.d.call.hangup)
	r.tap(r.findButton("End for everyone"))
	r.rec.WaitFor(t, "Hangup c1", effectWait)
	r.rec.WaitFor(t, "Hangup "+string(c2), effectWait)
}

func TestCancelConsultation(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111", Name: "Bob"})
	r.tap(r.d.call.transfer)
	test.Type(r.d.targetEntry, "2001")
	r.tap(r.findButton("Consult first"))
	c2 := r.d.view.Call.Consult.ID
	r.tap(r.d.call.cancelCons)
	r.rec.WaitFor(t, "Hangup "+string(c2), effectWait)
	r.post(domain.CallEnded{ID: c2, Cause: domain.CauseLocalHangup})
	r.rec.WaitFor(t, "Unhold c1", effectWait)
	if r.d.view.Call.Consult != nil || r.d.view.Call.ID != "c1" {
		t.Fatalf("after cancel: %+v", r.d.view.Call)
	}
}

func TestFailureToasts(t *testing.T) {
	for _, tc := range []struct {
		cause domain.EndCause
		text  string
	}{
		{domain.CauseBusy, "The number is busy"},
		{domain.CauseNoAnswer, "No answer"},
		{domain.CauseInvalidNumber, "The number does not exist or is incomplete"},
		{domain.CauseUnavailable, "The number cannot be reached right now"},
		{domain.CauseNetwork, "Network problem: the phone system did not answer"},
	} {
		t.Run(tc.cause.String(), func(t *testing.T) {
			r := newRig(t)
			r.signIn()
			test.Type(r.d.idle.number, "+4930123")
			r.tap(r.d.idle.dial)
			id := r.d.view.Lines[0].ID
			r.rec.WaitFor(t, "Dial "+string(id)+" +4930123", effectWait)
			r.post(domain.CallFailed{ID: id, Cause: tc.cause})
			r.assertToast(tc.text)
			r.wantScreen(viewmodel.ScreenIdle)
			// The failure also reaches the OS notifications, without
			// raising the window (the agent may be working in the CRM).
			if want := "Softphone: " + tc.text; !slices.Contains(r.shell.notified, want) {
				t.Fatalf("OS notifications %q, want %q", r.shell.notified, want)
			}
			// Toasts go away by themselves.
			r.clock.advance(time.Minute)
			r.d.Tick()
			if len(r.d.Toasts()) != 0 {
				t.Fatalf("toasts kept: %q", r.d.Toasts())
			}
		})
	}
}

func TestCRMLogFailureCanBeSeenAndResent(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.sync.state = viewmodel.Sync{Failed: 1, LastError: "the CRM refused the log (400)"}
	r.sync.failed = []FailedLog{{Key: "k1", Who: "Bob Jones", At: t0, Error: "the CRM refused the log (400)"}}
	r.d.SampleNow()
	if r.d.header.crm.Text != "CRM: 1 logs failed: the CRM refused the log (400)" {
		t.Fatalf("crm header %q", r.d.header.crm.Text)
	}
	r.tap(r.d.header.crm)
	r.assertShown("Bob Jones")
	r.tap(r.findButton("Resend"))
	if !slices.Equal(r.sync.resent, []string{"k1"}) {
		t.Fatalf("resent %q", r.sync.resent)
	}
	r.assertToast("The call log is queued for the CRM again")
	// The core's own save failures show too.
	r.answerCall("c1", domain.Party{Number: "+4930111"})
	r.post(domain.CallEnded{ID: "c1", Cause: domain.CauseRemoteHangup})
	r.d.wrap.outcome.SetSelected("Resolved")
	r.settle()
	r.tap(r.d.wrap.done)
	r.rec.WaitFor(t, "SaveLog c1", effectWait)
	r.post(domain.CallLogFailed{Key: "c1", Reason: "disk full"})
	r.assertToast("The call log could not be saved (disk full)")
	if !strings.Contains(r.d.header.crm.Text, "disk full") {
		t.Fatalf("crm header %q", r.d.header.crm.Text)
	}
}

func TestIncomingRejectRedirectAndRecords(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111"}, DialedNumber: "+4930999"})
	r.assertShown("Dialled +4930999")
	key := r.d.view.Incoming.Key
	r.post(domain.CallerMatched{Key: key, Records: []domain.CRMRecord{{ID: "r1", Type: "Contact", Name: "Bob"}, {ID: "r2", Type: "Lead", Name: "Bobby"}}})
	if !r.d.incoming.chooser.Visible() {
		t.Fatal("record chooser hidden with two matches")
	}
	r.d.incoming.chooser.SetSelected("Bobby (Lead)")
	r.settle()
	r.rec.WaitFor(t, "Pop "+key+" r2", effectWait)
	r.tap(r.d.incoming.redirect)
	r.d.targetEntry.SetText("+4930555")
	r.tap(r.findButton("Redirect"))
	r.rec.WaitFor(t, "Redirect c1 +4930555", effectWait)
	r.wantScreen(viewmodel.ScreenIdle)

	r.post(domain.CallOffered{ID: "c2", Remote: domain.Party{Number: "+4930222"}})
	r.post(domain.CallerMatched{Key: r.d.view.Incoming.Key})
	r.tap(r.d.incoming.newRec)
	r.rec.WaitFor(t, "PopNew "+r.d.view.Incoming.Key, effectWait)
	r.tap(r.d.incoming.reject)
	r.rec.WaitFor(t, "Reject c2 486", effectWait)
	r.wantScreen(viewmodel.ScreenIdle)
}

func TestLinesOneClickSwitching(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111", Name: "Bob"})
	r.post(domain.CallOffered{ID: "c2", Remote: domain.Party{Number: "+4930222", Name: "Carol"}})
	r.assertShown("Call waiting: answering holds your current call")
	lines := r.d.lines.buttons
	if len(lines) != 2 || !strings.HasPrefix(lines[1].Text, "Line 2: Carol · Incoming") {
		t.Fatalf("lines %q", r.buttonTexts())
	}
	r.tap(lines[1]) // answers the waiting call
	r.rec.WaitFor(t, "Answer c2", effectWait)
	r.post(domain.CallAnswered{ID: "c2"})
	r.rec.WaitFor(t, "Hold c1", effectWait)
	if r.d.view.Call.ID != "c2" || !strings.HasPrefix(lines[0].Text, "Line 1: Bob · On hold") {
		t.Fatalf("after answering: call %s lines %q", r.d.view.Call.ID, []string{lines[0].Text, lines[1].Text})
	}
	r.tap(lines[0]) // resumes Bob, holds Carol
	r.rec.WaitFor(t, "Unhold c1", effectWait)
	if r.d.view.Call.ID != "c1" || !strings.HasPrefix(lines[1].Text, "Line 2: Carol · On hold") {
		t.Fatalf("after switching: call %s", r.d.view.Call.ID)
	}
}

func TestRecordBookmarkAnnouncementQuality(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111"})
	c := r.d.call
	if c.record.Text != "Record" || c.recText.Text != "Not recording" {
		t.Fatalf("record %q %q", c.record.Text, c.recText.Text)
	}
	r.tap(c.record)
	r.rec.WaitFor(t, "Record c1 start", effectWait)
	if c.recLight.FillColor != colorRecording || c.record.Text != "Pause recording" {
		t.Fatalf("recording indicator %v %q", c.recLight.FillColor, c.record.Text)
	}
	r.tap(c.record)
	if c.recLight.FillColor != colorPaused || c.recText.Text != "Recording paused" {
		t.Fatalf("paused indicator %v %q", c.recLight.FillColor, c.recText.Text)
	}
	r.tap(c.bookmark)
	r.assertToast("Bookmark added at 0:00")
	c.announce.SetSelected("Please hold")
	r.settle()
	r.rec.WaitFor(t, "Announce c1 Please hold", effectWait)
	r.assertShown("Playing: Please hold")
	r.stats.s = map[domain.CallID]domain.CallStats{"c1": {PacketsReceived: 1000, Jitter: 3, RTT: 30}}
	r.d.SampleNow()
	if !strings.HasPrefix(c.quality.Text, "Good: MOS 4.") {
		t.Fatalf("quality %q", c.quality.Text)
	}
	r.tap(c.mute)
	r.rec.WaitFor(t, "Mute true", effectWait)
	if c.mute.Text != "Unmute" || !r.d.header.muted.Visible() {
		t.Fatal("mute not shown")
	}

	cfg := testConfig()
	cfg.Recording = domain.RecordPolicyNotAllowed
	r2 := newRig(t, func(r *rig, _ *[]Option) { r.accounts.cfg = cfg })
	r2.signIn()
	r2.answerCall("c1", domain.Party{Number: "+4930111"})
	if r2.d.call.recLight.FillColor != colorForbidden || !r2.d.call.record.Disabled() || r2.d.call.recText.Text != "Recording not allowed" {
		t.Fatal("recording must show as not allowed")
	}
}

func TestShortcuts(t *testing.T) {
	r := newRig(t)
	r.signIn()
	c := r.d
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111"}})
	c.TypedShortcut(ShortcutAnswer)
	r.settle()
	r.rec.WaitFor(t, "Answer c1", effectWait)
	r.post(domain.CallAnswered{ID: "c1"})
	c.TypedShortcut(ShortcutHold)
	r.settle()
	r.rec.WaitFor(t, "Hold c1", effectWait)
	c.TypedShortcut(ShortcutHold)
	r.settle()
	r.rec.WaitFor(t, "Unhold c1", effectWait)
	c.TypedShortcut(ShortcutMute)
	r.settle()
	r.rec.WaitFor(t, "Mute true", effectWait)
	c.TypedShortcut(ShortcutHangup)
	r.settle()
	r.rec.WaitFor(t, "Hangup c1", effectWait)
	r.post(domain.CallEnded{ID: "c1", Cause: domain.CauseLocalHangup})
	r.wantScreen(viewmodel.ScreenWrapUp)

	r.post(domain.CallOffered{ID: "c2", Remote: domain.Party{Number: "+4930222"}})
	c.TypedShortcut(ShortcutHangup) // rejects while ringing
	r.settle()
	r.rec.WaitFor(t, "Reject c2 486", effectWait)
	r.d.wrap.outcome.SetSelected("Resolved")
	r.settle()
	r.tap(r.d.wrap.done)
	r.wantScreen(viewmodel.ScreenIdle)
	r.win.Canvas().Unfocus()
	c.TypedShortcut(ShortcutDial)
	if r.win.Canvas().Focused() != r.d.idle.number {
		t.Fatal("focus dial shortcut")
	}
}

func TestDialPadPasteAndTypedDigits(t *testing.T) {
	r := newRig(t)
	r.signIn()
	n := r.d.idle.number
	for _, k := range []string{"0", "3", "0"} {
		r.tap(r.findButton(k))
	}
	if n.Text != "030" {
		t.Fatalf("dial pad: %q", n.Text)
	}
	r.tap(r.d.idle.backspace)
	if n.Text != "03" {
		t.Fatalf("delete digit: %q", n.Text)
	}
	r.win.Canvas().Focus(n)
	cb := r.app.Clipboard()
	cb.SetContent("tel:+49 (30) 123-45")
	n.TypedShortcut(&fyne.ShortcutPaste{Clipboard: cb})
	if n.Text != "+493012345" {
		t.Fatalf("paste normalised to %q", n.Text)
	}
	cb.SetContent("call me maybe?")
	n.TypedShortcut(&fyne.ShortcutPaste{Clipboard: cb})
	r.settle()
	if n.Text != "+493012345" {
		t.Fatalf("bad paste changed the entry: %q", n.Text)
	}
	r.assertToast("Cannot paste that: that is not a phone number or SIP address")
	n.SetText("")
	r.win.Canvas().Unfocus()
	test.TypeOnCanvas(r.win.Canvas(), "55x5")
	if n.Text != "555" {
		t.Fatalf("typed digits: %q", n.Text)
	}
	r.tap(r.d.idle.dial)
	r.wantScreen(viewmodel.ScreenCall)
	if n.Text != "" {
		t.Fatalf("entry not cleared after dialling: %q", n.Text)
	}
	id := r.d.view.Call.ID
	r.tap(r.d.call.hangup)
	r.rec.WaitFor(t, "Hangup "+string(id), effectWait)
	r.wantScreen(viewmodel.ScreenIdle)
	r.tap(r.d.idle.dial)
	r.assertToast("Cannot dial: enter a number to dial")
}

func TestFavoritesRecentsSearch(t *testing.T) {
	r := newRig(t)
	r.lib.recent = []RecentCall{
		{Key: "k1", Contact: Contact{Name: "Missed Max", Number: "+4930301"}, Direction: domain.DirectionInbound, Missed: true, At: t0},
		{Key: "k2", Contact: Contact{Name: "Out Olga", Number: "+4930302"}, Direction: domain.DirectionOutbound, At: t0, Talk: 90 * time.Second},
	}
	for i := range 40 {
		r.lib.recent = append(r.lib.recent, RecentCall{Key: "x", Contact: Contact{Number: "+49301000" + string(rune('0'+i%10))}, Direction: domain.DirectionInbound, At: t0})
	}
	r.signIn()
	// Favorites, alphabetical regardless of case.
	favs := r.d.idle.favorites.Objects
	if len(favs) != 2 || !strings.Contains(labelsOf(favs[0]), "anna Alt") || !strings.Contains(labelsOf(favs[1]), "Zoe Zimmer") {
		t.Fatalf("favorites %q / %q", labelsOf(favs[0]), labelsOf(favs[1]))
	}
	if got := len(r.d.idle.recents.Objects); got != 30 {
		t.Fatalf("all recents: %d rows, want 30", got)
	}
	r.d.idle.tabs.SelectIndex(2)
	r.d.idle.recentKind.SetSelected("Missed")
	r.settle()
	if got := len(r.d.idle.recents.Objects); got != 1 || !strings.Contains(labelsOf(r.d.idle.recents.Objects[0]), "Missed Max") {
		t.Fatalf("missed: %d %q", got, labelsOf(r.d.idle.recents.Objects[0]))
	}
	r.d.idle.recentKind.SetSelected("Incoming")
	r.settle()
	if got := len(r.d.idle.recents.Objects); got != 10 {
		t.Fatalf("incoming: %d rows, want 10", got)
	}
	r.d.idle.recentKind.SetSelected("Outgoing")
	r.settle()
	if !strings.Contains(labelsOf(r.d.idle.recents.Objects[0]), "Outgoing · ") || !strings.Contains(labelsOf(r.d.idle.recents.Objects[0]), "1:30") {
		t.Fatalf("outgoing detail %q", labelsOf(r.d.idle.recents.Objects[0]))
	}
	// Star a recent call: it becomes a favorite.
	r.tap(r.findButton("Add to favorites"))
	if !slices.ContainsFunc(r.lib.favs, func(c Contact) bool { return c.Number == "+4930302" }) {
		t.Fatalf("favorites %+v", r.lib.favs)
	}
	if len(r.d.idle.favorites.Objects) != 3 {
		t.Fatalf("favorites list not reloaded")
	}

	// Search with click-to-dial and the CRM record button.
	r.finder.people = []Contact{{Name: "Bob Jones", Number: "+4930111", Source: "CRM", URL: "https://crm.example/r1"}}
	r.d.idle.tabs.SelectIndex(0)
	test.Type(r.d.idle.query, "bob")
	r.until("search results", func() bool {
		return len(r.d.idle.results.Objects) == 1 && strings.Contains(labelsOf(r.d.idle.results.Objects[0]), "Bob Jones")
	})
	r.settle()
	if q := r.finder.queries; !slices.Equal(q, []string{"bob"}) {
		t.Fatalf("queries %q", q)
	}
	r.tap(r.findButton("Open CRM record"))
	if !slices.Equal(r.opened, []string{"https://crm.example/r1"}) {
		t.Fatalf("opened %q", r.opened)
	}
	r.tap(r.findButton("Call Bob Jones"))
	r.wantScreen(viewmodel.ScreenCall)
	if id := r.d.view.Call.ID; id == "" {
		t.Fatal("no call")
	} else {
		r.rec.WaitFor(t, "Dial "+string(id)+" +4930111", effectWait)
	}
}

func TestEditBeforeDialling(t *testing.T) {
	r := newRig(t, func(r *rig, _ *[]Option) { r.settings.s.EditBeforeDial = true })
	r.signIn()
	r.d.idle.tabs.SelectIndex(1)
	r.tap(r.findButton("Call Zoe Zimmer"))
	r.wantScreen(viewmodel.ScreenIdle)
	if r.d.idle.number.Text != "+4930900" || r.win.Canvas().Focused() != r.d.idle.number {
		t.Fatalf("number %q", r.d.idle.number.Text)
	}
}

func TestFavoritesLimit(t *testing.T) {
	r := newRig(t)
	for i := range MaxFavorites - 2 {
		r.lib.favs = append(r.lib.favs, Contact{Number: "+4930" + string(rune('a'+i%26)) + string(rune('a'+i/26))})
	}
	r.lib.recent = []RecentCall{{Contact: Contact{Name: "New", Number: "+4930777"}, Direction: domain.DirectionOutbound, At: t0}}
	r.signIn()
	r.d.idle.tabs.SelectIndex(2)
	r.tap(r.findButton("Add to favorites"))
	r.assertToast("You can keep at most 50 favorites: remove one first")
	if len(r.lib.favs) != MaxFavorites {
		t.Fatalf("favorites %d", len(r.lib.favs))
	}
}

func TestTrayMenuAndIcon(t *testing.T) {
	r := newRig(t)
	m := r.d.TrayMenu(func() {})
	if m.Items[0].Label != "Signed out" {
		t.Fatalf("tray %q", m.Items[0].Label)
	}
	r.signIn()
	if m.Items[0].Label != "Alice Smith (a1) · Available" {
		t.Fatalf("tray who %q", m.Items[0].Label)
	}
	var dnd *fyne.MenuItem
	for _, it := range m.Items {
		if it.Label == "Do not disturb" {
			dnd = it
		}
	}
	if dnd == nil {
		t.Fatal("no DND in the tray")
	}
	dnd.Action()
	r.settle()
	if r.d.view.Header.Status != "Do not disturb" {
		t.Fatalf("status %q", r.d.view.Header.Status)
	}
	if last := r.shell.icons[len(r.shell.icons)-1]; last != "softphone-red.png" {
		t.Fatalf("tray icon %q", last)
	}
	r.d.chooseStatus(domain.Status{Presence: domain.PresenceAvailable})
	r.settle()
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111"}})
	answer := m.Items[len(m.Items)-4]
	if answer.Label != "Answer" || answer.Disabled {
		t.Fatalf("answer item %q disabled=%v", answer.Label, answer.Disabled)
	}
	answer.Action()
	r.settle()
	r.rec.WaitFor(t, "Answer c1", effectWait)
	if res := TrayIcon(viewmodel.DotGreen); len(res.Content()) < 100 || res.Name() != "softphone-green.png" {
		t.Fatalf("tray icon %q", res.Name())
	}
}

func TestShellNotifiesAndRaises(t *testing.T) {
	r := newRig(t)
	sh := NewShell(r.app, r.win)
	sh.SetTitle("Softphone · x")
	if r.win.Title() != "Softphone · x" {
		t.Fatalf("title %q", r.win.Title())
	}
	test.AssertNotificationSent(t, fyne.NewNotification("Incoming call", "Bob"), func() { sh.Attention("Incoming call", "Bob") })
}

// labelsOf joins the label texts inside o.
func labelsOf(o fyne.CanvasObject) string {
	var b strings.Builder
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok {
			b.WriteString(l.Text + " ")
		}
		for _, ch := range children(o) {
			walk(ch)
		}
	}
	walk(o)
	return b.String()
}

func TestCRMSignInFromTheSyncDialog(t *testing.T) {
	r := newRig(t)
	cs := &fakeCRMSync{fakeSync: fakeSync{state: viewmodel.Sync{CRM: "HubSpot", SignInNeeded: true, Pending: 2}}, fail: errors.New("access_denied")}
	r.sync, r.d.sync = &cs.fakeSync, cs
	r.signIn()
	r.d.SampleNow()
	if r.d.header.crm.Text != "HubSpot: sign-in needed" || r.d.header.crm.Importance != widget.DangerImportance {
		t.Fatalf("crm header %q", r.d.header.crm.Text)
	}
	r.tap(r.d.header.crm)
	r.tap(r.findButton("Sign in to HubSpot"))
	r.assertToast("HubSpot sign-in failed: access_denied")
	cs.mu.Lock()
	cs.fail = nil
	cs.mu.Unlock()
	r.tap(r.findButton("Sign in to HubSpot"))
	r.assertToast("Signed in to HubSpot")
	r.settle()
	if r.d.header.crm.Text != "CRM: 2 logs pending" || cs.signIns != 2 {
		t.Fatalf("after sign-in: header %q, %d sign-ins", r.d.header.crm.Text, cs.signIns)
	}
}

// TestSearchPartialAnswer: when the CRM part of a search fails, what the
// other sources found is shown with a note saying what could not be
// searched; a CRM record found by name (no number) offers its record but
// no call and no star; with nothing found the error alone is shown.
func TestSearchPartialAnswer(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.finder.people = []Contact{
		{Name: "Bob Jones", Number: "+4930111", Source: "History"},
		{Name: "Bob's Garage", Source: "CRM", URL: "https://crm.example/acc1"},
	}
	r.finder.err = errors.New("the CRM did not answer: salesforce unavailable")
	r.d.idle.tabs.SelectIndex(0)
	test.Type(r.d.idle.query, "bob")
	r.until("partial results", func() bool { return len(r.d.idle.results.Objects) == 3 })
	r.settle()
	if got := labelsOf(r.d.idle.results.Objects[0]); !strings.Contains(got, "Not everything could be searched: the CRM did not answer") {
		t.Fatalf("note %q", got)
	}
	garage := r.d.idle.results.Objects[2]
	if findStar(garage) != nil || strings.Contains(buttonsOf(garage), "Call") || !strings.Contains(buttonsOf(garage), "Open CRM record") {
		t.Fatalf("a record without a number offers %q", buttonsOf(garage))
	}
	r.finder.mu.Lock()
	r.finder.people = nil
	r.finder.mu.Unlock()
	test.Type(r.d.idle.query, "x")
	r.until("the error alone", func() bool {
		return len(r.d.idle.results.Objects) == 1 && strings.Contains(labelsOf(r.d.idle.results.Objects[0]), "Search failed: the CRM did not answer")
	})
	r.settle()
}

// buttonsOf lists the button texts inside o.
func buttonsOf(o fyne.CanvasObject) string {
	var out []string
	var walk func(fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *widget.Button:
			out = append(out, o.Text)
		case *fyne.Container:
			for _, c := range o.Objects {
				walk(c)
			}
		}
	}
	walk(o)
	return strings.Join(out, "|")
}

// The digits the caller keys (an account number) show on the call screen,
// and go with the call.
func TestCallScreenShowsKeyedDigits(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111", Name: "Bob"})
	if r.d.call.keyed.Visible() {
		t.Fatal("keyed digits shown before any were keyed")
	}
	for _, d := range []string{"4", "2", "#"} {
		r.post(domain.DTMFReceived{ID: "c1", Digit: d})
	}
	if !visible(r.win.Canvas(), r.d.call.keyed) || r.d.call.keyed.Text != "Keyed by the caller: 42#" {
		t.Fatalf("keyed digits %q (shown %v)", r.d.call.keyed.Text, r.d.call.keyed.Visible())
	}
	r.post(domain.CallEnded{ID: "c1", Cause: domain.CauseRemoteHangup})
	r.answerCall("c2", domain.Party{Number: "+4930222"})
	if r.d.call.keyed.Visible() {
		t.Fatalf("the last call's digits shown on the next: %q", r.d.call.keyed.Text)
	}
}
