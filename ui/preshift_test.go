package ui

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/callcentre/softphone/agent/domain"
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
	echo   EchoResult
	echoE  error
	echoed []domain.CallID // calls measured
	bursts []int
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

func (f *fakePreShift) EchoCheck(_ context.Context, id domain.CallID, bursts int) (EchoResult, error) {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.echoed, f.bursts = append(f.echoed, id), append(f.bursts, bursts)
	return f.echo, f.echoE
}

func (f *fakePreShift) setEcho(res EchoResult, err error) {
	f.mu.Lock()
	f.echo, f.echoE = res, err
	f.mu.Unlock()
}

func (f *fakePreShift) set(res CheckResult, err error) {
	f.mu.Lock()
	f.res, f.err = res, err
	f.mu.Unlock()
}

// TestPreShiftCheck: the check opens from the settings, its meter reads
// the microphone, a run shows the verdicts in plain words (a working
// microphone, the tone heard back: an echo path; a silent microphone with
// gaps in the headset; a check that could not run), and the echo test
// call dials the PBX's echo test through the core and shows its
// measurement in plain words.
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

	ps.setEcho(EchoResult{Sent: EchoBursts, Heard: EchoBursts, RoundTrip: 84 * time.Millisecond}, nil)
	test.Tap(p.echo)
	r.settle()
	r.wantScreen(viewmodel.ScreenCall)
	st := r.a.Snapshot()
	if len(st.Calls) != 1 || st.Calls[0].Target != "*43" {
		t.Fatalf("echo call not dialled through the core: %+v", st.Calls)
	}
	if ix := st.Interaction(st.Calls[0].Interaction); ix == nil || !ix.DoNotLog {
		t.Fatalf("the echo test call would be logged to the CRM: %+v", ix)
	}
	if !slices.Equal(ps.echoed, []domain.CallID{st.Calls[0].ID}) || !slices.Equal(ps.bursts, []int{EchoBursts}) {
		t.Fatalf("measured %v with %v bursts, want the dialled call %s", ps.echoed, ps.bursts, st.Calls[0].ID)
	}
	if r.d.PreShift() != p || p.Echoing() || p.echo.Disabled() ||
		!strings.Contains(p.EchoVerdict(), "heard 5 of 5 test beeps back, round trip 84 ms.") {
		t.Fatalf("echo verdict %q (echoing %v)", p.EchoVerdict(), p.Echoing())
	}
	for _, c := range []struct {
		res  EchoResult
		err  error
		want string
	}{
		{EchoResult{Sent: 5}, nil, "One-way audio: the far end does not hear you (none of 5 test beeps came back)"},
		{EchoResult{Sent: 5, Heard: 3, RoundTrip: 250 * time.Millisecond}, nil, "heard 3 of 5 test beeps back, round trip 250 ms: some sound is lost"},
		{EchoResult{}, errors.New("the echo test call ended before it could be measured: The number is busy"), "could not be measured: the echo test call ended"},
	} {
		ps.setEcho(c.res, c.err)
		test.Tap(p.echo)
		r.settle()
		if !strings.Contains(p.EchoVerdict(), c.want) {
			t.Fatalf("echo %+v %v: verdict %q, want %q", c.res, c.err, p.EchoVerdict(), c.want)
		}
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
