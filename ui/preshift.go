package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// CheckDuration is how long the pre-shift check plays its test tone.
const CheckDuration = 2 * time.Second

// quietMic is the microphone peak below which the check calls the
// microphone silent (dead, muted or unplugged).
const quietMic = 0.02

// EchoBursts is how many test beeps the echo test call is measured with
// (one a second).
const EchoBursts = 5

// echoTimeout bounds the echo test: the call's set-up, the beeps and their
// way back.
const echoTimeout = 90 * time.Second

// PreShiftPanel is the pre-shift check: the microphone's level meter, the
// check (a test tone in the headset measured back through the microphone)
// with its verdicts in plain words, and the echo test call, measured once
// connected (test beeps heard back, round trip, one-way audio).
type PreShiftPanel struct {
	d        *Desk
	content  fyne.CanvasObject
	level    *widget.ProgressBar
	run      *widget.Button
	echo     *widget.Button
	mic      *widget.Label
	speaker  *widget.Label
	echoPath *widget.Label
	echoRes  *widget.Label // the echo test call's measurement
	running  bool
	echoing  bool               // an echo test call is being measured
	echoStop context.CancelFunc // ends the measurement (the window closed)
	stop     chan struct{}
}

func newPreShiftPanel(d *Desk) *PreShiftPanel {
	p := &PreShiftPanel{d: d}
	intro := widget.NewLabel(d.T("Check your headset before the shift: speak while the check runs, and listen for the test tone."))
	intro.Wrapping = fyne.TextWrapWord
	p.level = widget.NewProgressBar()
	p.level.TextFormatter = func() string { return d.T("Microphone level") }
	p.run = widget.NewButtonWithIcon(d.T("Run the check"), theme.MediaPlayIcon(), p.runCheck)
	p.run.Importance = widget.HighImportance
	p.echo = widget.NewButtonWithIcon(d.T("Echo test call"), theme.VolumeUpIcon(), p.echoCall)
	p.mic, p.speaker, p.echoPath, p.echoRes = widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel(""), widget.NewLabel("")
	for _, l := range []*widget.Label{p.mic, p.speaker, p.echoPath, p.echoRes} {
		l.Wrapping = fyne.TextWrapWord
	}
	if d.preShift == nil {
		p.run.Disable()
		p.echo.Hide()
		p.mic.SetText(d.T("The audio check is not available"))
	} else if d.preShift.EchoNumber() == "" {
		p.echo.Hide()
	}
	p.content = container.NewPadded(container.NewVBox(intro, p.level, p.run, p.mic, p.speaker, p.echoPath, p.echo, p.echoRes))
	return p
}

// Content is the panel's root object.
func (p *PreShiftPanel) Content() fyne.CanvasObject { return p.content }

// Running reports whether a check is in progress.
func (p *PreShiftPanel) Running() bool { return p.running }

// Echoing reports whether an echo test call is being measured.
func (p *PreShiftPanel) Echoing() bool { return p.echoing }

// EchoVerdict is the echo test call's result line ("" before one ran).
func (p *PreShiftPanel) EchoVerdict() string { return p.echoRes.Text }

// Verdicts are the result lines shown (microphone, headset, echo path).
func (p *PreShiftPanel) Verdicts() [3]string {
	return [3]string{p.mic.Text, p.speaker.Text, p.echoPath.Text}
}

func (p *PreShiftPanel) runCheck() {
	ps := p.d.preShift
	if ps == nil || p.running {
		return
	}
	p.running = true
	p.run.Disable()
	p.mic.SetText(p.d.T("Checking… speak now"))
	p.speaker.SetText("")
	p.echoPath.SetText("")
	p.d.background(func(ctx context.Context) {
		cctx, cancel := context.WithTimeout(ctx, CheckDuration+30*time.Second)
		defer cancel()
		res, err := ps.Check(cctx, CheckDuration)
		p.d.do(func() { p.show(res, err) })
	})
}

func (p *PreShiftPanel) show(res CheckResult, err error) {
	p.running = false
	p.run.Enable()
	if err != nil {
		p.mic.SetText(p.d.T("The check could not run: %s", err.Error()))
		return
	}
	pct := fmt.Sprintf("%.0f %%", min(max(res.MicPeak, 0), 1)*100)
	if res.MicPeak < quietMic {
		p.mic.SetText(p.d.T("No sound from the microphone %s: check that it is plugged in and not muted", res.Microphone))
	} else {
		p.mic.SetText(p.d.T("The microphone %s works (loudest %s)", res.Microphone, pct))
	}
	if res.Underruns > 0 {
		p.speaker.SetText(p.d.T("The test tone played in %s with %d gaps: close other programs that use sound", res.Speaker, res.Underruns))
	} else {
		p.speaker.SetText(p.d.T("The test tone played in %s: did you hear it?", res.Speaker))
	}
	if res.EchoPath {
		p.echoPath.SetText(p.d.T("The microphone heard the test tone: callers may hear themselves. Use a headset, or turn the speaker down."))
	} else {
		p.echoPath.SetText(p.d.T("No echo: the microphone did not hear the test tone."))
	}
}

