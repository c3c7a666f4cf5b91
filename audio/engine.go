package audio

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

const (
	mixRate  = 16000 // every call, tone and the mix run at 16 kHz (the processing at 8 kHz for G.711: procFor)
	mixFrame = mixRate / 50
	frameDur = 20 * time.Millisecond
	// Device buffers (frames per callback): one mix frame each. Through
	// ALSA and the pulse plugin a stream's CPU follows its callback rate
	// (BenchmarkRealStreams, busy 2-core machine: capture 2.0 % at 10 ms,
	// 0.95 % at 20 ms; playback 2.1 % at 10 ms, 1.1 % at 20 ms; 3.1-3.6 %
	// with paFramesPerBufferUnspecified; the same at a 16 kHz device rate),
	// and 20 ms buffers move exactly the frames the mix makes. 20 ms on the
	// speaker costs about 10 ms of delay more than 10 ms (BenchmarkLatency).
	micFPB        = 20 * time.Millisecond
	spkFPB        = 20 * time.Millisecond
	devLatency    = 20 * time.Millisecond
	stallAfter    = 2 * time.Second // no callback for this long: the device is gone
	reopenBackoff = 2 * time.Second
	idleClose     = 2 * time.Second // close the headset streams this long after the last use
	levelsEvery   = 66 * time.Millisecond
	autoRescan    = 30 * time.Second
)

// Settings are the agent's audio settings.
type Settings struct {
	Microphone DeviceID `json:"microphone"`
	Speaker    DeviceID `json:"speaker"`
	Ringer     DeviceID `json:"ringer"`
	// RingBoth also rings in the speaker ("speaker + ringer").
	RingBoth      bool `json:"ringBoth,omitempty"`
	EchoCancel    bool `json:"echoCancel"`
	NoiseSuppress bool `json:"noiseSuppress"`
	AutoGain      bool `json:"autoGain"`
}

// DefaultSettings uses the system defaults with every processing stage on.
func DefaultSettings() Settings {
	return Settings{EchoCancel: true, NoiseSuppress: true, AutoGain: true}
}

// Levels are the meters: peaks over the last frame, 0..1.
type Levels struct {
	Microphone float32 // measured before mute, so "you are talking while muted" can be shown
	Speaker    float32
	Muted      bool
}

// Stats are the engine's counters, for diagnostics and tests.
type Stats struct {
	Frames         uint64 // 20 ms mix frames processed
	Underruns      uint64 // output callbacks that ran dry
	Overruns       uint64 // input callbacks whose samples did not fit
	TxDropped      uint64 // frames dropped because the network side was slower
	Reopens        uint64 // headset stream reopenings after a device was lost
	Wakes          uint64 // times the engine's loop woke (for commands, devices or time)
	OutputBuffered time.Duration
	// Jitter has each call's jitter buffer counters (received, played,
	// concealed, late, dropped for drift, target and buffered delay).
	Jitter map[domain.CallID]JitterStats
}

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithEventHandler receives device and level events (see Event).
func WithEventHandler(f func(Event)) Option { return func(e *Engine) { e.onEvent = f } }

// WithRecordingsDir is the agent's profile recordings directory.
func WithRecordingsDir(dir string) Option { return func(e *Engine) { e.recDir.Store(&dir) } }

// WithAnnouncementsDir is where announcement WAV files are (name.wav).
func WithAnnouncementsDir(dir string) Option { return func(e *Engine) { e.annDir = dir } }

// WithSettings sets the initial settings (default DefaultSettings()).
func WithSettings(s Settings) Option { return func(e *Engine) { e.settings = s } }

// WithDeviceBuffer sets the device buffer (frames per callback) duration
// of every stream (default 20 ms).
func WithDeviceBuffer(d time.Duration) Option {
	return func(e *Engine) { e.micFPB, e.spkFPB = d, d }
}

