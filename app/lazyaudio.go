package app

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
)

// audioPort is the agent's Media port and the app's handle on the audio
// engine, which it starts at the first thing that needs sound (a ringing
// or dialled call, a tone, the settings' device lists, meters and test
// buttons, the pre-shift check), not at start: an idle desk then runs no
// audio goroutine and has not initialised PortAudio, whose device scan
// loads the ALSA and sound server plugins (about 18 MB resident) and whose
// engine loop wakes 20 times a second. Until then it keeps what the
// engine is to start with (settings, recordings directory, mute).
//
// Its Media methods run on the agent's goroutine and return at once:
// starting the engine allocates and starts its loop; PortAudio is
// initialised on that loop, at its first device scan (lazyDriver).
type audioPort struct {
	build func(audio.Settings) *audio.Engine // a new engine with these settings

	// firstScan is closed when the started engine's first device scan
	// has ended (listed, or failed: see scanErr).
	firstScan chan struct{}
	scanOnce  sync.Once
	drv       *scanDriver

	mu       sync.Mutex
	eng      *audio.Engine
	closed   bool
	sink     domain.EventSink
	settings audio.Settings // the engine's, or what it starts with
	recDir   string
	mute     bool
}

var errAudioClosed = fmt.Errorf("%w: the app is closing", ErrAudioOff)

// engine returns the engine, starting it first.
func (p *audioPort) engine() (*audio.Engine, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errAudioClosed
	}
	if p.eng == nil {
		e := p.build(p.settings)
		e.SetRecordingsDir(p.recDir)
		e.SetMute(p.mute)
		if p.sink != nil {
			e.Attach(p.sink)
		}
		p.eng = e
	}
	return p.eng, nil
}

// started returns the engine if it runs, else nil.
func (p *audioPort) started() *audio.Engine {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.eng
}

// scanned ends the wait for the first scan (an engine event or a failed
// scan of the driver).
func (p *audioPort) scanned() { p.scanOnce.Do(func() { close(p.firstScan) }) }

// devices starts the engine if needed, waits for its first device scan,
// and returns the devices of its last scan; a rescan is started for the
// next call. A scan that failed with nothing listed is the error (a sound
// system that cannot be initialised wraps ErrAudioOff).
func (p *audioPort) devices(ctx context.Context) ([]audio.Device, error) {
	e, err := p.engine()
	if err != nil {
		return nil, err
	}
	select {
	case <-p.firstScan:
	case <-ctx.Done():
		return nil, fmt.Errorf("list audio devices: %w", ctx.Err())
	}
	devs := e.Devices()
	if len(devs) == 0 {
		if err := p.drv.lastErr(); err != nil {
			return nil, err
		}
	}
	e.Refresh()
	return devs, nil
}

// setAgent sets the signed-in agent's audio settings and recordings
// directory (applied at once when the engine runs).
func (p *audioPort) setAgent(s audio.Settings, recDir string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.settings, p.recDir = s, recDir
	if p.eng != nil {
		p.eng.SetRecordingsDir(recDir)
		p.eng.ApplySettings(s)
	}
}

// apply sets the settings (applied at once when the engine runs).
func (p *audioPort) apply(s audio.Settings) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.settings = s
	if p.eng != nil {
		p.eng.ApplySettings(s)
	}
}

// currentSettings returns the engine's settings, or those it starts with.
func (p *audioPort) currentSettings() audio.Settings {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.eng != nil {
		return p.eng.Settings()
	}
	return p.settings
}

// Attach gives the engine (now or when it starts) the agent's inbox.
func (p *audioPort) Attach(sink domain.EventSink) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sink = sink
	if p.eng != nil {
		p.eng.Attach(sink)
	}
}

// close stops the engine if it runs and closes the driver it opened.
func (p *audioPort) close() error {
	p.mu.Lock()
	e := p.eng
	p.closed = true
	p.mu.Unlock()
	var errs []error
	if e != nil {
		errs = append(errs, e.Close())
	}
	errs = append(errs, p.drv.Close())
	return errors.Join(errs...)
}

