package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/audio/audiotest"
	"github.com/callcentre/softphone/ui"
)

func TestAudioSource(t *testing.T) {
	if newAudioSource(nil) != nil {
		t.Fatal("a source without an engine")
	}
	drv := audiotest.NewDriver("Headset", "Speakers")
	eng := audio.New(drv, audiotest.NewSource())
	t.Cleanup(func() { _ = eng.Close() })
	src := &audioSource{eng: eng}
	var devs []ui.AudioDevice
	for deadline := time.Now().Add(20 * time.Second); len(devs) < 4 && time.Now().Before(deadline); { // the first scan runs on the engine's loop
		var err error
		if devs, err = src.Devices(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	names := map[string]ui.AudioDevice{}
	for _, d := range devs {
		if _, dup := names[d.Name]; dup {
			t.Fatalf("duplicate device name %q in %+v", d.Name, devs)
		}
		names[d.Name] = d
	}
	hs, ok := names["Headset"]
	if !ok || !hs.Input || !hs.Output || names[defaultMic].ID == "" || names[defaultSpeaker].ID == "" {
		t.Fatalf("devices %+v", devs)
	}
	if err := src.Test(hs.ID); !errors.Is(err, errTestNotHeadset) {
		t.Fatalf("test on an unsaved device: %v", err)
	}
	src.Apply(ui.Settings{Speaker: hs.ID, Microphone: names[defaultMic].ID, EchoCancel: true})
	want := audio.Settings{Speaker: audiotest.ID("Headset"), EchoCancel: true}
	if got := eng.Settings(); got != want {
		t.Fatalf("applied %+v, want %+v", got, want)
	}
	if err := src.Test(hs.ID); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); src.Level(hs.ID) == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if src.Level(hs.ID) == 0 {
		t.Fatal("the headset meter stays at zero while the test tone plays")
	}
	if src.Level(names["Speakers"].ID) != 0 {
		t.Fatal("a device not in use has a level")
	}
}

type fakeCheckApp struct {
	res audio.CheckResult
	err error
}

func (f fakeCheckApp) PreShiftCheck(context.Context, time.Duration) (audio.CheckResult, error) {
	return f.res, f.err
}
func (f fakeCheckApp) MicLevel() float64      { return 0.3 }
func (f fakeCheckApp) EchoTestNumber() string { return "*43" }

// TestPreShiftSource: the check's result reaches the desk with the devices
// named as the settings name them; a failed check says why.
func TestPreShiftSource(t *testing.T) {
	s := preShiftSource{app: fakeCheckApp{res: audio.CheckResult{Microphone: audio.DeviceID{}, Speaker: audiotest.ID("Headset"),
		MicPeak: 0.5, MicHeardTone: true, Underruns: 2}}}
	got, err := s.Check(context.Background(), time.Second)
	want := ui.CheckResult{Microphone: defaultMic, Speaker: "Headset", MicPeak: 0.5, EchoPath: true, Underruns: 2}
	if err != nil || got != want {
		t.Fatalf("check %+v %v", got, err)
	}
	if s.MicLevel() != 0.3 || s.EchoNumber() != "*43" {
		t.Fatal("level or echo number not passed on")
	}
	bad := preShiftSource{app: fakeCheckApp{err: audio.ErrNoDevice}}
	if _, err := bad.Check(context.Background(), time.Second); !errors.Is(err, audio.ErrNoDevice) {
		t.Fatalf("failed check: %v", err)
	}
}