// WithDeviceRate sets the device sample rate (default 48000).
func WithDeviceRate(hz int) Option { return func(e *Engine) { e.devRate = hz } }

// Engine implements domain.Media over a Driver and a domain.AudioSource.
// See the package documentation for its concurrency contract.
type Engine struct {
	drv      Driver
	src      domain.AudioSource
	log      *slog.Logger
	onEvent  func(Event)
	recDir   atomic.Pointer[string]
	annDir   string
	devRate  int
	micFPB   time.Duration
	spkFPB   time.Duration
	settings Settings
	notify   *notifier

	curSettings atomic.Pointer[Settings]

	sinkMu sync.Mutex
	sink   domain.EventSink

	cmdMu  sync.Mutex
	cmds   []func()
	wake   chan struct{}
	quit   chan struct{}
	done   chan struct{}
	closed atomic.Bool

	micLevel, spkLevel atomic.Uint32
	meterWant          atomic.Pointer[DeviceID] // MicMeter's device
	meterPoll          atomic.Int64             // unix nanos of the last MicMeter
	meterLevel         atomic.Uint32
	meterOpen          atomic.Bool
	muted              atomic.Bool
	stats              struct{ frames, reopens, wakes atomic.Uint64 }
	devMu              sync.Mutex
	devices            []Device

	// Owned by the loop goroutine.
	in, out, ringer *devStream
	micRes, spkRes  *Resampler
	micBuf, micFIFO []float32
	micFresh        bool // no microphone samples since the stream opened
	spkOut          []float32
	legs            map[domain.CallID]*leg
	pending         map[domain.CallID]time.Time // routed calls without audio yet
	route           []domain.CallID
	ringMode        domain.RingerMode
	ringback        domain.CallID
	ringGen         *toneGen // ringer device rate
	ringSpkGen      *toneGen
	ringbackGen     *toneGen
	waitGen         *toneGen
	tones           []*toneGen
	anns            []*announcement
	recs            map[string]*recording
	proc            processor // at mixRate
	procNB          processor // at narrowRate, for narrowband calls (procFor)
	clockStart      time.Time
	clockFrames     int64
	lastUse         time.Time
	nextOpen        time.Time
	lastLevels      time.Time
	checks          []*check
	echoChecks      []*echoCheck
	dead            []deadStream
	needRescan      bool
	lastScan        time.Time
	unavailable     map[Role]bool
	lostUnder       uint64
	buf             frameBufs
	meter           *devStream // MicMeter's own stream
	meterDev        DeviceID
	meterRetry      time.Time
	meterPeak       float32
	meterAt         time.Time
	meterBuf        []float32
	aux             *devStream // TestDevice's stream
	auxDev          DeviceID
	auxGen          *toneGen
	auxUntil        time.Time
	auxBuf          []float32
	auxPeak         float32
	auxAt           time.Time
	auxLevel        atomic.Uint32 // TestLevel
}

type frameBufs struct {
	mic, ref, spk, tone, right []float32
	far, tx                    [][]float32
}

// New returns a started Engine. src gives the calls' PCM (package sip);
// drv is NewPortAudio() in the app.
func New(drv Driver, src domain.AudioSource, opts ...Option) *Engine {
	e := &Engine{
		drv:      drv,
		src:      src,
		log:      slog.Default(),
		devRate:  48000,
		micFPB:   micFPB,
		spkFPB:   spkFPB,
		settings: DefaultSettings(),
		wake:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		legs:     map[domain.CallID]*leg{},
		pending:  map[domain.CallID]time.Time{},
		recs:     map[string]*recording{},
	}
	e.unavailable = map[Role]bool{}
	for _, o := range opts {
		o(e)
	}
	e.log = e.log.With("component", "audio")
	cur := e.settings
	e.curSettings.Store(&cur)
	e.notify = newNotifier()
	e.buf = frameBufs{
		mic: make([]float32, mixFrame), ref: make([]float32, mixFrame), spk: make([]float32, mixFrame),
		tone: make([]float32, mixFrame), right: make([]float32, mixFrame),
	}
	e.proc = e.newProc()
	go e.run()
	e.do(func() { e.rescan() })
	return e
}

