package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
)

// newPortAudio opens the PortAudio driver (at the audio engine's first
// device scan); tests replace it to count that or to simulate a machine
// where PortAudio cannot be initialised.
var newPortAudio = func() (audio.Driver, error) { return audio.NewPortAudio() }

// buildAudio prepares the audio engine over the configured driver (or
// PortAudio) and the SIP engine's calls, the agent's Media port. Neither
// is opened here: the engine starts at the first thing that needs sound
// and PortAudio is initialised at its first device scan (audioPort). It
// never fails the app: with Config.NoAudio there is no port and AudioErr
// says why; a sound system that cannot be initialised is reported by the
// device lists (AudioDevices), AudioErr and the engine's device events,
// and calls connect without sound.
func (a *App) buildAudio(cfg Config, dataDir string) {
	if cfg.NoAudio {
		a.audioOff = fmt.Errorf("%w: turned off in the configuration", ErrAudioOff)
		a.log.Warn("audio is off: calls connect without sound", "reason", "configuration")
		return
	}
	p := &audioPort{firstScan: make(chan struct{})}
	drv := &scanDriver{onScan: p.scanned}
	if cfg.AudioDriver != nil {
		given := cfg.AudioDriver
		drv.open = func() (audio.Driver, error) { return given, nil }
	} else {
		drv.open, drv.own = newPortAudio, true
	}
	p.drv = drv
	ann := cfg.AnnouncementsDir
	if ann == "" {
		ann = filepath.Join(dataDir, "announcements")
	}
	set := audio.DefaultSettings()
	if cfg.AudioSettings != nil {
		set = *cfg.AudioSettings
	}
	a.baseAudio = set
	p.settings = set
	onEvent := cfg.OnAudioEvent
	log := a.log
	p.build = func(s audio.Settings) *audio.Engine {
		log.Info("starting the audio engine")
		return audio.New(drv, a.SIP, audio.WithLogger(log), audio.WithSettings(s), audio.WithAnnouncementsDir(ann),
			audio.WithEventHandler(func(ev audio.Event) {
				if _, ok := ev.(audio.DevicesChanged); ok {
					p.scanned()
				}
				if onEvent != nil {
					onEvent(ev)
				}
			}))
	}
	// No recordings directory until an agent signs in: recordings belong
	// to the agent's profile.
	a.audio = p
	a.closers = append(a.closers, p.close)
}

// Audio returns the audio engine, starting it if it is not running yet
// (cheap: PortAudio is initialised on the engine's own goroutine). The
// agent's calls, the desk's device lists, meters, test buttons and the
// pre-shift check start it; an idle desk does not. Without audio
// (Config.NoAudio, or after App.Close) it returns an error wrapping
// ErrAudioOff. A sound system that cannot be initialised still gives an
// engine, whose streams then fail (see AudioErr and AudioDevices).
func (a *App) Audio() (*audio.Engine, error) {
	if a.audio == nil {
		return nil, a.audioOff
	}
	return a.audio.engine()
}

// AudioStarted reports whether the audio engine is running (for the
// desk's diagnostics and tests).
func (a *App) AudioStarted() bool { return a.audio != nil && a.audio.started() != nil }

// AudioErr says why there is no sound, wrapping ErrAudioOff: turned off
// in the configuration, or the sound system could not be initialised
// (known once the engine has tried, at its first use). nil while audio
// is available or has not been tried yet.
func (a *App) AudioErr() error {
	if a.audio == nil {
		return a.audioOff
	}
	d := a.audio.drv
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.drv == nil && d.tried {
		return d.openErr
	}
	return nil
}

// AudioDevices starts the audio engine if needed, waits for its first
// device scan (until ctx ends) and returns the devices of its last scan,
// starting a rescan for the next call. It blocks: call it off the UI
// goroutine. A scan that failed with nothing listed is the error (one
// wrapping ErrAudioOff when the sound system could not be initialised).
func (a *App) AudioDevices(ctx context.Context) ([]audio.Device, error) {
	if a.audio == nil {
		return nil, a.audioOff
	}
	return a.audio.devices(ctx)
}

