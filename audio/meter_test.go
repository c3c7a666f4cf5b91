package audio_test

import (
	"errors"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/audio/audiotest"
)

// TestMicMeterWithoutCall: polling MicMeter opens only that microphone (no
// call, no speaker), its level follows the device's tone, a silent device
// reads near zero, and the stream closes once the polling stops.
func TestMicMeterWithoutCall(t *testing.T) {
	drv := audiotest.NewDriver("usb", "quiet")
	drv.SetMicTone("quiet", 0)
	e, _, _ := newEngine(t, drv, audiotest.NewSource())
	usb := audiotest.ID("usb")
	eventually(t, "meter of the usb microphone above 0.1", func() bool { return e.MicMeter(usb) > 0.1 })
	if n := drv.OpenStreams(); n["usb"] != 1 || n[audiotest.DefaultName] != 0 || len(n) != 1 {
		t.Fatalf("open streams while metering %v, want only the usb microphone", n)
	}
	// Another device: the meter moves to it.
	quiet := audiotest.ID("quiet")
	eventually(t, "meter follows the silent microphone", func() bool {
		return e.MicMeter(quiet) < 0.001 && drv.OpenStreams()["usb"] == 0 && drv.OpenStreams()["quiet"] == 1
	})
	// No more polling: closed after the idle delay.
	eventually(t, "meter stream closed after polling stopped", func() bool { return len(drv.OpenStreams()) == 0 })
}

// TestMicMeterDuringCall: while a call uses the microphone, the meter
// reads that stream instead of opening a second one.
func TestMicMeterDuringCall(t *testing.T) {
	drv := audiotest.NewDriver()
	src := audiotest.NewSource()
	src.Add("c1", 8000, 700)
	e, _, _ := newEngine(t, drv, src, audio.WithSettings(audio.Settings{}))
	e.SetAudioRoute([]domain.CallID{"c1"})
	eventually(t, "meter of the call's microphone", func() bool { return e.MicMeter(audio.DeviceID{}) > 0.1 })
	for i := 0; i < 5; i++ {
		e.MicMeter(audio.DeviceID{})
		if n := drv.OpenStreams()[audiotest.DefaultName]; n != 2 {
			t.Fatalf("%d streams on the headset, want 2 (microphone and speaker, no meter stream)", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMicMeterMissingDevice reads 0 and opens nothing.
func TestMicMeterMissingDevice(t *testing.T) {
	drv := audiotest.NewDriver()
	e, _, _ := newEngine(t, drv, audiotest.NewSource())
	gone := audiotest.ID("unplugged")
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if l := e.MicMeter(gone); l != 0 {
			t.Fatalf("missing microphone reads %v", l)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := drv.OpenStreams(); len(n) != 0 {
		t.Fatalf("streams open for a missing microphone: %v", n)
	}
}

// TestDeviceTestTone: TestDevice plays the ringtone on exactly the device
// asked for (not the default, not the saved ringer), shows on TestLevel,
// stops after its duration (the meter back at 0), and refuses a missing device with ErrNoDevice.
func TestDeviceTestTone(t *testing.T) {
	drv := audiotest.NewDriver("bell")
	e, _, _ := newEngine(t, drv, audiotest.NewSource())
	// The continuous test tone (long enough for any load) shows on the
	// meter; the ringtone below replaces it.
	if err := e.TestDevice(audiotest.ID("bell"), audio.ToneTest, time.Minute); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the test meter shows the test tone", func() bool { return e.TestLevel() > 0.2 })
	if err := e.TestDevice(audiotest.ID("bell"), audio.ToneRing, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	eventually(t, "ringtone (440 Hz) on the bell device", func() bool {
		return level(tail(drv.Played("bell"), 24000), 48000, 440) > 0.05
	})
	if p := drv.Played(audiotest.DefaultName); p != nil {
		t.Fatalf("the default device played during the test")
	}
	eventually(t, "test stream closed after its duration", func() bool { return len(drv.OpenStreams()) == 0 })
	eventually(t, "the test meter back to 0", func() bool { return e.TestLevel() == 0 })
	err := e.TestDevice(audiotest.ID("unplugged"), audio.ToneRing, time.Second)
	if !errors.Is(err, audio.ErrNoDevice) {
		t.Fatalf("missing device: %v, want ErrNoDevice", err)
	}
	if err := e.TestDevice(audiotest.ID("bell"), audio.Tone(99), time.Second); err == nil {
		t.Fatal("unknown tone accepted")
	}
	_ = e.Close()
	if err := e.TestDevice(audiotest.ID("bell"), audio.ToneRing, time.Second); !errors.Is(err, audio.ErrClosed) {
		t.Fatalf("after Close: %v, want ErrClosed", err)
	}
}