// Attach gives the engine the agent's inbox for RecordingStarted,
// RecordingFailed and AnnouncementDone.
func (e *Engine) Attach(sink domain.EventSink) {
	e.sinkMu.Lock()
	e.sink = sink
	e.sinkMu.Unlock()
}

func (e *Engine) post(in domain.Input) {
	e.notify.push(func() {
		e.sinkMu.Lock()
		s := e.sink
		e.sinkMu.Unlock()
		if s == nil {
			e.log.Warn("event dropped: no sink attached", "event", fmt.Sprintf("%T", in))
			return
		}
		if err := s.Post(in); err != nil {
			e.log.Warn("post event", "event", fmt.Sprintf("%T", in), "err", err)
		}
	})
}

func (e *Engine) emit(ev Event) {
	if e.onEvent == nil {
		return
	}
	f := e.onEvent
	e.notify.push(func() { f(ev) })
}

// do queues f to run on the loop goroutine; it never blocks.
func (e *Engine) do(f func()) {
	e.cmdMu.Lock()
	e.cmds = append(e.cmds, f)
	e.cmdMu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Close stops the engine: streams are closed, recordings finished, and the
// pending events delivered.
func (e *Engine) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(e.quit)
	<-e.done
	e.notify.stop()
	return nil
}

// ---- domain.Media ----

// SetRinger implements domain.Media.
func (e *Engine) SetRinger(mode domain.RingerMode) { e.do(func() { e.setRinger(mode) }) }

// SetRingback implements domain.Media.
func (e *Engine) SetRingback(id domain.CallID) {
	e.do(func() {
		e.ringback = id
		if id == "" {
			e.ringbackGen = nil
		} else if e.ringbackGen == nil {
			e.ringbackGen = newTone(ToneRingback, mixRate)
		}
	})
}

// SetAudioRoute implements domain.Media.
func (e *Engine) SetAudioRoute(calls []domain.CallID) {
	calls = slices.Clone(calls)
	e.do(func() { e.setRoute(calls) })
}

// SetMute implements domain.Media.
func (e *Engine) SetMute(on bool) { e.muted.Store(on) }

// Record implements domain.Media. The file is a 16 kHz stereo WAV (agent
// left, far ends right) in the recordings directory; its path is posted as
// RecordingStarted.Ref.
func (e *Engine) Record(key string, calls []domain.CallID, action domain.RecordAction) error {
	if key == "" {
		return fmt.Errorf("record: empty key")
	}
	switch action {
	case domain.RecordStart, domain.RecordPause, domain.RecordResume, domain.RecordStop:
	default:
		return fmt.Errorf("record: unknown action %d", action)
	}
	if e.recordingsDir() == "" && action == domain.RecordStart {
		return ErrNoRecordingsDir
	}
	calls = slices.Clone(calls)
	e.do(func() { e.record(key, calls, action) })
	return nil
}

// SetRecordingsDir changes the recordings directory (the signed-in
// agent's profile directory; "" refuses new recordings with
// ErrNoRecordingsDir). Recordings already running keep their file.
func (e *Engine) SetRecordingsDir(dir string) { e.recDir.Store(&dir) }

func (e *Engine) recordingsDir() string {
	if p := e.recDir.Load(); p != nil {
		return *p
	}
	return ""
}