// AudioSettings returns the audio settings in force: the running engine's,
// or those it will start with.
func (a *App) AudioSettings() audio.Settings {
	if a.audio == nil {
		return a.baseAudio
	}
	return a.audio.currentSettings()
}

// RecordingsDir is the directory holding the recordings of agentID's
// profile under the data directory (a name safe on every OS).
func RecordingsDir(dataDir, agentID string) string {
	return filepath.Join(dataDir, "recordings", profileDirName(agentID))
}

func profileDirName(id string) string {
	safe := id != "" && len(id) <= 64 && id != "." && id != ".."
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			safe = false
			break
		}
	}
	if safe && !strings.HasPrefix(id, "h-") {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "h-" + hex.EncodeToString(sum[:16])
}

// AudioDeviceKey is the text form of a device's stable identity kept in
// the agent's settings ("default" for the system default, else
// "host API: name"), the ui.AudioDevice ID.
func AudioDeviceKey(id audio.DeviceID) string {
	if id.IsDefault() {
		return "default"
	}
	return id.HostAPI + ": " + id.Name
}

// Keys of the system default device for one direction (the desktop lists
// the default microphone and the default speaker as separate entries).
const (
	DefaultInputKey  = "default-input"
	DefaultOutputKey = "default-output"
)

// ParseAudioDevice reads AudioDeviceKey's form; "", "default",
// DefaultInputKey and DefaultOutputKey are the system default.
func ParseAudioDevice(key string) audio.DeviceID {
	key = strings.TrimSpace(key)
	if key == "" || key == "default" || key == DefaultInputKey || key == DefaultOutputKey {
		return audio.DeviceID{}
	}
	host, name, ok := strings.Cut(key, ": ")
	if !ok {
		return audio.DeviceID{Name: key}
	}
	return audio.DeviceID{HostAPI: host, Name: name}
}

// profileAudio is the audio part of the agent's profile settings, with the
// field names of the desktop's settings (ui.Settings), which cmd stores as
// the whole profile settings document; absent fields keep the defaults.
type profileAudio struct {
	Microphone       string `json:"Microphone"`
	Speaker          string `json:"Speaker"`
	Ringer           string `json:"Ringer"`
	RingBoth         *bool  `json:"RingBoth,omitempty"`
	EchoCancel       *bool  `json:"EchoCancel,omitempty"`
	NoiseSuppression *bool  `json:"NoiseSuppression,omitempty"`
	AutoGain         *bool  `json:"AutoGain,omitempty"`
}

