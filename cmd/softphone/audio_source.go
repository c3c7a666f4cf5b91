package main

import (
	"context"
	"fmt"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	softapp "github.com/callcentre/softphone/app"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/ui"
)

// How long the settings' test buttons play: a second and a half of the
// test tone, one two-second ring of the ringtone.
const (
	testToneLength = 1500 * time.Millisecond
	testRingLength = 2 * time.Second
)

// audioSource implements ui.Audio over the app's audio engine: the
// devices of its last scan (with "System default" first), the meter of any
// microphone (audio.Engine.MicMeter) and of the headset in use, and the
// test tone or the ringtone on any output device (audio.Engine.TestDevice),
// all on the devices picked in the settings even before they are saved.
// Device IDs are app.AudioDeviceKey texts, the form the agent's settings
// keep and the app applies at sign-in. The engine starts at the first
// device list, meter or test (app.App.Audio), not with the window.
type audioSource struct {
	app *softapp.App
}

var _ ui.Audio = (*audioSource)(nil)

// deviceListWait bounds the wait for the audio engine's first device scan
// (PortAudio's initialisation through the sound server's plugins).
const deviceListWait = 30 * time.Second

// newAudioSource returns the desk's audio source, or nil (a nil ui.Audio,
// so the settings say audio devices are not available) when the app runs
// with audio turned off.
func newAudioSource(sp *softapp.App) ui.Audio {
	if sp == nil || sp.AudioErr() != nil {
		return nil
	}
	return &audioSource{app: sp}
}

// The entries meaning "follow the system default", one per direction so
// the two meters can tell them apart.
const (
	defaultMic     = "System default microphone"
	defaultSpeaker = "System default speaker"
)

// Devices lists the devices of the engine's last scan (its first, when
// this starts it; a refresh is started for the next call), the system
// default first. Names are unique: one shared by several host APIs gets
// the host API added. It blocks until the first scan has ended; a sound
// system that cannot be initialised is the error.
func (s *audioSource) Devices() ([]ui.AudioDevice, error) {
	ctx, cancel := context.WithTimeout(context.Background(), deviceListWait)
	defer cancel()
	devs, err := s.app.AudioDevices(ctx)
	if err != nil {
		return nil, err
	}
	names := map[string]int{}
	for _, d := range devs {
		names[d.ID.Name]++
	}
	out := []ui.AudioDevice{
		{ID: softapp.DefaultInputKey, Name: defaultMic, Input: true},
		{ID: softapp.DefaultOutputKey, Name: defaultSpeaker, Output: true},
	}
	for _, d := range devs {
		if d.ID.IsDefault() || (d.Inputs == 0 && d.Outputs == 0) {
			continue
		}
		name := d.ID.Name
		if names[name] > 1 || name == defaultMic || name == defaultSpeaker {
			name = fmt.Sprintf("%s (%s)", name, d.ID.HostAPI)
		}
		out = append(out, ui.AudioDevice{ID: softapp.AudioDeviceKey(d.ID), Name: name, Input: d.Inputs > 0, Output: d.Outputs > 0})
	}
	return out, nil
}

// Level is the meter of a device: for an input, the level of that
// microphone (any one, saved or not: polling opens it, the engine closes it
// two seconds after the last poll; during a call on it, the call's
// stream); for an output, the headset's level when it is the headset in
// use, else 0 (the engine measures only its own output streams). 0 when
// there is no audio.
func (s *audioSource) Level(deviceID string, input bool) float64 {
	id := softapp.ParseAudioDevice(deviceID)
	if !input && id != s.app.AudioSettings().Speaker {
		return 0
	}
	eng, err := s.app.Audio()
	if err != nil {
		return 0
	}
	if input {
		return float64(eng.MicMeter(id))
	}
	return float64(eng.Levels().Speaker)
}

// Test plays the 1 kHz test tone for a second and a half on the output
// device deviceID, saved or not; a device that cannot be opened is an
// error wrapping audio.ErrNoDevice. It blocks while the device opens.
func (s *audioSource) Test(deviceID string) error {
	return s.test(deviceID, audio.ToneTest, testToneLength)
}

// TestRinger plays one ring of the ringtone on the output device
// deviceID, saved or not, like Test.
func (s *audioSource) TestRinger(deviceID string) error {
	return s.test(deviceID, audio.ToneRing, testRingLength)
}

func (s *audioSource) test(deviceID string, t audio.Tone, d time.Duration) error {
	eng, err := s.app.Audio()
	if err != nil {
		return err
	}
	return eng.TestDevice(softapp.ParseAudioDevice(deviceID), t, d)
}

// Apply applies the desk's saved settings to the engine (devices and
// processing; open streams move without dropping a call; an engine not
// started yet starts with them). cmd's SaveSettings calls it after
// storing them.
func (s *audioSource) Apply(set ui.Settings) {
	s.app.ApplyAudioSettings(audioSettingsOf(set, s.app.AudioSettings()))
}

// audioSettingsOf is the audio part of the desk's settings over base
// (which keeps what the desk does not show, such as RingBoth).
func audioSettingsOf(set ui.Settings, base audio.Settings) audio.Settings {
	base.Microphone = softapp.ParseAudioDevice(set.Microphone)
	base.Speaker = softapp.ParseAudioDevice(set.Speaker)
	base.Ringer = softapp.ParseAudioDevice(set.Ringer)
	base.EchoCancel, base.NoiseSuppress, base.AutoGain = set.EchoCancel, set.NoiseSuppression, set.AutoGain
	return base
}

// preShiftApp is the part of *app.App the pre-shift check uses.
type preShiftApp interface {
	PreShiftCheck(ctx context.Context, d time.Duration) (audio.CheckResult, error)
	MicLevel() float64
	EchoTestNumber() string
	EchoCheck(ctx context.Context, id domain.CallID, bursts int) (audio.EchoResult, error)
}

// preShiftSource implements ui.PreShift over the app's audio check.
type preShiftSource struct {
	app preShiftApp
}

var _ ui.PreShift = preShiftSource{}

// Check implements ui.PreShift: the audio engine's check, with the
// devices named as the agent knows them.
func (s preShiftSource) Check(ctx context.Context, d time.Duration) (ui.CheckResult, error) {
	r, err := s.app.PreShiftCheck(ctx, d)
	if err != nil {
		return ui.CheckResult{}, err
	}
	return ui.CheckResult{Microphone: deviceName(r.Microphone, defaultMic), Speaker: deviceName(r.Speaker, defaultSpeaker),
		MicPeak: float64(r.MicPeak), EchoPath: r.MicHeardTone, Underruns: r.Underruns}, nil
}

// MicLevel implements ui.PreShift.
func (s preShiftSource) MicLevel() float64 { return s.app.MicLevel() }

// EchoNumber implements ui.PreShift.
func (s preShiftSource) EchoNumber() string { return s.app.EchoTestNumber() }

// EchoCheck implements ui.PreShift: the app measures the echo test call
// once the core says it is connected.
func (s preShiftSource) EchoCheck(ctx context.Context, id domain.CallID, bursts int) (ui.EchoResult, error) {
	r, err := s.app.EchoCheck(ctx, id, bursts)
	if err != nil {
		return ui.EchoResult{}, err
	}
	return ui.EchoResult{Sent: r.Sent, Heard: r.Heard, RoundTrip: r.RoundTrip}, nil
}

// deviceName is how the desk names a device ("System default ..." for the
// default).
func deviceName(id audio.DeviceID, def string) string {
	if id.IsDefault() || id.Name == "" {
		return def
	}
	return id.Name
}
