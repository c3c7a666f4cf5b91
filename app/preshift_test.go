package app

import (
	"context"
	"errors"
	"testing"
	"time"

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
