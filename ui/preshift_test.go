package ui

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/callcentre/softphone/ui/viewmodel"
)

// fakePreShift plays the audio check: it answers the next result (or
// error) at once and records the durations asked for.
type fakePreShift struct {
	mu     sync.Mutex
	res    CheckResult
	err    error
	asked  []time.Duration
	level  float64
	number string
}

func (f *fakePreShift) Check(_ context.Context, d time.Duration) (CheckResult, error) {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, d)
	return f.res, f.err
}

func (f *fakePreShift) MicLevel() float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.level
}

func (f *fakePreShift) EchoNumber() string { return f.number }

func (f *fakePreShift) set(res CheckResult, err error) {
	f.mu.Lock()
	f.res, f.err = res, err
	f.mu.Unlock()
}

// TestPreShiftCheck: the check opens from the settings, its meter reads
// the microphone, a run shows the verdicts in plain words (a working
// microphone, the tone heard back: an echo path; a silent microphone with
// gaps in the headset; a check that could not run), and the echo test
// call dials the PBX's echo test and closes the window.
func TestPreShiftCheck(t *testing.T) {
	ps := &fakePreShift{level: 0.4, number: "*43",
		res: CheckResult{Microphone: "Jabra Headset", Speaker: "Jabra Headset", MicPeak: 0.42, EchoPath: true}}
	r := newRig(t, withOpts(WithPreShift(ps)))
	r.signIn()
	r.d.ShowSettings()
	sp := r.d.Settings()
	if sp.preShift.Disabled() || !sp.preShiftAtSignIn.Visible() {
		t.Fatal("the settings do not offer the pre-shift check")
	}
	test.Tap(sp.preShift)
	p := r.d.PreShift()
	if p == nil {
		t.Fatal("pre-shift check did not open")
	}
	p.SampleLevel()
	if p.level.Value != 0.4 {
		t.Fatalf("meter %v", p.level.Value)
	}
	test.Tap(p.run)
	if !p.Running() || !p.run.Disabled() {
		t.Fatal("a running check must not be started twice")
	}
	r.settle()
	v := p.Verdicts()
	if p.Running() || !strings.Contains(v[0], "Jabra Headset works (loudest 42 %)") ||
		!strings.Contains(v[1], "did you hear it?") || !strings.Contains(v[2], "callers may hear themselves") {
		t.Fatalf("verdicts %q", v)
	}
	if len(ps.asked) != 1 || ps.asked[0] != CheckDuration {
		t.Fatalf("checks asked %v", ps.asked)
	}

	ps.set(CheckResult{Microphone: "USB Mic", Speaker: "Speakers", MicPeak: 0.001, Underruns: 3}, nil)
	test.Tap(p.run)
	r.settle()
	v = p.Verdicts()
	if !strings.Contains(v[0], "No sound from the microphone USB Mic") || !strings.Contains(v[1], "with 3 gaps") ||
		!strings.Contains(v[2], "No echo") {
		t.Fatalf("verdicts %q", v)
	}
	ps.set(CheckResult{}, errors.New("no audio device"))
	test.Tap(p.run)
	r.settle()
	if v := p.Verdicts(); !strings.Contains(v[0], "could not run: no audio device") || v[1] != "" {
		t.Fatalf("failed check %q", v)
	}

	test.Tap(p.echo)
	r.settle()
	r.wantScreen(viewmodel.ScreenCall)
	if r.d.PreShift() != nil {
		t.Fatal("the check window stays open over the echo call")
	}
}

// TestPreShiftAtSignIn: with the setting on, the check opens after the
// agent signs in; without a check source the settings say it is not
// available.
func TestPreShiftAtSignIn(t *testing.T) {
	ps := &fakePreShift{}
	r := newRig(t, withOpts(WithPreShift(ps)), func(r *rig, _ *[]Option) { r.settings.s.PreShiftAtSignIn = true })
	r.signIn()
	if r.d.PreShift() == nil {
		t.Fatal("the check did not open after sign-in")
	}
	if r.d.PreShift().echo.Visible() {
		t.Fatal("echo call offered without an echo number")
	}
	r.d.preShiftWin.Close()

	plain := newRig(t)
	plain.signIn()
	if plain.d.PreShift() != nil {
		t.Fatal("the check opened without the setting")
	}
	plain.d.ShowSettings()
	if sp := plain.d.Settings(); !sp.preShift.Disabled() || sp.preShiftAtSignIn.Visible() {
		t.Fatal("the check is offered without an audio check source")
	}
	plain.d.ShowPreShift()
	if p := plain.d.PreShift(); !p.run.Disabled() || !strings.Contains(p.Verdicts()[0], "not available") {
		t.Fatal("the check window must say it is not available")
	}
}
