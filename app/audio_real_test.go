//go:build cgo && !noportaudio && unix

package app

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/control"
	"github.com/callcentre/softphone/lab/pulse"
	"github.com/callcentre/softphone/sip/demopbx"
)

// waitTone records the sink's monitor a second at a time until freq is
// louder than min (or, with quiet, softer than min) and returns the level.
func waitTone(t *testing.T, srv *pulse.Server, what string, freq, min float64, quiet bool) float64 {
	t.Helper()
	var lvl float64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		x, err := srv.Record(context.Background(), "headset.monitor", time.Second)
		if err != nil {
			t.Logf("record: %v", err)
			time.Sleep(200 * time.Millisecond)
			continue
		}
		lvl = pulse.ToneLevel(x, pulse.Rate, freq)
		if quiet == (lvl < min) {
			return lvl
		}
	}
	t.Fatalf("%s: %.0f Hz level on our speaker stays %.4f", what, freq, lvl)
	return lvl
}

// TestAudioDemoOnPulse runs the app in demo mode, headless, with the real
// audio path: PortAudio on a private pulseaudio with null sinks (the lab
// microphone carries a 700 Hz sine; our speaker is the "headset" sink,
// read back on its monitor). The agent's saved audio settings choose the
// lab devices. It checks the echo test *43 (the pre-shift echo test
// through a call: our microphone reaches the PBX and comes back to our
// speaker), a recording referenced from the call log, an answered inbound
// demo call with its audio routed, and the busy tone of a dial to 486.
func TestAudioDemoOnPulse(t *testing.T) {
	srv := pulse.Start(t)
	srv.Setenv(t)

	cfg := domain.DefaultConfig()
	cfg.WrapUpTime = 0
	cfg.LoginStatus = domain.Status{Presence: domain.PresenceAvailable}
	evch := make(chan audio.Event, 1024)
	a, err := Build(context.Background(), Config{
		DataDir: t.TempDir(), Demo: true, InstanceSocket: "off", AgentConfig: &cfg,
		ControlAddr: "127.0.0.1:0", ControlToken: e2eToken, Logger: quietLog(),
		DemoOptions: demopbx.Options{AnswerDelay: 150 * time.Millisecond},
		OnScreenPop: func(ScreenPop) {}, // in-app pops (the desk's)
		OnAudioEvent: func(ev audio.Event) {
			select {
			case evch <- ev:
			default:
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if a.AudioStarted() {
		t.Fatal("the audio engine started before anything needed sound")
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 60*time.Second)
	devs, err := a.AudioDevices(dctx) // starts the engine: PortAudio's first scan
	dcancel()
	if err != nil || len(devs) == 0 {
		t.Fatalf("no audio devices on the lab pulseaudio: %v (%v)", err, a.AudioErr())
	}

	// The agent's profile already holds desktop settings (ui.Settings'
	// field names) choosing the lab devices, with noise suppression and
	// echo cancellation off (the lab microphone is a steady sine that
	// comes straight back).
	const agentID = "pulse-agent"
	p, err := a.Store.Profile(agentID)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.PutSettings(map[string]any{
		"Microphone": "ALSA: lab_mic", "Speaker": "ALSA: lab_headset", "Ringer": "default",
		"EchoCancel": false, "NoiseSuppression": false, "AutoGain": true, "Language": "de",
	}); err != nil {
		t.Fatal(err)
	}
	want := audio.Settings{Microphone: audio.DeviceID{HostAPI: "ALSA", Name: "lab_mic"},
		Speaker: audio.DeviceID{HostAPI: "ALSA", Name: "lab_headset"}, AutoGain: true}

	c := newClient(t, a.ControlAddr)
	c.wait("initial state", func(s control.State) bool { return s.Agent.Status == "offline" }, false)
	c.post("/v1/login", map[string]string{"agent_id": agentID, "name": "Pulse Agent"})
	c.wait("available and registered", func(s control.State) bool { return s.Agent.Status == "available" }, false)
	for deadline := time.Now().Add(20 * time.Second); a.AudioSettings() != want; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("audio settings %+v after sign-in, want the profile's %+v", a.AudioSettings(), want)
		}
	}

	wrapUp := func(key string) {
		t.Helper()
		c.wait("wrap-up", func(s control.State) bool {
			return len(s.Calls) == 0 && len(s.Interactions) == 1 && s.Interactions[0].Phase == "wrap-up"
		}, false)
		c.post("/v1/interactions/"+key+"/wrapup", map[string]any{"outcome": "", "complete": true})
		c.wait("logged", func(s control.State) bool { return len(s.Interactions) == 0 && s.PendingLogs == 0 }, false)
	}

	t.Run("echo test with a recording", func(t *testing.T) {
		id := c.post("/v1/calls", map[string]string{"number": demopbx.ExtEcho})["id"]
		s := c.wait("echo test answered", inState(id, "active"), false)
		key := callIn(s, byID(id)).Interaction
		lvl := waitTone(t, srv, "the echo test", pulse.MicTone, 0.02, false)
		t.Logf("echo test: our %d Hz microphone back on our speaker at %.3f", pulse.MicTone, lvl)

		if err := a.Agent.SetRecording(key, domain.RecordStart); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			st := a.Agent.Snapshot()
			if ix := st.Interaction(key); ix != nil && ix.Recording == domain.RecordingOn {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the recording did not start")
			}
		}
		time.Sleep(2 * time.Second)
		if err := a.Agent.SetRecording(key, domain.RecordStop); err != nil {
			t.Fatal(err)
		}
		c.post("/v1/calls/"+id+"/hangup", nil)
		wrapUp(key)
		got, err := p.CallLog(key)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Log.Recordings) != 1 {
			t.Fatalf("call log recordings %v, want one", got.Log.Recordings)
		}
		path := got.Log.Recordings[0]
		if dir := RecordingsDir(a.dataDir, agentID); filepath.Dir(path) != dir {
			t.Fatalf("recording %s not in the profile's recordings directory", path)
		}
		// The file is finished when the engine stops the recording; wait
		// for it to be readable as a whole WAV.
		var pcm []float32
		var rate int
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			f, err := os.Open(path)
			if err == nil {
				pcm, rate, err = audio.ReadWAV(f)
				f.Close()
			}
			if err == nil && len(pcm) >= rate { // at least a second of the agent's channel
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("recording %s: %d samples, %v", path, len(pcm), err)
			}
		}
		// The agent's channel (left) carries our microphone's sine.
		if l := pulse.ToneLevel(pcm, rate, pulse.MicTone); l < 0.02 {
			t.Fatalf("our %d Hz microphone in the recording's agent channel at %.4f", pulse.MicTone, l)
		}
	})

	t.Run("inbound call answered", func(t *testing.T) {
		waitTone(t, srv, "silence between calls", pulse.MicTone, 0.005, true)
		if _, err := a.PBX.CallAgent(""); err != nil {
			t.Fatal(err)
		}
		s := c.wait("offered call", func(s control.State) bool {
			return callIn(s, func(c control.CallState) bool { return c.State == "offered" }) != nil
		}, false)
		call := *callIn(s, func(c control.CallState) bool { return c.State == "offered" })
		c.post("/v1/calls/"+call.ID+"/answer", nil)
		c.wait("answered", inState(call.ID, "active"), false)
		lvl := waitTone(t, srv, "the answered customer", pulse.MicTone, 0.02, false)
		t.Logf("inbound: the customer's echo of our microphone on our speaker at %.3f", lvl)
		c.post("/v1/calls/"+call.ID+"/hangup", nil)
		wrapUp(call.Interaction)
	})

	t.Run("busy tone", func(t *testing.T) {
		waitTone(t, srv, "silence between calls", pulse.MicTone, 0.005, true)
		id := c.post("/v1/calls", map[string]string{"number": demopbx.ExtBusy})["id"]
		c.wait("busy failure", func(s control.State) bool { return callIn(s, byID(id)) == nil }, true)
		lvl := waitTone(t, srv, "the busy tone", 425, 0.01, false)
		t.Logf("busy tone at %.3f", lvl)
	})

	t.Run("save settings", func(t *testing.T) {
		set := a.AudioSettings()
		set.AutoGain = false
		if err := a.SaveAudioSettings(set); err != nil {
			t.Fatal(err)
		}
		if a.AudioSettings() != set {
			t.Fatalf("applied %+v, want %+v", a.AudioSettings(), set)
		}
		var doc map[string]any
		if _, err := p.GetSettings(&doc); err != nil {
			t.Fatal(err)
		}
		if doc["Language"] != "de" || doc["AutoGain"] != false || doc["Speaker"] != "ALSA: lab_headset" {
			b, _ := json.Marshal(doc)
			t.Fatalf("profile settings after save: %s", b)
		}
	})

	for len(evch) > 0 {
		if f, ok := (<-evch).(audio.DeviceFallback); ok {
			t.Errorf("the lab %s %s fell back to the default: %s", f.Role, f.Wanted, f.Reason)
		}
	}
}
