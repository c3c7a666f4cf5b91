package ui

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

func TestDemoBannerRingMe(t *testing.T) {
	var rings atomic.Int32
	fail := atomic.Bool{}
	demo := Demo{
		Extensions: []DemoExtension{{Number: "*43", Label: "Echo test"}, {Number: "201", Label: "Anna Berg (colleague)"}},
		RingMe: func() error {
			rings.Add(1)
			if fail.Load() {
				return errors.New("no agent registered with the demo pbx")
			}
			return nil
		},
	}
	r := newRig(t, withOpts(WithDemo(demo)))
	b := r.d.demoBar
	if b == nil || !visible(r.win.Canvas(), b.ringMe) {
		t.Fatal("the demo banner is not shown")
	}
	r.assertShown("Demo mode")
	if !strings.Contains(b.numbers.Text, "*43 Echo test") || !strings.Contains(b.numbers.Text, "201 Anna Berg") {
		t.Fatalf("extensions %q", b.numbers.Text)
	}
	// Signed out: the demo customer cannot call yet; nothing is asked.
	r.tap(b.ringMe)
	if rings.Load() != 0 {
		t.Fatal("ring me ran while signed out")
	}
	r.assertToast("Sign in first")

	r.signIn()
	r.tap(b.ringMe)
	if rings.Load() != 1 || b.ringMe.Disabled() {
		t.Fatalf("rings %d, button disabled %v", rings.Load(), b.ringMe.Disabled())
	}
	fail.Store(true)
	r.tap(b.ringMe)
	r.assertToast("The demo customer could not call you: no agent registered")
}

func TestNoDemoBannerByDefault(t *testing.T) {
	r := newRig(t)
	if r.d.demoBar != nil || strings.Contains(r.texts(), "Demo mode") {
		t.Fatal("demo banner shown without WithDemo")
	}
}

func TestTypingInWrapUpStartsTheOutcome(t *testing.T) {
	cfg := testConfig()
	cfg.Outcomes = nil
	r := newRig(t, func(r *rig, _ *[]Option) { r.accounts.cfg = cfg })
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111"})
	r.post(domain.CallEnded{ID: "c1", Cause: domain.CauseRemoteHangup})
	r.wantScreen(viewmodel.ScreenWrapUp)
	test.TypeOnCanvas(r.win.Canvas(), "Sold")
	r.settle()
	if r.d.wrap.freeText.Text != "Sold" {
		t.Fatalf("outcome entry %q", r.d.wrap.freeText.Text)
	}
	r.tap(r.d.wrap.done)
	r.rec.WaitFor(t, "SaveLog c1", effectWait)
	if logs := r.rec.Logs(); len(logs) != 1 || logs[0].Outcome != "Sold" {
		t.Fatalf("logs %+v", logs)
	}
}

func TestPasswordPolicyHidesThePassword(t *testing.T) {
	r := newRig(t, func(r *rig, _ *[]Option) { r.accounts.noPasswords = true })
	if r.d.login.password.Visible() {
		t.Fatal("the password is asked although nothing can check it")
	}
}
