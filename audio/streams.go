package audio

import (
	"errors"
	"sync/atomic"
	"time"
)

// devStream is one open device stream and the ring between its callback
// and the engine loop. The callback touches only the ring and atomics.
type devStream struct {
	s         Stream
	role      Role
	rate      int
	fpb       int // frames per device buffer
	ring      *Ring
	calls     atomic.Uint64
	underruns atomic.Uint64
	overruns  atomic.Uint64
	skip      atomic.Int64 // output: samples to drop (set by the loop, done by the callback)
	primed    atomic.Bool
	lastCall  atomic.Int64 // input: when its last callback ran, ns since monoBase
	standing  int          // loop: consecutive frames with too much queued
	lastCalls uint64
	lastSeen  time.Time
}

// monoBase is the origin of devStream.lastCall (time.Since reads the
// monotonic clock: no allocation, no lock).
var monoBase = time.Now()

func (d *devStream) inputCallback(in, _ []float32) {
	if n := d.ring.Write(in); n < len(in) {
		d.overruns.Add(1)
	}
	d.lastCall.Store(int64(time.Since(monoBase)))
	d.calls.Add(1)
}

// nextBuffer is how long until just after the stream's next callback is
// due (a millisecond after), or 0 when that is unknown or already past.
func (d *devStream) nextBuffer(now time.Time) time.Duration {
	last := d.lastCall.Load()
	if last == 0 {
		return 0
	}
	period := time.Duration(d.fpb) * time.Second / time.Duration(d.rate)
	return max(0, time.Duration(last)+period+time.Millisecond-now.Sub(monoBase))
}

func (d *devStream) outputCallback(_, out []float32) {
	if k := d.skip.Load(); k > 0 {
		d.ring.Discard(int(k))
		d.skip.Store(0)
	}
	if n := d.ring.Read(out); n < len(out) {
		clear(out[n:])
		if d.primed.Load() {
			d.underruns.Add(1)
		}
	}
	d.calls.Add(1)
}

type deadStream struct {
	done chan struct{}
	at   time.Time
}

// tryOpen opens and starts a mono stream for role on id (no fallback),
// at the engine's rate or a common one the device accepts.
func (e *Engine) tryOpen(role Role, id DeviceID, input bool) (*devStream, error) {
	var lastErr error
	for _, rate := range []int{e.devRate, 48000, 44100} {
		fpb := e.spkFPB
		if input {
			fpb = e.micFPB
		}
		ds := &devStream{role: role, rate: rate, fpb: int(time.Duration(rate) * fpb / time.Second), ring: NewRing(rate / 2)}
		cfg := StreamConfig{Rate: rate, FramesPerBuffer: ds.fpb, Latency: devLatency}
		idc := id
		if input {
			cfg.Input, cfg.Callback = &idc, ds.inputCallback
		} else {
			cfg.Output, cfg.Callback = &idc, ds.outputCallback
		}
		s, err := e.drv.Open(cfg)
		if err != nil {
			lastErr = err
			continue
		}
		if err := s.Start(); err != nil {
			lastErr = errors.Join(err, s.Close())
			continue
		}
		ds.s = s
		ds.lastSeen = time.Now()
		return ds, nil
	}
	return nil, lastErr
}

// openStream opens a mono stream for role on want, falling back to the
// default device; nil when nothing could be opened.
func (e *Engine) openStream(role Role, want DeviceID, input bool) *devStream {
	try := func(id DeviceID) (*devStream, error) { return e.tryOpen(role, id, input) }
	ds, err := try(want)
	if err == nil {
		e.unavailable[role] = false
		e.emit(DeviceOpened{Role: role, Device: ds.s.Device()})
		return ds
	}
	if !want.IsDefault() {
		e.log.Debug("device unavailable, trying the default", "role", role.String(), "device", want.String(), "err", err)
		if ds, err2 := try(DeviceID{}); err2 == nil {
			e.unavailable[role] = false
			e.log.Warn("device unavailable, using the default", "role", role.String(), "device", want.String(), "err", err)
			e.emit(DeviceFallback{Role: role, Wanted: want, Using: ds.s.Device(), Reason: err.Error()})
			e.emit(DeviceOpened{Role: role, Device: ds.s.Device()})
			return ds
		}
	}
	if !e.unavailable[role] { // report the transition, not every retry
		e.unavailable[role] = true
		e.log.Error("no audio device", "role", role.String(), "err", err)
		e.emit(DeviceUnavailable{Role: role, Reason: err.Error()})
	}
	e.needRescan = true
	return nil
}

