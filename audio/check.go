package audio

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

// CheckResult is the outcome of a pre-shift audio check.
type CheckResult struct {
	Microphone DeviceID // the devices in use
	Speaker    DeviceID
	// MicPeak is the loudest microphone peak (0..1) during the check; near
	// zero means a dead or muted microphone.
	MicPeak float32
	// MicHeardTone says the test tone came back through the microphone
	// (speakers, or a headset that leaks): an echo path exists.
	MicHeardTone bool
	Underruns    uint64
}

type check struct {
	tone   *toneGen
	peak   float32
	heard  float64
	frames int
	res    chan CheckResult
	err    chan error
	until  time.Time
}

func (c *check) observe(mic []float32) {
	if p := peak(mic); p > c.peak {
		c.peak = p
	}
	c.frames++
	if c.frames > 10 { // skip the start-up
		c.heard = max(c.heard, goertzel(mic, mixRate, 1000))
	}
}

func (c *check) finish(e *Engine, err error) {
	if err != nil {
		c.err <- err
		return
	}
	r := CheckResult{MicPeak: c.peak, MicHeardTone: c.heard > 0.01}
	if e.in != nil {
		r.Microphone = e.in.s.Device()
	}
	if e.out != nil {
		r.Speaker = e.out.s.Device()
		r.Underruns = e.out.underruns.Load()
	}
	c.res <- r
}

// Check runs the pre-shift audio check for d (at least a second): it opens
// the chosen microphone and speaker, plays a 1 kHz test tone in the
// speaker and measures the microphone. It blocks; call it from a
// goroutine of the UI's, never from the agent's.
func (e *Engine) Check(ctx context.Context, d time.Duration) (CheckResult, error) {
	c := &check{tone: newTone(ToneTest, mixRate), res: make(chan CheckResult, 1), err: make(chan error, 1),
		until: time.Now().Add(max(d, time.Second))}
	c.tone.gain = 0.2
	if e.closed.Load() {
		return CheckResult{}, ErrClosed
	}
	e.do(func() { e.checks = append(e.checks, c) })
	t := time.NewTimer(time.Until(c.until))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-e.done:
		return CheckResult{}, ErrClosed
	}
	e.do(func() {
		for i, x := range e.checks {
			if x == c {
				e.checks = append(e.checks[:i], e.checks[i+1:]...)
				break
			}
		}
		if e.in == nil || e.out == nil {
			c.finish(e, ErrNoDevice)
			return
		}
		c.finish(e, nil)
	})
	select {
	case r := <-c.res:
		return r, ctx.Err()
	case err := <-c.err:
		return CheckResult{}, err
	case <-e.done:
		return CheckResult{}, errors.Join(ErrClosed, ctx.Err())
	}
}

// EchoResult is the outcome of EchoCheck.
type EchoResult struct {
	// Sent and Heard count the test bursts sent into the call and heard
	// back from it; Heard == 0 means one-way audio (or no echo service).
	Sent, Heard int
	// RoundTrip is the median time from sending a burst to hearing it back:
	// the network both ways, the echo service, and our jitter buffer and
	// resampling (not the sound devices). 0 when none came back.
	RoundTrip time.Duration
	// Level is the loudest returned burst relative to the sent one (about
	// 1 through an echo service that returns audio unchanged).
	Level float32
	// Jitter is the call's jitter buffer at the end of the check.
	Jitter JitterStats
}

const (
	echoBurstFrames = 5          // 100 ms of 1 kHz per burst
	echoGapFrames   = 50         // a burst every second
	echoTimeout     = 100        // frames (2 s) to wait for a burst to return
	echoAmp         = 0.3        // sent amplitude
	echoHeard       = 0.3 * 0.25 // a return above a quarter of it counts
)

// echoCheck runs on the loop, one frame at a time, for one routed call.
type echoCheck struct {
	id       domain.CallID
	bursts   int
	tone     *toneGen
	frame    int // frames since the check started
	sentAt   int // frame the current burst started (-1: none in flight)
	sent     int
	rtts     []int // frames
	level    float32
	res      chan EchoResult
	finished bool
}

