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

func TestSettingsScreen(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.tap(r.d.header.settings)
	p := r.d.Settings()
	if p == nil {
		t.Fatal("settings did not open")
	}
	r.settle()
	if !slices.Equal(p.mic.Options, []string{"Jabra Headset"}) || !slices.Equal(p.speaker.Options, []string{"Jabra Headset", "Speakers"}) {
		t.Fatalf("devices %q %q", p.mic.Options, p.speaker.Options)
	}
	p.mic.SetSelected("Jabra Headset")
	p.speaker.SetSelected("Speakers")
	p.SampleLevels()
	if p.micLevel.Value != 0.5 || p.spkLevel.Value != 0.25 {
		t.Fatalf("levels %v %v", p.micLevel.Value, p.spkLevel.Value)
	}
	p.speaker.SetSelected("Jabra Headset") // a headset's meter reads its output, not its microphone
	p.SampleLevels()
	if p.micLevel.Value != 0.5 || p.spkLevel.Value != 0.1 {
		t.Fatalf("headset levels %v %v", p.micLevel.Value, p.spkLevel.Value)
	}
	p.speaker.SetSelected("Speakers")
	p.ringer.SetSelected("Speakers")
	test.Tap(p.testRinger)
	r.settle()
	if !slices.Equal(r.audio.rung, []string{"spk"}) || len(r.audio.tested) != 0 || !strings.Contains(p.message.Text, "ringtone on Speakers") {
		t.Fatalf("ringer test: rung %q tested %q, %q", r.audio.rung, r.audio.tested, p.message.Text)
	}
	test.Tap(p.testSpeaker)
	r.settle()
	if !slices.Equal(r.audio.tested, []string{"spk"}) || !strings.Contains(p.message.Text, "test sound on Speakers") {
		t.Fatalf("headset test: tested %q, %q", r.audio.tested, p.message.Text)
	}
	r.audio.mu.Lock()
	r.audio.fail = errors.New("no usable audio device")
	r.audio.mu.Unlock()
	test.Tap(p.testRinger)
	r.settle()
	if !strings.Contains(p.message.Text, "could not be played: no usable audio device") || p.message.Importance != widget.DangerImportance {
		t.Fatalf("failed test: %q", p.message.Text)
	}
	p.quickNotes.SetText("Refund issued")
	test.Tap(p.save)
	r.settle()
	if !strings.Contains(p.message.Text, "line 1 needs the form") || len(r.settings.saved) != 0 {
		t.Fatalf("bad quick note accepted: %q", p.message.Text)
	}
	p.quickNotes.SetText("Refund = Refund issued.\n\nCallback = Customer wants a callback.")
	p.outcomes.SetText("Resolved\nEscalated\nResolved")
	p.screenPop.SetSelected("When I answer")
	p.noise.SetChecked(false)
	p.editBefore.SetChecked(true)
	p.language.SetSelected("Deutsch")
	test.Tap(p.save)
	r.settle()
	if len(r.settings.saved) != 1 {
		t.Fatalf("saved %d times: %q", len(r.settings.saved), p.message.Text)
	}
	s := r.settings.saved[0]
	want := []domain.QuickNote{{Name: "Refund", Text: "Refund issued."}, {Name: "Callback", Text: "Customer wants a callback."}}
	if !slices.Equal(s.QuickNotes, want) || !slices.Equal(s.Outcomes, []string{"Resolved", "Escalated"}) ||
		s.ScreenPop != domain.ScreenPopAtAnswer || s.NoiseSuppression || !s.EchoCancel || !s.EditBeforeDial ||
		s.Language != "de" || s.Microphone != "hs" || s.Speaker != "spk" || s.Ringer != "spk" {
		t.Fatalf("saved %+v", s)
	}
	if !strings.Contains(p.message.Text, "restarts") {
		t.Fatalf("language change not explained: %q", p.message.Text)
	}
	test.Tap(p.export)
	r.settle()
	if r.diag.n.Load() != 1 || !strings.Contains(p.message.Text, "passwords and tokens removed") {
		t.Fatalf("export: %q", p.message.Text)
	}
	// The next sign-in uses the agent's quick notes and screen pop.
	cfg := r.d.mergeSettings(testConfig())
	if cfg.ScreenPop != domain.ScreenPopAtAnswer || len(cfg.QuickNotes) != 2 || !slices.Equal(cfg.Outcomes, testConfig().Outcomes) {
		t.Fatalf("merged config %+v", cfg)
	}
	r.d.settingsWin.Close()
	if r.d.Settings() != nil {
		t.Fatal("settings panel kept after close")
	}
}

