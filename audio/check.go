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
	// RoundTrip is the median time from a burst entering the microphone
	// path to it leaving for the speaker, through the call: our microphone
	// and speaker buffering and filters, the network both ways, the echo
	// service and the jitter buffer (everything but the sound card's own
	// latency), to a few milliseconds. 0 when none came back.
	RoundTrip time.Duration
	// Headset is the part of RoundTrip spent in our microphone and
	// speaker paths (device buffers, queues, resamplers), the same on
	// every call: RoundTrip - Headset is the call's own round trip.
	Headset time.Duration
	// Level is the loudest returned burst relative to the sent one (about
	// 1 through an echo service that returns audio unchanged).
	Level float32
	// Jitter is the call's jitter buffer at the end of the check.
	Jitter JitterStats
}

const (
	echoBurstFrames = 5             // 100 ms of 1 kHz per burst
	echoGapFrames   = 50            // a burst every second
	echoTimeout     = 100           // frames (2 s) to wait for a burst to return
	echoAmp         = 0.3           // sent amplitude
	echoHeard       = 0.3 * 0.25    // a return above a quarter of it counts
	echoQuiet       = echoHeard / 4 // a burst only goes out on a line this quiet at 1 kHz
	echoNoisySlots  = 3             // bursts held back by a tone already on the line before giving up
)

// echoCheck runs on the loop, one frame at a time, for one routed call.
//
// The round trip used to be counted in whole mix frames from the frame a
// burst went into the call to the frame it came out of the jitter buffer:
// on loopback the echo is back before the next frame is pulled, so every
// check read 20 ms, whatever the jitter buffer held, and the headset's
// own buffering (about 40-60 ms each way) was left out. Now the burst's
// onset is located to a 2.5 ms block within the returning frames and the
// microphone and speaker paths' delays are added as the engine measures
// them when the burst leaves and when it returns.
type echoCheck struct {
	id       domain.CallID
	bursts   int
	tone     *toneGen
	frame    int // frames since the check started
	sentAt   int // frame the current burst started (-1: none in flight)
	sent     int
	sentIn   time.Duration // microphone path delay when the burst was sent
	prev     []float32     // the previous far frame
	rtts     []time.Duration
	headset  []time.Duration
	level    float32
	noisy    int // burst slots passed because the line already carried 1 kHz
	res      chan EchoResult
	finished bool
}

// echoBlock is the resolution of the burst's onset: 2.5 ms, two and a half
// periods of the 1 kHz burst.
const echoBlock = mixRate / 400

// onset is where the burst starts, in samples relative to the start of
// far (negative: in the previous frame): the first block of the run of
// blocks carrying the tone that reaches far's loudest block.
func (c *echoCheck) onset(far []float32) int {
	buf := make([]float32, 0, 2*mixFrame)
	buf = append(append(buf, c.prev...), far...)
	nb := len(buf) / echoBlock
	amp := func(k int) float64 { return goertzel(buf[k*echoBlock:(k+1)*echoBlock], mixRate, 1000) }
	loud, best := nb-1, 0.0
	for k := len(c.prev) / echoBlock; k < nb; k++ { // far's loudest block
		if a := amp(k); a > best {
			loud, best = k, a
		}
	}
	k := loud
	for k > 0 && amp(k-1) > best/3 {
		k--
	}
	return k*echoBlock - len(c.prev)
}

// step adds the burst to tx (what the call will send) and looks for it in
// far (what the call just delivered). in and out give the engine's
// microphone and speaker path delays at this moment.
func (c *echoCheck) step(tx, far []float32, in, out func() time.Duration) {
	c.frame++
	g := goertzel(far, mixRate, 1000)
	if c.sentAt >= 0 {
		if g > echoHeard {
			// The burst went out at the start of frame sentAt's tx and is
			// heard from this sample of the frames pulled since.
			samples := (c.frame-c.sentAt)*mixFrame + c.onset(far)
			head := c.sentIn + out()
			c.rtts = append(c.rtts, time.Duration(samples)*time.Second/mixRate+head)
			c.headset = append(c.headset, head)
			c.level = max(c.level, float32(g/echoAmp))
			c.sentAt = -1
		} else if c.frame-c.sentAt > echoTimeout {
			c.sentAt = -1
		}
	}
	if c.prev == nil {
		c.prev = make([]float32, mixFrame)
	}
	copy(c.prev, far)
	if c.sentAt < 0 && c.sent < c.bursts && c.frame%echoGapFrames == 0 && c.noisy < echoNoisySlots {
		if g >= echoQuiet {
			// The line already carries 1 kHz (a tone, our own echo
			// still ringing): a burst could not be told apart from it.
			c.noisy++
			return
		}
		c.sentAt, c.sent = c.frame, c.sent+1
		c.sentIn = in()
		c.tone = &toneGen{segs: []toneSeg{{1000, 0, float64(echoBurstFrames) * frameDur.Seconds()}}, repeat: 1, rate: mixRate, gain: echoAmp}
	}
	if c.tone != nil {
		c.tone.mix(tx)
		if c.tone.done {
			c.tone = nil
		}
	}
}

// noisyLine reports whether the check gave up on a line carrying 1 kHz
// (read after the result was delivered).
func (c *echoCheck) noisyLine() bool { return c.noisy >= echoNoisySlots }

func (c *echoCheck) done() bool {
	return (c.sent >= c.bursts || c.noisy >= echoNoisySlots) && c.sentAt < 0 && c.tone == nil
}

func (c *echoCheck) result(js JitterStats) EchoResult {
	r := EchoResult{Sent: c.sent, Heard: len(c.rtts), Level: c.level, Jitter: js}
	if len(c.rtts) > 0 {
		s := slices.Clone(c.rtts)
		slices.Sort(s)
		r.RoundTrip = s[len(s)/2]
		h := slices.Clone(c.headset)
		slices.Sort(h)
		r.Headset = h[len(h)/2]
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
	if err == nil && c.noisyLine() {
		err = fmt.Errorf("%w: the call already carries a 1 kHz tone, so the test beeps could not be told apart", ErrEchoNoisy)
	} else if err == nil && res.Sent < bursts {
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
		c.step(tx[i], far[i], e.micPathDelay, e.spkPathDelay)
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

// micPathDelay is how long ago the samples of the frame being mixed left
// the microphone: the device buffer, what waits in the ring and the FIFO
// behind them, and the resampler; 0 without a microphone (the wall clock
// drives the mix).
func (e *Engine) micPathDelay() time.Duration {
	ds := e.in
	if ds == nil || e.micRes == nil {
		return 0
	}
	dev := time.Duration(ds.fpb+ds.ring.Len()+e.micRes.Delay()) * time.Second / time.Duration(ds.rate)
	return dev + time.Duration(mixFrame+len(e.micFIFO))*time.Second/mixRate
}

// spkPathDelay is how long the frame being mixed will take to reach the
// speaker: the resampler, what is queued before it and the device buffer;
// 0 without a speaker.
func (e *Engine) spkPathDelay() time.Duration {
	ds := e.out
	if ds == nil || e.spkRes == nil {
		return 0
	}
	return time.Duration(e.spkRes.Delay())*time.Second/mixRate +
		time.Duration(ds.ring.Len()+ds.fpb)*time.Second/time.Duration(ds.rate)
}
