package audio

import (
	"context"
	"errors"
	"time"
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