// SetRinger implements domain.Media; turning off a ringer that never
// rang starts nothing.
func (p *audioPort) SetRinger(mode domain.RingerMode) {
	if mode == domain.RingerOff && p.started() == nil {
		return
	}
	if e, err := p.engine(); err == nil {
		e.SetRinger(mode)
	}
}

// SetRingback implements domain.Media.
func (p *audioPort) SetRingback(id domain.CallID) {
	if id == "" && p.started() == nil {
		return
	}
	if e, err := p.engine(); err == nil {
		e.SetRingback(id)
	}
}

// SetAudioRoute implements domain.Media.
func (p *audioPort) SetAudioRoute(calls []domain.CallID) {
	if len(calls) == 0 && p.started() == nil {
		return
	}
	if e, err := p.engine(); err == nil {
		e.SetAudioRoute(calls)
	}
}

// SetMute implements domain.Media; the engine starts with the last one.
func (p *audioPort) SetMute(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mute = on
	if p.eng != nil {
		p.eng.SetMute(on)
	}
}

// Record implements domain.Media.
func (p *audioPort) Record(key string, calls []domain.CallID, action domain.RecordAction) error {
	e, err := p.engine()
	if err != nil {
		return err
	}
	return e.Record(key, calls, action)
}

// PlayAnnouncement implements domain.Media.
func (p *audioPort) PlayAnnouncement(id domain.CallID, name string) error {
	e, err := p.engine()
	if err != nil {
		return err
	}
	return e.PlayAnnouncement(id, name)
}

var _ domain.Media = (*audioPort)(nil)

// dtmfFeedback is the Telephony port with DTMF feedback: every SendDTMF
// the phone accepts also plays the digits' tones in the headset.
type dtmfFeedback struct {
	domain.Telephony
	p *audioPort
}

func (d dtmfFeedback) SendDTMF(id domain.CallID, digits string) error {
	if err := d.Telephony.SendDTMF(id, digits); err != nil {
		return err
	}
	if e, err := d.p.engine(); err == nil {
		e.PlayDTMF(digits)
	}
	return nil
}

// scanDriver is the engine's driver: it opens the real one (PortAudio)
// at the first scan or stream, on the engine's loop, and records how the
// last scan ended. A driver that could not be opened is tried again at
// the next scan (a refresh, the rescan after a device failed); streams
// meanwhile fail with audio.ErrNoDevice, so calls connect without sound
// and the engine reports the device unavailable.
type scanDriver struct {
	open   func() (audio.Driver, error)
	own    bool   // close what open returned (PortAudio; not a given driver)
	onScan func() // after a failed scan

	mu      sync.Mutex
	drv     audio.Driver
	tried   bool
	openErr error
	scanErr error
	closed  bool
}

func (s *scanDriver) get(retry bool) (audio.Driver, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errAudioClosed
	}
	if s.drv != nil {
		return s.drv, nil
	}
	if s.tried && !retry {
		return nil, s.openErr
	}
	s.tried = true
	d, err := s.open()
	if err != nil {
		s.openErr = fmt.Errorf("%w: the sound system could not be initialised: %w", ErrAudioOff, err)
		return nil, s.openErr
	}
	s.drv, s.openErr = d, nil
	return d, nil
}

// Scan implements audio.Driver.
func (s *scanDriver) Scan() ([]audio.Device, error) {
	d, err := s.get(true)
	var devs []audio.Device
	if err == nil {
		devs, err = d.Scan()
	}
	s.mu.Lock()
	s.scanErr = err
	s.mu.Unlock()
	if err != nil && s.onScan != nil {
		s.onScan() // a listed scan is awaited through DevicesChanged
	}
	return devs, err
}

// Open implements audio.Driver.
func (s *scanDriver) Open(cfg audio.StreamConfig) (audio.Stream, error) {
	d, err := s.get(false)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", audio.ErrNoDevice, err)
	}
	return d.Open(cfg)
}

// Close implements audio.Driver: it closes the real driver if it was
// opened (a driver given by Config.AudioDriver is the caller's).
func (s *scanDriver) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.drv == nil || !s.own {
		return nil
	}
	return s.drv.Close()
}

func (s *scanDriver) lastErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scanErr
}