func TestSettingsWithoutSources(t *testing.T) {
	r := newRig(t, withoutAccounts(), func(r *rig, _ *[]Option) {}, withOpts(WithAudio(nil), WithSettings(nil), WithDiagnostics(nil)))
	r.d.ShowSettings()
	p := r.d.Settings()
	if !p.mic.Disabled() || !p.testRinger.Disabled() {
		t.Fatal("device controls must be disabled without audio")
	}
	test.Tap(p.export)
	if p.message.Text != "Diagnostics export is not available" {
		t.Fatalf("export %q", p.message.Text)
	}
	test.Tap(p.save)
	if !strings.Contains(p.message.Text, "cannot be stored") {
		t.Fatalf("save %q", p.message.Text)
	}
	// Without an Accounts source, sign-in takes the agent ID only.
	if r.d.login.password.Visible() {
		t.Fatal("password shown without an accounts source")
	}
	r.d.login.agentID.SetText("a2")
	r.tap(r.d.login.signIn)
	r.rec.WaitFor(t, "Register", effectWait)
}

func TestGermanDesk(t *testing.T) {
	r := newRig(t, withOpts(WithTranslator(viewmodel.NewTranslator("de_DE.UTF-8"))))
	if r.d.login.signIn.Text != "Anmelden" {
		t.Fatalf("sign in %q", r.d.login.signIn.Text)
	}
	r.d.login.agentID.SetText("a1")
	r.d.login.password.SetText("secret")
	r.tap(r.d.login.signIn)
	r.post(domain.RegistrationChanged{State: domain.RegRegistered})
	if r.d.header.status.Text != "Pause: Anmeldung" {
		t.Fatalf("status %q", r.d.header.status.Text)
	}
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111"}})
	if r.d.incoming.answer.Text != "Annehmen" || r.d.incoming.title.Text != "Eingehender Anruf" {
		t.Fatalf("incoming %q %q", r.d.incoming.answer.Text, r.d.incoming.title.Text)
	}
	r.post(domain.CallEnded{ID: "c1", Cause: domain.CauseMissed})
	test.Type(r.d.idle.number, "+4930123")
	r.tap(r.d.idle.dial)
	r.post(domain.CallFailed{ID: r.d.view.Lines[0].ID, Cause: domain.CauseBusy})
	r.assertToast("Die Nummer ist besetzt")
}

// TestAccessibleLabels walks every screen and checks that each control a
// screen reader announces has a meaningful name (Fyne 2.8 reads
// AccessibilityLabel: a button's text, else its icon's resource name).
func TestAccessibleLabels(t *testing.T) {
	r := newRig(t)
	check := func(where string) {
		r.walkVisible(func(o fyne.CanvasObject) {
			a, ok := o.(fyne.Accessible)
			if !ok || a.AccessibilityRole() != fyne.AccessibleRoleButton {
				return
			}
			label := a.AccessibilityLabel()
			if strings.TrimSpace(label) == "" || strings.HasSuffix(label, ".svg") || strings.HasSuffix(label, ".png") {
				t.Errorf("%s: %T without a readable name (%q)", where, o, label)
			}
		})
	}
	check("login")
	r.signIn()
	check("idle")
	for i := range 3 {
		r.d.idle.tabs.SelectIndex(i)
		check("idle tab")
	}
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111"}})
	check("incoming")
	r.tap(r.d.incoming.answer)
	r.post(domain.CallAnswered{ID: "c1"})
	check("call")
	r.tap(r.d.call.keypadBtn)
	check("call keypad")
	r.tap(r.d.call.transfer)
	check("transfer dialog")
	r.tap(r.findButton("Cancel"))
	r.tap(r.d.call.hangup)
	check("wrap-up")
	r.tap(r.d.header.settings)
	r.settle()
	if w := r.d.settingsWin; w != nil {
		var walk func(o fyne.CanvasObject)
		walk = func(o fyne.CanvasObject) {
			if b, ok := o.(*widget.Button); ok && strings.TrimSpace(b.AccessibilityLabel()) == "" {
				t.Errorf("settings: unnamed button")
			}
			for _, c := range children(o) {
				walk(c)
			}
		}
		walk(w.Content())
	}
}

func TestWrapUpFreeTextOutcomeAndTimerExpiry(t *testing.T) {
	cfg := testConfig()
	cfg.Outcomes = nil
	cfg.DefaultOutcome = ""
	r := newRig(t, func(r *rig, _ *[]Option) { r.accounts.cfg = cfg })
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111"})
	r.post(domain.CallEnded{ID: "c1", Cause: domain.CauseRemoteHangup})
	w := r.d.wrap
	if w.outcome.Visible() || !w.freeText.Visible() || !w.done.Disabled() {
		t.Fatal("free-text outcome expected")
	}
	r.clock.advance(61 * time.Second)
	r.post(domain.TimerFired{Timer: domain.Timer{Kind: domain.TimerWrapUp, Key: "c1"}})
	if w.remaining.Text != "Time is up: choose an outcome to finish" {
		t.Fatalf("overdue %q", w.remaining.Text)
	}
	r.assertToast("Wrap-up time is up")
	test.Type(w.freeText, "Sold")
	r.settle()
	r.tap(w.done)
	r.rec.WaitFor(t, "SaveLog c1", effectWait)
	if logs := r.rec.Logs(); len(logs) != 1 || logs[0].Outcome != "Sold" {
		t.Fatalf("logs %+v", logs)
	}
}