// echoCall dials the PBX's echo test through the core and, once it is
// connected, measures it: test beeps sent into the call and heard back.
// The call stays up afterwards, so the agent can hear their own voice
// through the whole call path; they hang it up on the call screen.
func (p *PreShiftPanel) echoCall() {
	ps := p.d.preShift
	if ps == nil || p.echoing {
		return
	}
	n := ps.EchoNumber()
	if n == "" {
		return
	}
	id, err := p.d.core.Dial(n)
	if err != nil {
		p.echoRes.SetText(p.d.T("The echo test could not be called: %s", err.Error()))
		return
	}
	// A test call is not a customer call: it never reaches the call log
	// or the CRM (a dialled call's interaction key is its ID).
	p.d.report(p.d.core.SetDoNotLog(string(id), true))
	p.echoing = true
	p.echo.Disable()
	p.echoRes.SetText(p.d.T("Calling the echo test: you will hear %d test beeps", EchoBursts))
	ctx, cancel := context.WithCancel(context.Background())
	p.echoStop = cancel
	p.d.background(func(dctx context.Context) {
		stop := context.AfterFunc(dctx, cancel)
		defer stop()
		cctx, done := context.WithTimeout(ctx, echoTimeout)
		defer done()
		res, err := ps.EchoCheck(cctx, id, EchoBursts)
		cancel()
		p.d.do(func() { p.showEcho(res, err) })
	})
}

func (p *PreShiftPanel) showEcho(res EchoResult, err error) {
	p.echoing, p.echoStop = false, nil
	p.echo.Enable()
	p.echoRes.SetText(p.echoVerdict(res, err))
}

// echoVerdict says what the echo test call measured, in plain words.
func (p *PreShiftPanel) echoVerdict(res EchoResult, err error) string {
	switch {
	case err != nil:
		return p.d.T("The echo test could not be measured: %s", err.Error())
	case res.Heard == 0:
		return p.d.T("One-way audio: the far end does not hear you (none of %d test beeps came back). Check the microphone and the network, or call IT.", res.Sent)
	case res.Heard < res.Sent:
		return p.d.T("The echo test heard %d of %d test beeps back, round trip %d ms: some sound is lost on the way. Speak to hear yourself, then hang up.",
			res.Heard, res.Sent, res.RoundTrip.Milliseconds())
	}
	return p.d.T("The echo test heard %d of %d test beeps back, round trip %d ms. Speak to hear yourself, then hang up.",
		res.Heard, res.Sent, res.RoundTrip.Milliseconds())
}

// startMeter samples the microphone level at 10 Hz until stopMeter.
func (p *PreShiftPanel) startMeter() {
	ps := p.d.preShift
	if ps == nil || p.stop != nil {
		return
	}
	p.stop = make(chan struct{})
	stop := p.stop
	p.d.loop(func(ctx context.Context) {
		t := time.NewTicker(meterRate)
		defer t.Stop()
		last := -1.0
		for {
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-t.C:
				lv := min(max(ps.MicLevel(), 0), 1)
				if lv == last {
					continue // nothing to redraw
				}
				last = lv
				p.d.do(func() { p.level.SetValue(lv) })
			}
		}
	})
}

func (p *PreShiftPanel) stopMeter() {
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
}

// SampleLevel reads the meter once (tests; the window samples at 10 Hz).
func (p *PreShiftPanel) SampleLevel() {
	if ps := p.d.preShift; ps != nil {
		p.level.SetValue(min(max(ps.MicLevel(), 0), 1))
	}
}

// ShowPreShift opens the pre-shift check window (or brings it to the
// front). The settings offer it, and it opens after sign-in when the
// agent's PreShiftAtSignIn setting is on.
func (d *Desk) ShowPreShift() {
	if d.preShiftWin != nil {
		d.preShiftWin.Show()
		d.preShiftWin.RequestFocus()
		return
	}
	p := newPreShiftPanel(d)
	d.preShiftView = p
	w := fyne.CurrentApp().NewWindow(d.T("Pre-shift check"))
	w.SetContent(p.Content())
	w.Resize(fyne.NewSize(460, 380))
	w.SetOnClosed(func() {
		p.stopMeter()
		if p.echoStop != nil {
			p.echoStop()
		}
		d.preShiftWin, d.preShiftView = nil, nil
	})
	d.preShiftWin = w
	w.Show()
	p.startMeter()
}

// PreShift returns the pre-shift check window's panel while it is open.
func (d *Desk) PreShift() *PreShiftPanel { return d.preShiftView }
