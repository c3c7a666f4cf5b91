package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	softapp "github.com/callcentre/softphone/app"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/ui"
)

// errTestNotHeadset refuses a test sound on a device other than the saved
// headset: the audio engine plays tones on the headset it has open.
var errTestNotHeadset = errors.New("the test sound plays on the saved headset: choose this device as the headset and save first")

// audioSource implements ui.Audio over the app's audio engine: the
// devices of its last scan (with "System default" first), the meters of
// the microphone and headset in use, and a test tone in the headset.
// Device IDs are app.AudioDeviceKey texts, the form the agent's settings
// keep and the app applies at sign-in.
type audioSource struct {
	eng *audio.Engine
}

var _ ui.Audio = (*audioSource)(nil)

// newAudioSource returns the desk's audio source, or nil (a nil ui.Audio,
// so the settings say audio devices are not available) when the app runs
// without audio.
func newAudioSource(sp *softapp.App) ui.Audio {
	if sp == nil || sp.Audio == nil {
		return nil
	}
	return &audioSource{eng: sp.Audio}
}

// The entries meaning "follow the system default", one per direction so
// the two meters can tell them apart.
const (
	defaultMic     = "System default microphone"
	defaultSpeaker = "System default speaker"
)

// Devices lists the devices of the engine's last scan (a refresh is
// started for the next call), the system default first. Names are unique:
// one shared by several host APIs gets the host API added.
func (s *audioSource) Devices() ([]ui.AudioDevice, error) {
	devs := s.eng.Devices()
	s.eng.Refresh()
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

// Level is the meter of the device if it is the microphone or headset in
// use (0 for any other: the engine measures only its open streams). A
// device used as both microphone and headset reads the microphone.
func (s *audioSource) Level(deviceID string) float64 {
	id, set, lv := softapp.ParseAudioDevice(deviceID), s.eng.Settings(), s.eng.Levels()
	switch {
	case deviceID == softapp.DefaultOutputKey:
		if set.Speaker.IsDefault() {
			return float64(lv.Speaker)
		}
	case id == set.Microphone:
		return float64(lv.Microphone)
	case id == set.Speaker:
		return float64(lv.Speaker)
	}
	return 0
}

// Test plays a second of the 1 kHz test tone in the headset when
// deviceID is the saved headset; other devices are refused with a plain
// reason (the engine plays tones only on the open headset).
func (s *audioSource) Test(deviceID string) error {
	if softapp.ParseAudioDevice(deviceID) != s.eng.Settings().Speaker {
		return errTestNotHeadset
	}
	s.eng.PlayTone(audio.ToneTest)
	return nil
}

// Apply applies the desk's saved settings to the engine (devices and
// processing; open streams move without dropping a call). cmd's
// SaveSettings calls it after storing them.
func (s *audioSource) Apply(set ui.Settings) {
	s.eng.ApplySettings(audioSettingsOf(set, s.eng.Settings()))
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

// deviceName is how the desk names a device ("System default ..." for the
// default).
func deviceName(id audio.DeviceID, def string) string {
	if id.IsDefault() || id.Name == "" {
		return def
	}
	return id.Name
}
