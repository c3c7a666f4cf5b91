//go:build cgo && !noportaudio

package audio_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/audio/audiotest"
	"github.com/callcentre/softphone/lab/pulse"
)

var (
	labHeadset = audio.DeviceID{HostAPI: "ALSA", Name: "lab_headset"}
	labRinger  = audio.DeviceID{HostAPI: "ALSA", Name: "lab_ringer"}
	labMic     = audio.DeviceID{HostAPI: "ALSA", Name: "lab_mic"}
)

// realEngine starts a private pulseaudio and an engine on PortAudio over it.
func realEngine(t *testing.T, src domain.AudioSource, s audio.Settings) (*pulse.Server, *audio.Engine, *events) {
	t.Helper()
	srv := pulse.Start(t)
	srv.Setenv(t)
	pa, err := audio.NewPortAudio()
	if err != nil {
		t.Fatal(err)
	}
	e, _, ev := newEngine(t, pa, src, audio.WithSettings(s))
	t.Cleanup(func() { _ = e.Close(); _ = pa.Close() })
	return srv, e, ev
}

// heard records d from a pulse source and returns the level of freq.
func heard(t *testing.T, srv *pulse.Server, source string, freq float64) float64 {
	t.Helper()
	x, err := srv.Record(context.Background(), source, time.Second)
	if err != nil {
		t.Logf("record %s: %v", source, err)
		return 0
	}
	return pulse.ToneLevel(x, pulse.Rate, freq)
}

// TestRealCallThroughPulse: a call's far-end tone is played through our
// PortAudio output stream and found on the headset sink's monitor; the
// lab microphone's tone reaches the call; the ringer rings on its own sink.
func TestRealCallThroughPulse(t *testing.T) {
	src := audiotest.NewSource()
	call := src.Add("c1", 8000, 1200)
	s := audio.DefaultSettings()
	s.Microphone, s.Speaker, s.Ringer = labMic, labHeadset, labRinger
	s.EchoCancel, s.NoiseSuppress, s.AutoGain = false, false, false
	srv, e, ev := realEngine(t, src, s)
	e.SetAudioRoute([]domain.CallID{"c1"})
	eventually(t, "far-end 1200 Hz on headset.monitor", func() bool {
		return heard(t, srv, "headset.monitor", 1200) > 0.05
	})
	eventually(t, "lab microphone's 700 Hz in the call", func() bool {
		return level(tail(call.Received(), 8000), 8000, pulse.MicTone) > 0.05
	})
	if !ev.find(func(x audio.Event) bool { o, ok := x.(audio.DeviceOpened); return ok && o.Device == labHeadset }) {
		t.Error("no DeviceOpened for the lab headset")
	}
	e.SetRinger(domain.RingerRing)
	eventually(t, "ring tone on ringer.monitor", func() bool {
		return heard(t, srv, "ringer.monitor", 440) > 0.02
	})
	if l := heard(t, srv, "headset.monitor", 440); l > 0.02 {
		t.Errorf("ring tone in the headset too (%.3f)", l)
	}
	e.SetRinger(domain.RingerOff)
	// Switch the speaker mid-call: the streams reopen, the call goes on.
	s.Speaker = labRinger
	e.ApplySettings(s)
	eventually(t, "far end on the new speaker (ringer sink) after a mid-call switch", func() bool {
		return heard(t, srv, "ringer.monitor", 1200) > 0.05
	})
	eventually(t, "microphone still in the call after the switch", func() bool {
		return level(tail(call.Received(), 8000), 8000, pulse.MicTone) > 0.05
	})
	st := e.Stats()
	t.Logf("stats %+v", st)
}