// PlayAnnouncement implements domain.Media: name.wav from the
// announcements directory is played into the call (and, quieter, to the
// agent). AnnouncementDone is posted when it ends or fails.
func (e *Engine) PlayAnnouncement(id domain.CallID, name string) error {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.Contains(name, "..") || strings.ContainsRune(name, 0) {
		return fmt.Errorf("%w: %q", ErrBadName, name)
	}
	if e.annDir == "" {
		return fmt.Errorf("%w: no announcements directory", ErrBadName)
	}
	path := filepath.Join(e.annDir, name)
	if filepath.Ext(path) == "" {
		path += ".wav"
	}
	go func() {
		pcm, err := loadAnnouncement(path)
		if err != nil {
			e.post(domain.AnnouncementDone{ID: id, Reason: err.Error()})
			return
		}
		e.do(func() { e.addAnnouncement(id, pcm) })
	}()
	return nil
}

var _ domain.Media = (*Engine)(nil)

// ---- the rest of the API ----

// Devices returns the devices of the last scan.
func (e *Engine) Devices() []Device {
	e.devMu.Lock()
	defer e.devMu.Unlock()
	return slices.Clone(e.devices)
}

// Refresh rescans the devices now if no stream is open, or as soon as none
// is; DevicesChanged follows.
func (e *Engine) Refresh() {
	e.do(func() {
		if e.in != nil || e.out != nil || e.ringer != nil || e.meter != nil || e.aux != nil {
			e.lastScan = time.Time{} // rescan when the streams close
			return
		}
		e.rescan()
	})
}

// Settings returns the current settings (the last applied).
func (e *Engine) Settings() Settings { return *e.curSettings.Load() }

// ApplySettings changes devices and processing. Open streams are reopened
// on the new devices without dropping any call.
func (e *Engine) ApplySettings(s Settings) {
	e.curSettings.Store(&s)
	e.do(func() {
		old := e.settings
		e.settings = s
		if old.EchoCancel != s.EchoCancel || old.NoiseSuppress != s.NoiseSuppress || old.AutoGain != s.AutoGain {
			e.closeProc()
			e.proc = e.newProc()
		}
		if old.Microphone != s.Microphone || old.Speaker != s.Speaker {
			if e.in != nil || e.out != nil {
				e.closeHeadset()
				e.nextOpen = time.Time{}
			}
		}
		if old.Ringer != s.Ringer && e.ringer != nil {
			e.closeStream(e.ringer)
			e.ringer = nil
		}
	})
}

// Levels returns the meters; poll at 10-20 Hz or use LevelsChanged events.
func (e *Engine) Levels() Levels {
	return Levels{
		Microphone: math.Float32frombits(e.micLevel.Load()),
		Speaker:    math.Float32frombits(e.spkLevel.Load()),
		Muted:      e.muted.Load(),
	}
}

// Stats returns the counters. It waits for the engine's loop (briefly, or
// for as long as a device takes to open): not for the UI goroutine.
func (e *Engine) Stats() Stats {
	ch := make(chan Stats, 1)
	e.do(func() {
		s := Stats{Frames: e.stats.frames.Load(), Reopens: e.stats.reopens.Load(), Wakes: e.stats.wakes.Load(), Underruns: e.lostUnder}
		for _, ds := range []*devStream{e.in, e.out} {
			if ds != nil {
				s.Underruns += ds.underruns.Load()
				s.Overruns += ds.overruns.Load()
			}
		}
		if e.out != nil {
			s.OutputBuffered = time.Duration(e.out.ring.Len()) * time.Second / time.Duration(e.out.rate)
		}
		s.Jitter = make(map[domain.CallID]JitterStats, len(e.legs))
		for id, l := range e.legs {
			s.TxDropped += l.txDropped.Load()
			s.Jitter[id] = l.jb.Stats()
		}
		ch <- s
	})
	select {
	case s := <-ch:
		return s
	case <-e.done:
		return Stats{}
	}
}

// PlayTone plays a finite tone (busy) or, for ToneTest, a second of the
// test tone in the headset.
func (e *Engine) PlayTone(t Tone) {
	e.do(func() {
		g := newTone(t, mixRate)
		if t == ToneTest {
			g.repeat = 1
		}
		e.tones = append(e.tones, g)
	})
}