func (p profileAudio) settings(base audio.Settings) audio.Settings {
	s := base
	for _, f := range []struct {
		key string
		dst *audio.DeviceID
	}{{p.Microphone, &s.Microphone}, {p.Speaker, &s.Speaker}, {p.Ringer, &s.Ringer}} {
		if strings.TrimSpace(f.key) != "" { // absent: the base's device
			*f.dst = ParseAudioDevice(f.key)
		}
	}
	for _, f := range []struct {
		v   *bool
		dst *bool
	}{{p.RingBoth, &s.RingBoth}, {p.EchoCancel, &s.EchoCancel}, {p.NoiseSuppression, &s.NoiseSuppress}, {p.AutoGain, &s.AutoGain}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	return s
}

func audioFields(s audio.Settings) map[string]any {
	return map[string]any{
		"Microphone": AudioDeviceKey(s.Microphone), "Speaker": AudioDeviceKey(s.Speaker), "Ringer": AudioDeviceKey(s.Ringer),
		"RingBoth": s.RingBoth, "EchoCancel": s.EchoCancel, "NoiseSuppression": s.NoiseSuppress, "AutoGain": s.AutoGain,
	}
}

// audioSession follows the signed-in agent for the audio engine (their
// settings and recordings directory) and plays the busy tone when a dial
// ends busy (the core has no effect for it).
type audioSession struct {
	a *App

	mu      sync.Mutex
	agentID string
	busy    map[domain.CallID]bool // busy legs already signalled
}

func (a *App) watchAudio() func() error {
	as := &audioSession{a: a, busy: map[domain.CallID]bool{}}
	a.audioSess = as
	ctx, cancel := context.WithCancel(context.Background())
	stop := a.Agent.Watch(ctx, as.notify)
	return func() error { cancel(); stop(); return nil }
}

func (as *audioSession) notify(n agent.Notify) {
	if n.Agent != nil {
		as.agentChanged(n.Agent.Agent.ID)
	}
	for _, no := range n.Notices {
		if no.Cause == domain.CauseBusy && no.CallID != "" {
			as.busyTone(no.CallID)
		}
	}
	for _, ix := range n.Interactions {
		for _, l := range ix.Legs {
			if l.Cause == domain.CauseBusy && l.Direction == domain.DirectionOutbound && l.AnsweredAt.IsZero() {
				as.busyTone(l.ID)
			}
		}
	}
}

func (as *audioSession) busyTone(id domain.CallID) {
	as.mu.Lock()
	seen := as.busy[id]
	as.busy[id] = true
	if len(as.busy) > 256 { // ids are unique; forget old ones
		as.busy = map[domain.CallID]bool{id: true}
	}
	as.mu.Unlock()
	if !seen {
		if e, err := as.a.Audio(); err == nil {
			e.PlayTone(audio.ToneBusy)
		}
	}
}

func (as *audioSession) agentChanged(id string) {
	as.mu.Lock()
	prev := as.agentID
	as.agentID = id
	as.mu.Unlock()
	if id == prev {
		return
	}
	a := as.a
	if id == "" {
		a.audio.setAgent(a.baseAudio, "")
		return
	}
	set, err := a.loadAudioSettings(id)
	if err != nil {
		a.log.Error("audio settings not loaded; using the defaults", "agent", id, "err", err)
	}
	a.audio.setAgent(set, RecordingsDir(a.dataDir, id))
}

// loadAudioSettings reads the agent's audio settings from their profile
// (the defaults for anything not stored).
func (a *App) loadAudioSettings(id string) (audio.Settings, error) {
	p, err := a.Store.Profile(id)
	if err != nil {
		return a.baseAudio, err
	}
	var pa profileAudio
	if _, err := p.GetSettings(&pa); err != nil {
		return a.baseAudio, err
	}
	return pa.settings(a.baseAudio), nil
}

// SaveAudioSettings stores s in the signed-in agent's profile settings
// (keeping the other settings there) and applies it to the audio engine:
// open streams move to the new devices without dropping a call (an
// engine not started yet starts with them). It blocks on disk: call it
// off the UI goroutine. With audio turned off it returns AudioErr; with
// nobody signed in ErrNotSignedIn.
func (a *App) SaveAudioSettings(s audio.Settings) error {
	if a.audio == nil {
		return a.audioOff
	}
	a.audioSess.mu.Lock()
	id := a.audioSess.agentID
	a.audioSess.mu.Unlock()
	if id == "" {
		return ErrNotSignedIn
	}
	p, err := a.Store.Profile(id)
	if err != nil {
		return err
	}
	doc := map[string]json.RawMessage{}
	if _, err := p.GetSettings(&doc); err != nil {
		return err
	}
	for k, v := range audioFields(s) {
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		doc[k] = raw
	}
	if err := p.PutSettings(doc); err != nil {
		return err
	}
	a.audio.apply(s)
	return nil
}

// ApplyAudioSettings applies s to the audio engine without storing it
// (the desktop stores its settings itself, with the same field names; an
// engine not started yet starts with them); nothing happens without
// audio.
func (a *App) ApplyAudioSettings(s audio.Settings) {
	if a.audio != nil {
		a.audio.apply(s)
	}
}