// TestRealDeviceVanishes kills the sound server under running streams
// (what a USB headset being pulled looks like to PortAudio), checks the
// engine reports it and keeps the call's audio clocked, then brings the
// server back and finds the tone again.
func TestRealDeviceVanishes(t *testing.T) {
	src := audiotest.NewSource()
	call := src.Add("c1", 8000, 1200)
	s := audio.DefaultSettings()
	s.Microphone, s.Speaker = labMic, labHeadset
	s.NoiseSuppress = false // the lab microphone is a steady sine, which noise suppression removes
	srv, e, ev := realEngine(t, src, s)
	e.SetAudioRoute([]domain.CallID{"c1"})
	eventually(t, "far-end tone on headset.monitor", func() bool {
		return heard(t, srv, "headset.monitor", 1200) > 0.05
	})
	srv.Kill()
	eventually(t, "DeviceLost event", func() bool {
		return ev.find(func(x audio.Event) bool { _, ok := x.(audio.DeviceLost); return ok })
	})
	// With no device the mix runs on the wall clock: the call still gets
	// frames (a second's worth; no rate is asserted, the machine may be busy).
	w0 := call.Written()
	eventually(t, "a second of audio to the call without a device", func() bool { return call.Written()-w0 >= 8000 })
	srv.Restart()
	eventually(t, "tone back on headset.monitor after the server returned", func() bool {
		return heard(t, srv, "headset.monitor", 1200) > 0.05
	})
	eventually(t, "microphone back in the call", func() bool {
		return level(tail(call.Received(), 8000), 8000, pulse.MicTone) > 0.02
	})
}

// TestRealCheck runs the pre-shift check on the lab devices.
func TestRealCheck(t *testing.T) {
	s := audio.DefaultSettings()
	s.Microphone, s.Speaker = labMic, labHeadset
	_, e, _ := realEngine(t, audiotest.NewSource(), s)
	r, err := e.Check(context.Background(), 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if r.Microphone != labMic || r.Speaker != labHeadset || r.MicPeak < 0.05 {
		t.Fatalf("check %+v", r)
	}
}

// TestRealDefaultFollowsOS: with the "default" devices, a change of the
// sound server's default sink takes effect at the next open.
func TestRealDefaultFollowsOS(t *testing.T) {
	src := audiotest.NewSource()
	src.Add("c1", 8000, 1200)
	s := audio.Settings{} // default devices, no processing
	srv, e, _ := realEngine(t, src, s)
	e.SetAudioRoute([]domain.CallID{"c1"})
	eventually(t, "tone on the default sink (headset)", func() bool {
		return heard(t, srv, "headset.monitor", 1200) > 0.05
	})
	e.SetAudioRoute(nil)
	if _, err := srv.Pactl("set-default-sink", "ringer"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // the idle streams close
	e.SetAudioRoute([]domain.CallID{"c1"})
	eventually(t, "tone on the new default sink (ringer)", func() bool {
		return heard(t, srv, "ringer.monitor", 1200) > 0.05
	})
}

// sourceOutputs counts the record streams (source outputs) open on the
// private pulseaudio.
func sourceOutputs(t *testing.T, srv *pulse.Server) int {
	t.Helper()
	out, err := srv.Pactl("list", "short", "source-outputs")
	if err != nil {
		t.Fatalf("pactl: %v", err)
	}
	n := 0
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	return n
}

// TestRealMicMeterWithoutCall: the settings' meter opens the lab
// microphone through PortAudio with no call, reads its 700 Hz sine, and
// the stream is gone from the sound server after the polling stops.
func TestRealMicMeterWithoutCall(t *testing.T) {
	srv, e, _ := realEngine(t, audiotest.NewSource(), audio.DefaultSettings())
	eventually(t, "meter of lab_mic above 0.05", func() bool { return e.MicMeter(labMic) > 0.05 })
	// Polling keeps the meter open (pactl may take longer than the meter's
	// two idle seconds on a busy machine).
	eventually(t, "one record stream while metering", func() bool {
		e.MicMeter(labMic)
		return sourceOutputs(t, srv) == 1
	})
	eventually(t, "no record stream after the meter stopped", func() bool { return sourceOutputs(t, srv) == 0 })
}

// TestRealRingerTest: the ringer's "test" button plays the ringtone on the
// ringer sink (found on its monitor), not in the headset, and its stream
// is gone from the sound server when the test's time is up.
func TestRealRingerTest(t *testing.T) {
	srv, e, _ := realEngine(t, audiotest.NewSource(), audio.DefaultSettings())
	// Long enough to be heard on a busy machine (parec through pulse).
	if err := e.TestDevice(labRinger, audio.ToneRing, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ringtone on ringer.monitor", func() bool {
		return heard(t, srv, "ringer.monitor", 440) > 0.02
	})
	if l := heard(t, srv, "headset.monitor", 440); l > 0.02 {
		t.Errorf("ringtone in the headset too (%.3f)", l)
	}
	eventually(t, "no playback stream after the test", func() bool {
		out, err := srv.Pactl("list", "short", "sink-inputs")
		return err == nil && !strings.Contains(out, "protocol-native")
	})
}