// PlayDTMF plays the feedback tones of digits in the headset.
func (e *Engine) PlayDTMF(digits string) {
	e.do(func() { e.tones = append(e.tones, newDTMF(digits, mixRate)) })
}

// ---- loop ----

func (e *Engine) run() {
	defer close(e.done)
	t := time.NewTimer(time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-e.wake:
		case <-t.C:
		case <-e.quit:
			e.shutdown()
			return
		}
		e.cmdMu.Lock()
		cmds := e.cmds
		e.cmds = nil
		e.cmdMu.Unlock()
		for _, f := range cmds {
			f()
		}
		e.stats.wakes.Add(1)
		now := time.Now()
		e.step(now)
		switch {
		case e.in != nil:
			// Just after the microphone's next buffer: one wake-up per
			// buffer, and a buffer waits about a millisecond before it is
			// mixed. A late buffer is polled for every 5 ms (through
			// ALSA's pulse plugin callbacks come unevenly: 59 wake-ups a
			// second on a call, 95 with the half-buffer timer before).
			t.Reset(min(max(5*time.Millisecond, e.in.nextBuffer(now)), e.micFPB+time.Millisecond))
		case e.out != nil || e.ringer != nil || e.meter != nil || e.aux != nil:
			// No microphone clock: every half buffer.
			t.Reset(max(2*time.Millisecond, e.micFPB/2))
		case e.idle(now):
			// Nothing runs on time: sleep until a command (every
			// request to the engine is one) instead of waking 20 times
			// a second for the rest of the desk's day.
			t.Stop()
		default:
			t.Reset(50 * time.Millisecond)
		}
	}
}

func (e *Engine) shutdown() {
	for _, r := range e.recs {
		e.finishRecording(r)
	}
	e.recs = nil
	e.closeHeadset()
	for _, p := range []**devStream{&e.ringer, &e.meter, &e.aux} {
		if *p != nil {
			e.closeStream(*p)
			*p = nil
		}
	}
	for _, l := range e.legs {
		l.stop()
	}
	for _, a := range e.anns {
		e.post(domain.AnnouncementDone{ID: a.id, Reason: "audio engine stopped"})
	}
	e.closeProc()
	for _, c := range e.checks {
		c.finish(e, errors.New("audio engine stopped"))
	}
	for _, c := range e.echoChecks {
		e.endEcho(c)
	}
}

// idle reports whether the loop has nothing to do until a command comes:
// no stream, call, tone, check, recording, retry or pending rescan.
func (e *Engine) idle(now time.Time) bool {
	return len(e.legs) == 0 && len(e.pending) == 0 && len(e.recs) == 0 && len(e.dead) == 0 &&
		e.ringGen == nil && e.auxGen == nil && !e.meterActive(now) && !e.needRescan &&
		!e.needHeadset(now)
}

func (e *Engine) needHeadset(now time.Time) bool {
	use := len(e.route) > 0 || e.ringbackGen != nil || e.waitGen != nil || len(e.tones) > 0 ||
		len(e.anns) > 0 || len(e.checks) > 0 || len(e.echoChecks) > 0 || e.ringSpkGen != nil
	if use {
		e.lastUse = now
		return true
	}
	return !e.lastUse.IsZero() && now.Sub(e.lastUse) < idleClose
}

func (e *Engine) step(now time.Time) {
	e.reapDead()
	e.attachPending(now)
	e.reapLegs()
	need := e.needHeadset(now)
	if need && (e.in == nil || e.out == nil) && !now.Before(e.nextOpen) {
		e.openHeadset(now)
	}
	if !need && (e.in != nil || e.out != nil) {
		e.closeHeadset()
		// A scan re-opens every ALSA device (about half a second of CPU
		// through the pulse plugin): after a call, only if the list is
		// older than autoRescan. Refresh and failures rescan at once.
		if time.Since(e.lastScan) > autoRescan {
			e.rescan()
		}
	}
	e.stepRinger(now)
	e.watchdog(now)
	e.pump(now, need)
	e.stepMeter(now)
	e.stepTest(now)
	if (e.in != nil || e.out != nil) && now.Sub(e.lastLevels) >= levelsEvery {
		e.lastLevels = now
		e.emit(LevelsChanged{Levels: e.Levels()})
	}
}

