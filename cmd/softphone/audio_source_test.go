package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	softapp "github.com/callcentre/softphone/app"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/audio/audiotest"
	"github.com/callcentre/softphone/ui"
)

// buildAudioApp builds the demo app over drv (nil: audio turned off).
func buildAudioApp(t *testing.T, drv audio.Driver) *softapp.App {
	t.Helper()
	a, err := softapp.Build(context.Background(), softapp.Config{
		DataDir: t.TempDir(), Demo: true, InstanceSocket: "off", ControlAddr: "off",
		Logger: slog.New(slog.DiscardHandler), AudioDriver: drv, NoAudio: drv == nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func TestAudioSource(t *testing.T) {
	if newAudioSource(nil) != nil || newAudioSource(buildAudioApp(t, nil)) != nil {
		t.Fatal("a source without audio")
	}
	drv := audiotest.NewDriver("Headset", "Speakers")
	sp := buildAudioApp(t, drv)
	src, _ := newAudioSource(sp).(*audioSource)
	if sp.AudioStarted() {
		t.Fatal("the audio engine started with the desk's audio source")
	}
	// The first list starts the engine and has its first scan.
	devs, err := src.Devices()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := sp.Audio()
	if err != nil {
		t.Fatal(err)
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
	spk := names["Speakers"]
	playedTone := func(what, dev string, freq float64) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if toneLevel(lastTenth(drv.Played(dev)), 48000, freq) > 0.02 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no %.0f Hz on %s", what, freq, dev)
			}
		}
	}
	// Tests play on the device picked, before it is saved.
	if err := src.Test(spk.ID); err != nil {
		t.Fatal(err)
	}
	playedTone("the test tone on the unsaved speakers", "Speakers", 1000)
	if err := src.TestRinger(spk.ID); err != nil {
		t.Fatal(err)
	}
	playedTone("the ringtone on the unsaved speakers", "Speakers", 440)
	if err := src.TestRinger("Fake: Gone"); !errors.Is(err, audio.ErrNoDevice) {
		t.Fatalf("ringer test on a missing device: %v", err)
	}
	// The meter reads any microphone, saved or not.
	drv.SetMicTone("Headset", 700)
	for deadline := time.Now().Add(30 * time.Second); src.Level(hs.ID, true) < 0.05; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the meter of the unsaved headset microphone stays at zero")
		}
	}
	if src.Level(spk.ID, false) != 0 {
		t.Fatal("an output not in use has a level")
	}

	src.Apply(ui.Settings{Speaker: hs.ID, Microphone: names[defaultMic].ID, EchoCancel: true})
	want := audio.Settings{Speaker: audiotest.ID("Headset"), EchoCancel: true}
	if got := eng.Settings(); got != want {
		t.Fatalf("applied %+v, want %+v", got, want)
	}
	eng.PlayTone(audio.ToneTest) // in the headset in use
	for deadline := time.Now().Add(30 * time.Second); src.Level(hs.ID, false) == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the headset meter stays at zero while a tone plays in it")
		}
	}
}

// toneLevel is the amplitude of a sine of freq Hz in x (Goertzel).
func toneLevel(x []float32, rate int, freq float64) float64 {
	if len(x) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return 2 * math.Sqrt(math.Max(s1*s1+s2*s2-c*s1*s2, 0)) / float64(len(x))
}

// lastTenth is the last 100 ms at 48 kHz of x.
func lastTenth(x []float32) []float32 {
	return x[max(len(x)-4800, 0):]
}

type fakeCheckApp struct {
	res  audio.CheckResult
	err  error
	echo audio.EchoResult
}

func (f fakeCheckApp) PreShiftCheck(context.Context, time.Duration) (audio.CheckResult, error) {
	return f.res, f.err
}
func (f fakeCheckApp) MicLevel() float64      { return 0.3 }
func (f fakeCheckApp) EchoTestNumber() string { return "*43" }
func (f fakeCheckApp) EchoCheck(_ context.Context, id domain.CallID, bursts int) (audio.EchoResult, error) {
	if id != "c1" || bursts != 5 {
		return audio.EchoResult{}, fmt.Errorf("echo check of %s with %d bursts", id, bursts)
	}
	return f.echo, f.err
}

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
	s = preShiftSource{app: fakeCheckApp{echo: audio.EchoResult{Sent: 5, Heard: 4, RoundTrip: 90 * time.Millisecond, Level: 0.9}}}
	if got, err := s.EchoCheck(context.Background(), "c1", 5); err != nil || got != (ui.EchoResult{Sent: 5, Heard: 4, RoundTrip: 90 * time.Millisecond}) {
		t.Fatalf("echo check %+v %v", got, err)
	}
	if _, err := bad.EchoCheck(context.Background(), "c1", 5); !errors.Is(err, audio.ErrNoDevice) {
		t.Fatalf("failed echo check: %v", err)
	}
}
