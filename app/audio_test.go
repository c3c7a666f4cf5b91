package app

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/audio/audiotest"
	"github.com/callcentre/softphone/sip/demopbx"
)

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
	p := s1*s1 + s2*s2 - c*s1*s2
	return 2 * math.Sqrt(math.Max(p, 0)) / float64(len(x))
}

func TestAudioDeviceKeys(t *testing.T) {
	for _, id := range []audio.DeviceID{{}, {HostAPI: "ALSA", Name: "lab_mic"}, {HostAPI: "Windows WASAPI", Name: "Headset: Jabra (2)"}} {
		if got := ParseAudioDevice(AudioDeviceKey(id)); got != id {
			t.Errorf("%+v -> %q -> %+v", id, AudioDeviceKey(id), got)
		}
	}
	if !ParseAudioDevice("").IsDefault() || !ParseAudioDevice(" default ").IsDefault() {
		t.Error("empty or default is not the system default")
	}
	for _, id := range []string{"agent-7", "../etc", "a/b", "h-x", strings.Repeat("x", 100), "é"} {
		n := profileDirName(id)
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, `/\`) || len(n) > 64 {
			t.Errorf("%q -> unsafe directory name %q", id, n)
		}
	}
	if profileDirName("agent-7") != "agent-7" || profileDirName("a/b") == profileDirName("a_b") {
		t.Error("profile directory names are not readable and distinct")
	}
}

func buildQuiet(t *testing.T, cfg Config) *App {
	t.Helper()
	cfg.DataDir, cfg.Demo, cfg.InstanceSocket, cfg.ControlAddr, cfg.Logger = t.TempDir(), true, "off", "off", quietLog()
	a, err := Build(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return a
}

// Without audio the app still runs, and says why there is no sound.
func TestBuildWithoutAudio(t *testing.T) {
	a := buildQuiet(t, Config{NoAudio: true})
	if e, err := a.Audio(); e != nil || !errors.Is(err, ErrAudioOff) || !errors.Is(a.AudioErr(), ErrAudioOff) || a.Agent == nil {
		t.Fatalf("audio %v err %v %v agent %v", e, err, a.AudioErr(), a.Agent)
	}
	if _, err := a.AudioDevices(context.Background()); !errors.Is(err, ErrAudioOff) {
		t.Fatalf("devices without audio: %v", err)
	}
	if err := a.SaveAudioSettings(audio.DefaultSettings()); !errors.Is(err, ErrAudioOff) {
		t.Fatalf("save without audio: %v", err)
	}
}

// With the fake driver: the agent's profile settings are applied at
// sign-in (and the defaults again at sign-out), the echo test's audio
// reaches the speaker, DTMF plays its feedback and a busy dial plays the
// busy tone.
func TestAudioWiringFakeDriver(t *testing.T) {
	drv := audiotest.NewDriver("Headset")
	cfg := domain.DefaultConfig()
	cfg.LoginStatus = domain.Status{Presence: domain.PresenceAvailable}
	a := buildQuiet(t, Config{AudioDriver: drv, AgentConfig: &cfg, DemoOptions: demopbx.Options{AnswerDelay: 100 * time.Millisecond}})
	p, err := a.Store.Profile("fake-agent")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.PutSettings(map[string]any{"Speaker": AudioDeviceKey(audiotest.ID("Headset")), "NoiseSuppression": false, "EchoCancel": false}); err != nil {
		t.Fatal(err)
	}
	want := audio.Settings{Speaker: audiotest.ID("Headset"), AutoGain: true}
	if err := a.Agent.Login(domain.AgentInfo{ID: "fake-agent"}, cfg); err != nil {
		t.Fatal(err)
	}
	until := func(what string, f func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !f(); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	until("the profile's audio settings", func() bool { return a.AudioSettings() == want })
	until("registered", func() bool { return a.Agent.Snapshot().Registration.State == domain.RegRegistered })
	heard := func(what string, freq float64) {
		t.Helper()
		until(what, func() bool { return toneLevel(lastSecond(drv.Played("Headset")), 48000, freq) > 0.02 })
	}

	id, err := a.Agent.Dial(demopbx.ExtEcho)
	if err != nil {
		t.Fatal(err)
	}
	var key string
	until("echo test answered", func() bool {
		st := a.Agent.Snapshot()
		c := st.Call(id)
		if c != nil {
			key = c.Interaction
		}
		return c != nil && c.State == domain.CallStateActive
	})
	heard("the fake microphone's 1 kHz back from the echo test", 1000)
	if err := a.Agent.SendDTMF(id, "1"); err != nil {
		t.Fatal(err)
	}
	heard("the dtmf feedback of 1 (697 Hz)", 697)
	if err := a.Agent.Hangup(id); err != nil {
		t.Fatal(err)
	}
	until("hung up", func() bool { st := a.Agent.Snapshot(); return st.Call(id) == nil })
	if err := a.Agent.CompleteWrapUp(key); err != nil {
		t.Fatal(err)
	}

	busy, err := a.Agent.Dial(demopbx.ExtBusy)
	if err != nil {
		t.Fatal(err)
	}
	until("busy", func() bool { st := a.Agent.Snapshot(); return st.Call(busy) == nil })
	heard("the busy tone", 425)

	if err := a.Agent.Logout(); err != nil {
		t.Fatal(err)
	}
	until("defaults after sign-out", func() bool { return a.AudioSettings() == audio.DefaultSettings() })
}

func lastSecond(x []float32) []float32 {
	if len(x) > 48000 {
		return x[len(x)-48000:]
	}
	return x
}

// TestProfileAudioKeepsBaseDevices: devices the agent never saved are the
// base settings' (what the app was given), not the system default; a
// saved "default" is the system default.
func TestProfileAudioKeepsBaseDevices(t *testing.T) {
	base := audio.DefaultSettings()
	base.Microphone, base.Speaker, base.Ringer = audiotest.ID("Headset"), audiotest.ID("Headset"), audiotest.ID("Speakers")
	got := profileAudio{}.settings(base)
	if got.Microphone != base.Microphone || got.Speaker != base.Speaker || got.Ringer != base.Ringer {
		t.Errorf("nothing saved: %+v, want the base devices", got)
	}
	got = profileAudio{Microphone: "default", Ringer: AudioDeviceKey(audiotest.ID("USB"))}.settings(base)
	if !got.Microphone.IsDefault() || got.Speaker != base.Speaker || got.Ringer != audiotest.ID("USB") {
		t.Errorf("saved default microphone and a ringer: %+v", got)
	}
}