// pump moves whole 20 ms frames: the microphone's clock drives the mix
// when there is one; otherwise the wall clock does.
func (e *Engine) pump(now time.Time, need bool) {
	if !need {
		e.clockStart = time.Time{}
		return
	}
	if e.in != nil {
		chunk := e.in.rate / 100
		if cap(e.micBuf) < chunk {
			e.micBuf = make([]float32, chunk)
		}
		buf := e.micBuf[:chunk]
		for e.in.ring.Len() >= chunk {
			e.in.ring.Read(buf)
			first := e.micFresh
			e.micFIFO = e.micRes.Process(buf, e.micFIFO)
			if first && len(e.micFIFO) > 0 {
				// Align frames with the device chunks (see leg.push).
				e.micFresh = false
				if r := len(e.micFIFO) % (mixFrame / 2); r != 0 {
					pad := make([]float32, mixFrame/2-r, mixFrame/2-r+len(e.micFIFO))
					e.micFIFO = append(pad, e.micFIFO...)
				}
			}
		}
		n := 0
		for len(e.micFIFO) >= mixFrame && n < 10 {
			copy(e.buf.mic, e.micFIFO)
			k := copy(e.micFIFO, e.micFIFO[mixFrame:])
			e.micFIFO = e.micFIFO[:k]
			e.frame(e.buf.mic)
			n++
		}
		if len(e.micFIFO) > 4*mixFrame { // we fell behind: drop, do not accumulate delay
			e.micFIFO = e.micFIFO[:0]
		}
		e.clockStart = time.Time{}
		return
	}
	if e.clockStart.IsZero() {
		e.clockStart, e.clockFrames = now, 0
	}
	due := int64(now.Sub(e.clockStart)/frameDur) - e.clockFrames
	if due > 10 {
		e.clockFrames += due - 1
		due = 1
	}
	for ; due > 0; due-- {
		clear(e.buf.mic)
		e.frame(e.buf.mic)
		e.clockFrames++
	}
}

