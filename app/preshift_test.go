package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/audio/audiotest"
	"github.com/callcentre/softphone/sip/demopbx"
)

// TestPreShiftCheckWiring: the app's pre-shift check runs the audio
// engine's check on the fake driver (a microphone that hears the 1 kHz
// tone back: an echo path), the meter reads the open microphone, the demo
// PBX's echo test is offered; without audio the check says why.
func TestPreShiftCheckWiring(t *testing.T) {
	drv := audiotest.NewDriver("Headset")
	drv.SetMicTone("Headset", 1000)
	set := audio.DefaultSettings()
	set.Microphone, set.Speaker = audiotest.ID("Headset"), audiotest.ID("Headset")
	set.EchoCancel, set.NoiseSuppress, set.AutoGain = false, false, false // the raw microphone
	a := buildQuiet(t, Config{AudioDriver: drv, AudioSettings: &set})
	if got := a.EchoTestNumber(); got != demopbx.ExtEcho {
		t.Fatalf("echo number %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := a.PreShiftCheck(ctx, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.MicPeak < 0.01 || !res.MicHeardTone || res.Speaker != set.Speaker || res.Microphone != set.Microphone {
		t.Fatalf("check %+v", res)
	}
	if lv := a.MicLevel(); lv < 0 || lv > 1 {
		t.Fatalf("mic level %v", lv)
	}

	off := buildQuiet(t, Config{NoAudio: true, EchoTestNumber: "9196"})
	if _, err := off.PreShiftCheck(ctx, time.Second); !errors.Is(err, ErrAudioOff) {
		t.Fatalf("check without audio: %v", err)
	}
	if off.MicLevel() != 0 || off.EchoTestNumber() != demopbx.ExtEcho { // demo mode: the demo PBX's echo test
		t.Fatalf("without audio: level %v echo %q", off.MicLevel(), off.EchoTestNumber())
	}
}

// TestEchoCheckDemo measures the demo PBX's echo test *43 through the
// real SIP engine with the fake sound driver: dialled through the core,
// every burst comes back; a call that ends busy, a call not in progress
// and an app without audio each say why.
func TestEchoCheckDemo(t *testing.T) {
	drv := audiotest.NewDriver("Headset")
	drv.SetMicTone("Headset", 0) // a silent microphone: only the bursts go out
	cfg := domain.DefaultConfig()
	cfg.LoginStatus = domain.Status{Presence: domain.PresenceAvailable}
	cfg.WrapUpTime = 0
	set := audio.DefaultSettings()
	set.Microphone, set.Speaker = audiotest.ID("Headset"), audiotest.ID("Headset")
	set.EchoCancel, set.NoiseSuppress, set.AutoGain = false, false, false
	a := buildQuiet(t, Config{AudioDriver: drv, AudioSettings: &set, AgentConfig: &cfg,
		DemoOptions: demopbx.Options{AnswerDelay: 100 * time.Millisecond}})
	if err := a.Agent.Login(domain.AgentInfo{ID: "echo-agent"}, cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "registered", func() bool { return a.Agent.Snapshot().Registration.State == domain.RegRegistered })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	id, err := a.Agent.Dial(a.EchoTestNumber())
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.EchoCheck(ctx, id, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("echo check through the demo pbx: %+v", res)
	if res.Sent != 3 || res.Heard != 3 || res.RoundTrip <= 0 || res.RoundTrip > 2*time.Second {
		t.Fatalf("echo check %+v, want 3 of 3 bursts back within 2 s", res)
	}
	// The network part (the PBX's echo and our jitter buffer) is real:
	// with the agent's saved devices replacing the given headset, the
	// default fake microphone's steady 1 kHz made every burst "heard"
	// one frame after it left.
	if res.RoundTrip-res.Headset < 20*time.Millisecond {
		t.Fatalf("echo check %+v: no time beyond the headset's own path", res)
	}
	if err := a.Agent.Hangup(id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "hung up", func() bool { st := a.Agent.Snapshot(); return st.Call(id) == nil })
	if _, err := a.EchoCheck(ctx, id, 3); !errors.Is(err, ErrEchoCallEnded) {
		t.Fatalf("echo check of an ended call: %v", err)
	}

	busy, err := a.Agent.Dial(demopbx.ExtBusy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.EchoCheck(ctx, busy, 3); !errors.Is(err, ErrEchoCallEnded) || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("echo check of a busy call: %v", err)
	}
	// The check starts after the busy call has already gone: the reason
	// still comes through.
	busy2, err := a.Agent.Dial(demopbx.ExtBusy)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "busy call gone", func() bool { st := a.Agent.Snapshot(); return st.Call(busy2) == nil })
	if _, err := a.EchoCheck(ctx, busy2, 3); !errors.Is(err, ErrEchoCallEnded) || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("echo check of a busy call that has ended: %v", err)
	}

	off := buildQuiet(t, Config{NoAudio: true})
	if _, err := off.EchoCheck(ctx, "c1", 3); !errors.Is(err, ErrAudioOff) {
		t.Fatalf("echo check without audio: %v", err)
	}
}