// step adds the burst to tx (what the call will send) and looks for it in
// far (what the call just delivered).
func (c *echoCheck) step(tx, far []float32) {
	c.frame++
	if c.sentAt >= 0 {
		if g := goertzel(far, mixRate, 1000); g > echoHeard {
			c.rtts = append(c.rtts, c.frame-c.sentAt)
			c.level = max(c.level, float32(g/echoAmp))
			c.sentAt = -1
		} else if c.frame-c.sentAt > echoTimeout {
			c.sentAt = -1
		}
	}
	if c.sentAt < 0 && c.sent < c.bursts && c.frame%echoGapFrames == 0 {
		c.sentAt, c.sent = c.frame, c.sent+1
		c.tone = &toneGen{segs: []toneSeg{{1000, 0, float64(echoBurstFrames) * frameDur.Seconds()}}, repeat: 1, rate: mixRate, gain: echoAmp}
	}
	if c.tone != nil {
		c.tone.mix(tx)
		if c.tone.done {
			c.tone = nil
		}
	}
}

func (c *echoCheck) done() bool {
	return c.sent >= c.bursts && c.sentAt < 0 && c.tone == nil
}

func (c *echoCheck) result(js JitterStats) EchoResult {
	r := EchoResult{Sent: c.sent, Heard: len(c.rtts), Level: c.level, Jitter: js}
	if len(c.rtts) > 0 {
		s := slices.Clone(c.rtts)
		slices.Sort(s)
		r.RoundTrip = time.Duration(s[len(s)/2]) * frameDur
	}
	return r
}

// EchoCheck is the pre-shift check's echo test through a call: call id
// (connected to the PBX's echo service and routed to the headset) gets
// bursts 1 kHz bursts of 100 ms, one a second, mixed into what the agent
// sends, and the call's audio is watched for them coming back; the agent
// hears them too. It returns when every burst came back or timed out (two
// seconds each), with ctx's error if ctx ends first (and what was measured
// so far), ErrClosed after Close, and an error when the call has no audio
// or leaves the headset. It blocks: call it off the UI's and the agent's
// goroutines.
func (e *Engine) EchoCheck(ctx context.Context, id domain.CallID, bursts int) (EchoResult, error) {
	if bursts <= 0 || bursts > 20 {
		return EchoResult{}, fmt.Errorf("echo check: %d bursts (1-20)", bursts)
	}
	if e.closed.Load() {
		return EchoResult{}, ErrClosed
	}
	c := &echoCheck{id: id, bursts: bursts, sentAt: -1, res: make(chan EchoResult, 1)}
	e.do(func() { e.echoChecks = append(e.echoChecks, c) })
	var res EchoResult
	var err error
	select {
	case res = <-c.res:
	case <-ctx.Done():
		got := make(chan EchoResult, 1)
		e.do(func() { got <- e.endEcho(c) })
		select {
		case res = <-got:
		case <-e.done:
		}
		err = ctx.Err()
	case <-e.done:
		return EchoResult{}, ErrClosed
	}
	if err == nil && res.Sent < bursts {
		err = fmt.Errorf("echo check: call %s has no audio in the headset", id)
	}
	return res, err
}

// stepEcho runs the echo checks for one frame; legs, tx and far are the
// frame's routed calls.
func (e *Engine) stepEcho(legs []*leg, far, tx [][]float32) {
	for _, c := range slices.Clone(e.echoChecks) {
		i := slices.IndexFunc(legs, func(l *leg) bool { return l.id == c.id })
		if i < 0 {
			c.frame++
			if c.frame > echoTimeout { // routed, but no audio for two seconds
				e.endEcho(c)
			}
			continue
		}
		c.step(tx[i], far[i])
		if c.done() {
			e.endEcho(c)
		}
	}
}

// endEcho removes c and delivers its result (once).
func (e *Engine) endEcho(c *echoCheck) EchoResult {
	e.echoChecks = slices.DeleteFunc(e.echoChecks, func(x *echoCheck) bool { return x == c })
	var js JitterStats
	if l := e.legs[c.id]; l != nil {
		js = l.jb.Stats()
	}
	r := c.result(js)
	if !c.finished {
		c.finished = true
		c.res <- r
	}
	return r
}