// frame mixes one 20 ms frame at the mix rate.
func (e *Engine) frame(mic []float32) {
	e.stats.frames.Add(1)
	b := &e.buf
	// 1. far ends of the routed calls
	var legs []*leg
	for _, id := range e.route {
		if l := e.legs[id]; l != nil && !l.ended.Load() {
			legs = append(legs, l)
		}
	}
	for len(b.far) < len(legs) {
		b.far = append(b.far, make([]float32, mixFrame))
		b.tx = append(b.tx, make([]float32, mixFrame))
	}
	far, tx := b.far[:len(legs)], b.tx[:len(legs)]
	for i, l := range legs {
		l.pull(far[i])
	}
	// 2. local tones for the agent
	clear(b.tone)
	if e.ringbackGen != nil {
		e.ringbackGen.mix(b.tone)
	}
	if e.waitGen != nil {
		e.waitGen.mix(b.tone)
	}
	if e.ringSpkGen != nil {
		e.ringSpkGen.mix(b.tone)
	}
	e.tones = slices.DeleteFunc(e.tones, func(g *toneGen) bool { g.mix(b.tone); return g.done })
	for _, c := range e.checks {
		c.tone.mix(b.tone)
	}
	// 3. what the speaker will play, the echo canceller's reference
	for s := range b.ref {
		v := b.tone[s]
		for _, f := range far {
			v += f[s]
		}
		b.ref[s] = limit(v)
	}
	// 4. microphone processing, meter, mute
	if p := e.procFor(legs); p != nil {
		p.Process(mic, b.ref)
	}
	e.micLevel.Store(math.Float32bits(peak(mic)))
	for _, c := range e.checks {
		c.observe(mic)
	}
	if e.muted.Load() {
		clear(mic)
	}
	// 5. conference mix-minus and announcements
	MixMinus(mic, far, b.spk, tx)
	for s := range b.spk {
		b.spk[s] = limit(b.spk[s] + b.tone[s])
	}
	e.anns = slices.DeleteFunc(e.anns, func(a *announcement) bool {
		l := e.legs[a.id]
		if l == nil || l.ended.Load() {
			e.post(domain.AnnouncementDone{ID: a.id, Reason: "the call ended"})
			return true
		}
		chunk := a.next(mixFrame)
		if i := slices.Index(legs, l); i >= 0 {
			addScaled(tx[i], chunk, 1)
			addScaled(b.spk, chunk, 0.5)
		} else {
			l.push(chunk) // the call is not in the headset: the announcement alone
		}
		if a.done() {
			e.post(domain.AnnouncementDone{ID: a.id})
			return true
		}
		return false
	})
	e.stepEcho(legs, far, tx)
	for i, l := range legs {
		l.push(tx[i])
	}
	e.spkLevel.Store(math.Float32bits(peak(b.spk)))
	// 6. recordings: agent left, far ends right
	for key, r := range e.recs {
		// Paused, or none of its calls in the headset (all on hold): the
		// agent's side is not recorded.
		if r.paused || !slices.ContainsFunc(legs, func(l *leg) bool { return slices.Contains(r.calls, l.id) }) {
			continue
		}
		clear(b.right)
		for i, l := range legs {
			if slices.Contains(r.calls, l.id) {
				addScaled(b.right, far[i], 1)
			}
		}
		if err := r.write(mic, b.right); err != nil {
			e.failRecording(key, r, err)
		}
	}
	// 7. to the speaker
	if e.out != nil {
		e.spkOut = e.spkRes.Process(b.spk, e.spkOut[:0])
		ring := e.out.ring
		if !e.out.primed.Load() {
			// Start with 20 ms in hand so the first callbacks do not run dry.
			ring.Write(make([]float32, e.out.rate/50))
			e.out.primed.Store(true)
		}
		// Keep the speaker queue short: measured before each 20 ms write, more
		// than 15 ms still queued is delay that never drains when the
		// microphone and the speaker share a clock (the phase between the
		// two callbacks stays put, so a 20 ms device buffer still finds 30 ms
		// just after a write). Trim a standing excess to 10 ms after half a
		// second, a large one at once.
		lvl := ring.Len()
		keep := e.out.rate / 100
		switch {
		case lvl > e.out.rate/10:
			e.out.skip.Store(int64(lvl - keep))
			e.out.standing = 0
		case lvl > keep+e.out.rate*5/1000:
			e.out.standing++
			if e.out.standing > 25 {
				e.out.skip.Store(int64(lvl - keep))
				e.out.standing = 0
			}
		default:
			e.out.standing = 0
		}
		ring.Write(e.spkOut)
	}
}

// ---- routing and legs ----

func (e *Engine) setRoute(calls []domain.CallID) {
	e.route = calls
	for id, l := range e.legs {
		was := l.routed
		l.routed = slices.Contains(calls, id)
		if l.routed && !was {
			l.reset()
		}
	}
	now := time.Now()
	for _, id := range calls {
		if e.legs[id] == nil {
			if _, ok := e.pending[id]; !ok {
				e.pending[id] = now
			}
		}
	}
	for id := range e.pending {
		if !slices.Contains(calls, id) && !e.annPending(id) {
			delete(e.pending, id)
		}
	}
	e.attachPending(now)
}

func (e *Engine) annPending(id domain.CallID) bool {
	return slices.ContainsFunc(e.anns, func(a *announcement) bool { return a.id == id })
}