func TestLoginTypingAndIdleUnfocus(t *testing.T) {
	r := newRig(t)
	c := r.win.Canvas()
	if c.Focused() != nil {
		t.Fatal("nothing should be focused at start (cursor animation)")
	}
	test.TypeOnCanvas(c, "a1")
	if r.d.login.agentID.Text != "a1" || c.Focused() != r.d.login.agentID {
		t.Fatalf("typing on the login screen: %q focused %T", r.d.login.agentID.Text, c.Focused())
	}
	r.clock.advance(unfocusAfter + time.Second)
	r.d.Tick()
	if c.Focused() != nil || r.d.login.agentID.Text != "a1" {
		t.Fatal("an untouched entry must lose the focus, keeping its text")
	}
}

// TestTickOnlyWhenTimeIsShown: the 1 Hz tick redraws only while the
// window shows something that changes with time (a call, a toast, an
// entry that loses its focus after a pause); an idle desk is left alone.
func TestTickOnlyWhenTimeIsShown(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.win.Canvas().Unfocus()
	r.d.toasts.expire(r.clock.Now().Add(time.Hour))
	r.d.render()
	if r.d.tickWanted.Load() {
		t.Fatal("an idle desk asks for the tick")
	}
	r.d.toast(domain.NoticeInfo, "Saved")
	if !r.d.tickWanted.Load() {
		t.Fatal("a toast does not ask for the tick that expires it")
	}
	r.d.toasts.expire(r.clock.Now().Add(time.Hour))
	r.d.render()
	if r.d.tickWanted.Load() {
		t.Fatal("the tick is still asked for after the toast expired")
	}
	test.Type(r.d.idle.number, "5")
	if !r.d.tickWanted.Load() {
		t.Fatal("typing does not ask for the tick that unfocuses the entry")
	}
	r.d.idle.number.SetText("")
	r.win.Canvas().Unfocus()
	r.answerCall("c1", domain.Party{Number: "+4930123"})
	if !r.d.tickWanted.Load() {
		t.Fatal("a call's timer does not ask for the tick")
	}
}

// TestSettingsApplyDuringTheShift: outcomes, quick notes, screen pop and
// the call subject saved during a call reach the core at once (no new
// sign-in): the wrap-up of that call offers them and its log carries the
// subject; the screen says so and no longer mentions a next sign-in.
func TestSettingsApplyDuringTheShift(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111"})
	r.d.ShowSettings()
	p := r.d.Settings()
	r.settle()
	if strings.Contains(p.whenNote.Text, "sign-in") {
		t.Fatalf("the settings still speak of a next sign-in: %q", p.whenNote.Text)
	}
	p.editBefore.SetChecked(true)
	test.Tap(p.save)
	r.settle()
	if p.message.Text != "Saved" {
		t.Fatalf("live-only change: %q", p.message.Text)
	}
	p.quickNotes.SetText("VIP = VIP customer.")
	p.screenPop.SetSelected("Never")
	p.subject.SetText("Hotline")
	test.Tap(p.save)
	r.settle()
	if p.message.Text != "Saved" {
		t.Fatalf("core change: %q", p.message.Text)
	}
	cfg := r.d.vm.Mirror.Agent.Config
	// Provisioned outcomes (the CRM's picklist) win over the agent's; the
	// agent's quick notes come after the provisioned ones.
	if !slices.Equal(cfg.Outcomes, testConfig().Outcomes) || len(cfg.QuickNotes) != 2 || cfg.QuickNotes[1].Name != "VIP" ||
		cfg.ScreenPop != domain.ScreenPopNever || cfg.CallSubject != "Hotline" {
		t.Fatalf("the core's configuration after the save: %+v", cfg)
	}
	r.d.settingsWin.Close()
	r.tap(r.d.call.hangup)
	r.post(domain.CallEnded{ID: "c1", Cause: domain.CauseLocalHangup})
	r.tap(r.findButton("+ VIP"))
	if r.d.wrap.notes.Text != "VIP customer." {
		t.Fatalf("quick note: %q", r.d.wrap.notes.Text)
	}
	r.d.wrap.outcome.SetSelected("Resolved")
	r.settle()
	r.tap(r.d.wrap.done)
	r.rec.WaitFor(t, "SaveLog c1", effectWait)
	if logs := r.rec.Logs(); len(logs) != 1 || logs[0].Subject != "Hotline" || logs[0].Notes != "VIP customer." {
		t.Fatalf("call log %+v", logs)
	}
}
