package app

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/audio/audiotest"
	"github.com/callcentre/softphone/sip/demopbx"
)

// usePortAudio makes newPortAudio return open() for this test and counts
// the calls.
func usePortAudio(t *testing.T, open func() (audio.Driver, error)) *atomic.Int32 {
	t.Helper()
	var n atomic.Int32
	old := newPortAudio
	newPortAudio = func() (audio.Driver, error) { n.Add(1); return open() }
	t.Cleanup(func() { newPortAudio = old })
	return &n
}

func waitAudio(t *testing.T, what string, f func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !f(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// signInAvailable signs an agent in and waits until they are available
// and registered: every effect of the sign-in has gone through the ports.
func signInAvailable(t *testing.T, a *App, id string) {
	t.Helper()
	cfg := a.AgentConfig
	cfg.LoginStatus = domain.Status{Presence: domain.PresenceAvailable}
	if err := a.Agent.Login(domain.AgentInfo{ID: id}, cfg); err != nil {
		t.Fatal(err)
	}
	waitAudio(t, "available and registered", func() bool {
		st := a.Agent.Snapshot()
		return st.Registration.State == domain.RegRegistered && st.Presence.Presence == domain.PresenceAvailable
	})
}

// An idle desk neither starts the audio engine nor initialises PortAudio
// (start-up, sign-in, settings); the first call does, and its audio flows.
func TestAudioStartsAtFirstCall(t *testing.T) {
	drv := audiotest.NewDriver("Headset")
	opens := usePortAudio(t, func() (audio.Driver, error) { return drv, nil })
	a := buildQuiet(t, Config{DemoOptions: demopbx.Options{AnswerDelay: 100 * time.Millisecond}})
	signInAvailable(t, a, "lazy-agent")
	set := audio.DefaultSettings()
	set.Speaker = audiotest.ID("Headset")
	set.EchoCancel, set.NoiseSuppress = false, false
	if err := a.SaveAudioSettings(set); err != nil {
		t.Fatal(err)
	}
	if a.MicLevel() != 0 || a.AudioErr() != nil {
		t.Fatalf("mic level %v, audio error %v before any use", a.MicLevel(), a.AudioErr())
	}
	if a.AudioStarted() || opens.Load() != 0 || drv.Scans() != 0 {
		t.Fatalf("idle desk: engine started %v, PortAudio opened %d times, %d scans", a.AudioStarted(), opens.Load(), drv.Scans())
	}
	if got := a.AudioSettings(); got != set {
		t.Fatalf("settings the engine starts with %+v, want %+v", got, set)
	}

	id, err := a.Agent.Dial(demopbx.ExtEcho)
	if err != nil {
		t.Fatal(err)
	}
	waitAudio(t, "the echo test answered", func() bool {
		st := a.Agent.Snapshot()
		c := st.Call(id)
		return c != nil && c.State == domain.CallStateActive
	})
	waitAudio(t, "the fake microphone's 1 kHz back from the echo test in the saved speaker", func() bool {
		return toneLevel(lastSecond(drv.Played("Headset")), 48000, 1000) > 0.02
	})
	if !a.AudioStarted() || opens.Load() != 1 {
		t.Fatalf("after a call: engine started %v, PortAudio opened %d times (want once)", a.AudioStarted(), opens.Load())
	}
	if e, err := a.Audio(); err != nil || e.Settings() != set {
		t.Fatalf("engine %v settings %+v, want %+v", err, e.Settings(), set)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	devs, err := a.AudioDevices(ctx)
	if err != nil || len(devs) == 0 {
		t.Fatalf("devices %v, %v", devs, err)
	}
}

// The settings' device list starts the engine and waits for its first
// scan: the devices are there on the first ask.
func TestAudioDevicesStartTheEngine(t *testing.T) {
	drv := audiotest.NewDriver("Headset", "USB")
	opens := usePortAudio(t, func() (audio.Driver, error) { return drv, nil })
	a := buildQuiet(t, Config{})
	if a.AudioStarted() {
		t.Fatal("engine started at build")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	devs, err := a.AudioDevices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, d := range devs {
		names[d.ID.Name] = true
	}
	if !names["Headset"] || !names["USB"] || opens.Load() != 1 {
		t.Fatalf("devices %+v after %d opens, want Headset and USB after one", devs, opens.Load())
	}
}

// A sound system that cannot be initialised is found at the first use
// and reported in plain words; calls still connect, without sound, and
// the app closes cleanly.
func TestAudioWhenPortAudioFails(t *testing.T) {
	opens := usePortAudio(t, func() (audio.Driver, error) { return nil, audio.ErrNotImplemented })
	a := buildQuiet(t, Config{DemoOptions: demopbx.Options{AnswerDelay: 100 * time.Millisecond}})
	if a.AudioErr() != nil || opens.Load() != 0 {
		t.Fatalf("before any use: audio error %v, %d opens", a.AudioErr(), opens.Load())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err := a.AudioDevices(ctx)
	if !errors.Is(err, ErrAudioOff) || !errors.Is(err, audio.ErrNotImplemented) {
		t.Fatalf("devices: %v, want the sound system's failure", err)
	}
	if err := a.AudioErr(); !errors.Is(err, ErrAudioOff) || !errors.Is(err, audio.ErrNotImplemented) {
		t.Fatalf("audio error %v", err)
	}
	signInAvailable(t, a, "mute-agent")
	id, err := a.Agent.Dial(demopbx.ExtEcho)
	if err != nil {
		t.Fatal(err)
	}
	waitAudio(t, "the echo test answered without sound", func() bool {
		st := a.Agent.Snapshot()
		c := st.Call(id)
		return c != nil && c.State == domain.CallStateActive
	})
	if err := a.Agent.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitAudio(t, "hung up", func() bool { st := a.Agent.Snapshot(); return st.Call(id) == nil })
}