// attachPending asks the source for the audio of routed calls that have
// none yet (the call may still be setting up its media).
func (e *Engine) attachPending(now time.Time) {
	for id, since := range e.pending {
		if e.src == nil {
			delete(e.pending, id)
			continue
		}
		ca, err := e.src.CallAudio(id)
		if err != nil {
			if now.Sub(since) > 10*time.Second && now.Sub(since) < 10*time.Second+100*time.Millisecond {
				e.log.Warn("no audio for routed call yet", "call_id", id, "err", err)
			}
			continue
		}
		delete(e.pending, id)
		l, err := newLeg(id, ca)
		if err != nil {
			e.log.Error("attach call audio", "call_id", id, "err", err)
			continue
		}
		l.routed = slices.Contains(e.route, id)
		e.legs[id] = l
	}
}

func (e *Engine) reapLegs() {
	for id, l := range e.legs {
		if l.ended.Load() {
			l.stop()
			delete(e.legs, id)
			if slices.Contains(e.route, id) {
				// The stream ended but the call is still routed (re-INVITE,
				// media restart): ask again.
				e.pending[id] = time.Now()
			}
		}
	}
}

// ---- ringer ----

func (e *Engine) setRinger(mode domain.RingerMode) {
	e.ringMode = mode
	switch mode {
	case domain.RingerRing:
		e.waitGen = nil
		if e.ringGen == nil {
			e.ringGen = newTone(ToneRing, e.devRate)
		}
		if e.settings.RingBoth && e.ringSpkGen == nil {
			e.ringSpkGen = newTone(ToneRing, mixRate)
		}
	case domain.RingerWaiting:
		e.ringGen, e.ringSpkGen = nil, nil
		if e.waitGen == nil {
			e.waitGen = newTone(ToneWaiting, mixRate)
		}
	default:
		e.ringGen, e.ringSpkGen, e.waitGen = nil, nil, nil
	}
}

func (e *Engine) stepRinger(now time.Time) {
	if e.ringGen == nil {
		if e.ringer != nil {
			e.closeStream(e.ringer)
			e.ringer = nil
		}
		return
	}
	if e.ringer == nil {
		if now.Before(e.nextOpen) {
			return
		}
		e.ringer = e.openStream(RoleRinger, e.settings.Ringer, false)
		if e.ringer == nil {
			e.nextOpen = now.Add(reopenBackoff)
			return
		}
		e.ringGen = newTone(ToneRing, e.ringer.rate)
	}
	buf := make([]float32, e.ringer.rate/50)
	for e.ringer.ring.Len() < e.ringer.rate/10 {
		clear(buf)
		e.ringGen.mix(buf)
		e.ringer.ring.Write(buf)
	}
}

// ---- announcements ----

type announcement struct {
	id  domain.CallID
	pcm []float32
	pos int
}

func (a *announcement) next(n int) []float32 {
	out := make([]float32, n)
	k := copy(out, a.pcm[a.pos:])
	a.pos += k
	return out
}

func (a *announcement) done() bool { return a.pos >= len(a.pcm) }

func loadAnnouncement(path string) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("announcement: %w", err)
	}
	defer f.Close()
	pcm, rate, err := ReadWAV(f)
	if err != nil {
		return nil, fmt.Errorf("announcement %s: %w", filepath.Base(path), err)
	}
	r := NewResampler(rate, mixRate)
	out := r.Process(pcm, nil)
	return r.Process(make([]float32, r.Delay()+1), out), nil
}

func (e *Engine) addAnnouncement(id domain.CallID, pcm []float32) {
	if e.legs[id] == nil {
		if _, ok := e.pending[id]; !ok {
			e.pending[id] = time.Now()
		}
		e.attachPending(time.Now())
		if e.legs[id] == nil {
			e.post(domain.AnnouncementDone{ID: id, Reason: "the call has no audio"})
			return
		}
	}
	e.anns = append(e.anns, &announcement{id: id, pcm: pcm})
}