func (e *Engine) openHeadset(now time.Time) {
	if e.needRescan && e.in == nil && e.out == nil {
		// A device failed: the list PortAudio holds may be stale (a
		// sound server restarted, a headset came back).
		e.needRescan = false
		e.rescan()
	}
	if e.in == nil {
		e.in = e.openStream(RoleMicrophone, e.settings.Microphone, true)
		if e.in != nil {
			e.micRes = NewResampler(e.in.rate, mixRate)
			e.micFIFO = e.micFIFO[:0]
			e.micFresh = true
		}
	}
	if e.out == nil {
		e.out = e.openStream(RoleSpeaker, e.settings.Speaker, false)
		if e.out != nil {
			e.spkRes = NewResampler(mixRate, e.out.rate)
		}
	}
	if e.in == nil || e.out == nil {
		e.nextOpen = now.Add(reopenBackoff)
	}
}

func (e *Engine) closeHeadset() {
	for _, p := range []**devStream{&e.in, &e.out} {
		if *p != nil {
			e.lostUnder += (*p).underruns.Load()
			e.closeStream(*p)
			*p = nil
		}
	}
}

// closeStream closes without waiting more than a second: a stream whose
// device vanished may block in Close. Such a stream is remembered and no
// rescan is done until it has closed.
func (e *Engine) closeStream(ds *devStream) {
	done := make(chan struct{})
	go func() {
		if err := ds.s.Close(); err != nil {
			e.log.Debug("close stream", "role", ds.role.String(), "err", err)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
		e.log.Warn("stream close is stuck", "role", ds.role.String())
		e.dead = append(e.dead, deadStream{done: done, at: time.Now()})
	}
}

// closeAside closes a lost stream on its own goroutine without waiting;
// it counts as open (no rescan) until it has closed.
func (e *Engine) closeAside(ds *devStream) {
	done := make(chan struct{})
	go func() {
		if err := ds.s.Close(); err != nil {
			e.log.Debug("close lost stream", "role", ds.role.String(), "err", err)
		}
		close(done)
	}()
	e.dead = append(e.dead, deadStream{done: done, at: time.Now()})
}

func (e *Engine) reapDead() {
	k := e.dead[:0]
	for _, d := range e.dead {
		select {
		case <-d.done:
		default:
			k = append(k, d)
		}
	}
	e.dead = k
}

// watchdog notices streams whose callbacks stopped (the device vanished, or
// its sound server died) and reopens them.
func (e *Engine) watchdog(now time.Time) {
	lost := func(ds *devStream) bool {
		if ds == nil {
			return false
		}
		if c := ds.calls.Load(); c != ds.lastCalls {
			ds.lastCalls, ds.lastSeen = c, now
			return false
		}
		return now.Sub(ds.lastSeen) > stallAfter
	}
	if lost(e.in) || lost(e.out) {
		for _, ds := range []*devStream{e.in, e.out} {
			if ds != nil {
				e.emit(DeviceLost{Role: ds.role, Device: ds.s.Device(), Reason: "the device stopped delivering audio"})
			}
		}
		e.log.Warn("headset device lost; reopening")
		// A vanished device's Close can block: close them aside, so the
		// mix keeps its clock for the calls meanwhile.
		for _, p := range []**devStream{&e.in, &e.out} {
			if *p != nil {
				e.lostUnder += (*p).underruns.Load()
				e.closeAside(*p)
				*p = nil
			}
		}
		e.stats.reopens.Add(1)
		e.needRescan = true
		e.nextOpen = now.Add(500 * time.Millisecond)
	}
	if lost(e.ringer) {
		e.emit(DeviceLost{Role: RoleRinger, Device: e.ringer.s.Device(), Reason: "the device stopped delivering audio"})
		e.closeAside(e.ringer)
		e.ringer = nil
		e.nextOpen = now.Add(500 * time.Millisecond)
	}
}

// rescan lists the devices again when no stream is open (PortAudio only
// sees hot-plugged devices after a re-initialisation).
func (e *Engine) rescan() {
	if e.in != nil || e.out != nil || e.ringer != nil || e.meter != nil || e.aux != nil || len(e.dead) > 0 {
		return
	}
	e.lastScan = time.Now()
	devs, err := e.drv.Scan()
	if err != nil {
		e.log.Warn("scan devices", "err", err)
		return
	}
	e.devMu.Lock()
	e.devices = devs
	e.devMu.Unlock()
	e.emit(DevicesChanged{Devices: devs})
}
