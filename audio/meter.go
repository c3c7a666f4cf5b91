package audio

import (
	"fmt"
	"math"
	"time"
)

// The settings screen's tools: the microphone meter without a call
// (MicMeter) and a test sound on any output device (TestDevice). Each has a
// stream of its own, opened only while it is used, on exactly the device
// asked for (no fallback: the agent is trying that device).

// MicMeter is the level (0..1, the peak over the last ~66 ms) of microphone
// dev (the zero DeviceID: the system default) for the settings' meter, with
// or without a call. The first call opens the device, and 0 is returned
// until it delivers; polling at the meters' 10-20 Hz keeps it open, and it
// is closed two seconds after the last call. While the headset's
// microphone is that device (during a call), its stream is measured
// (before mute) instead of opening a second one. A device that cannot be
// opened reads 0 and is retried every two seconds. It never blocks.
func (e *Engine) MicMeter(dev DeviceID) float32 {
	if e.closed.Load() {
		return 0
	}
	if p := e.meterWant.Load(); p == nil || *p != dev {
		e.meterWant.Store(&dev)
	}
	e.meterPoll.Store(time.Now().UnixNano())
	if !e.meterOpen.Load() {
		e.do(func() {}) // wake the loop: it opens the meter's stream
	}
	return math.Float32frombits(e.meterLevel.Load())
}

// meterActive reports whether MicMeter was polled within idleClose.
func (e *Engine) meterActive(now time.Time) bool {
	last := e.meterPoll.Load()
	return last != 0 && now.Sub(time.Unix(0, last)) < idleClose
}

// stepMeter runs on the loop: it opens, drains and closes the meter's
// stream as MicMeter is polled.
func (e *Engine) stepMeter(now time.Time) {
	var want DeviceID
	if p := e.meterWant.Load(); p != nil {
		want = *p
	}
	active := e.meterActive(now)
	shared := e.in != nil && want == e.settings.Microphone
	if e.meter != nil && (!active || shared || e.meterDev != want) {
		e.closeStream(e.meter)
		e.meter = nil
		e.meterOpen.Store(false)
	}
	switch {
	case !active:
		e.meterLevel.Store(0)
		return
	case shared:
		e.meterLevel.Store(e.micLevel.Load())
		return
	}
	if e.meter == nil {
		if now.Before(e.meterRetry) {
			return
		}
		e.rescanIfFailed()
		ds, err := e.tryOpen(RoleMicrophone, want, true)
		if err != nil {
			e.log.Debug("meter: open microphone", "device", want.String(), "err", err)
			e.meterRetry = now.Add(reopenBackoff)
			e.meterLevel.Store(0)
			e.needRescan = true
			return
		}
		e.meter, e.meterDev, e.meterPeak, e.meterAt = ds, want, 0, now
		e.meterOpen.Store(true)
	}
	ds := e.meter
	if c := ds.calls.Load(); c != ds.lastCalls {
		ds.lastCalls, ds.lastSeen = c, now
	} else if now.Sub(ds.lastSeen) > stallAfter {
		e.log.Warn("meter: the microphone stopped delivering audio", "device", want.String())
		e.closeAside(ds)
		e.meter = nil
		e.meterOpen.Store(false)
		e.meterLevel.Store(0)
		e.meterRetry = now.Add(reopenBackoff)
		e.needRescan = true
		return
	}
	chunk := ds.rate / 100
	if cap(e.meterBuf) < chunk {
		e.meterBuf = make([]float32, chunk)
	}
	buf := e.meterBuf[:chunk]
	for ds.ring.Len() > 0 {
		n := ds.ring.Read(buf)
		e.meterPeak = max(e.meterPeak, peak(buf[:n]))
	}
	if now.Sub(e.meterAt) >= levelsEvery {
		e.meterLevel.Store(math.Float32bits(e.meterPeak))
		e.meterPeak, e.meterAt = 0, now
	}
}

// TestDevice plays tone t for d on output device dev (the zero DeviceID:
// the system default) through a stream of its own: the settings' "test"
// buttons, ToneRing for the ringer, ToneTest for a speaker, on the device
// picked even before it is saved. It returns once the sound has started,
// or with an error wrapping ErrNoDevice when the device cannot be opened
// (ErrClosed after Close). A new test replaces a running one; the stream
// closes when the sound ends. It blocks while the device opens (up to
// about a second through ALSA): call it off the UI goroutine.
func (e *Engine) TestDevice(dev DeviceID, t Tone, d time.Duration) error {
	switch t {
	case ToneRing, ToneTest, ToneRingback, ToneBusy, ToneWaiting:
	default:
		return fmt.Errorf("test device: unknown tone %d", t)
	}
	if d <= 0 {
		return fmt.Errorf("test device: duration %v", d)
	}
	if e.closed.Load() {
		return ErrClosed
	}
	res := make(chan error, 1)
	e.do(func() { res <- e.startTest(dev, t, d) })
	select {
	case err := <-res:
		return err
	case <-e.done:
		return ErrClosed
	}
}

func (e *Engine) startTest(dev DeviceID, t Tone, d time.Duration) error {
	if e.aux != nil && e.auxDev != dev {
		e.closeStream(e.aux)
		e.aux = nil
	}
	if e.aux == nil {
		e.rescanIfFailed()
		ds, err := e.tryOpen(RoleSpeaker, dev, false)
		if err != nil {
			e.needRescan = true
			return fmt.Errorf("test %s: %w", dev, err)
		}
		e.aux, e.auxDev = ds, dev
	}
	e.auxGen = newTone(t, e.aux.rate)
	e.auxUntil = time.Now().Add(d)
	return nil
}

// stepTest feeds the test stream and closes it when the sound is over.
func (e *Engine) stepTest(now time.Time) {
	if e.aux == nil {
		return
	}
	ds := e.aux
	if c := ds.calls.Load(); c != ds.lastCalls {
		ds.lastCalls, ds.lastSeen = c, now
	}
	if now.After(e.auxUntil) || (e.auxGen != nil && e.auxGen.done) || now.Sub(ds.lastSeen) > stallAfter {
		e.closeAside(ds)
		e.aux, e.auxGen = nil, nil
		e.auxLevel.Store(0)
		return
	}
	fr := ds.rate / 50
	if cap(e.auxBuf) < fr {
		e.auxBuf = make([]float32, fr)
	}
	buf := e.auxBuf[:fr]
	for ds.ring.Len() < ds.rate/10 {
		clear(buf)
		e.auxGen.mix(buf)
		ds.ring.Write(buf)
		e.auxPeak = max(e.auxPeak, peak(buf))
	}
	if now.Sub(e.auxAt) >= levelsEvery {
		e.auxLevel.Store(math.Float32bits(e.auxPeak))
		e.auxPeak, e.auxAt = 0, now
	}
}

// TestLevel is the level (0..1, the peak over the last ~66 ms) of the
// sound TestDevice is playing, 0 when none is: the settings' meter for the
// device under test, polled at 10-20 Hz like MicMeter. It measures what is
// handed to the device (up to 100 ms ahead of what is heard). It never
// blocks.
func (e *Engine) TestLevel() float32 { return math.Float32frombits(e.auxLevel.Load()) }

// rescanIfFailed rescans before opening a stream when a device failed and
// nothing is open (the list PortAudio holds may be stale).
func (e *Engine) rescanIfFailed() {
	if e.needRescan && e.in == nil && e.out == nil && e.ringer == nil && e.meter == nil && e.aux == nil {
		e.needRescan = false
		e.rescan()
	}
}
