package audio_test

import (
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/audio/audiotest"
)

// TestLoopWakesOncePerMicBuffer: during a call the engine's loop wakes
// just after each microphone buffer is due (50 times a second with 20 ms
// buffers), not on a fixed half-buffer timer (100 times a second): each
// wake-up costs the process a round of thread switches (make bench-audio:
// loop-wakes/s and cpu%).
func TestLoopWakesOncePerMicBuffer(t *testing.T) {
	src := audiotest.NewSource()
	src.Add("c1", 8000, 440)
	e := audio.New(audiotest.NewDriver(), src)
	defer e.Close()
	e.SetAudioRoute([]domain.CallID{"c1"})
	deadline := time.Now().Add(20 * time.Second)
	for e.Stats().Frames < 25 {
		if time.Now().After(deadline) {
			t.Fatal("the call's audio never ran")
		}
		time.Sleep(20 * time.Millisecond)
	}
	s0, t0 := e.Stats(), time.Now()
	time.Sleep(2 * time.Second)
	s1 := e.Stats()
	secs := time.Since(t0).Seconds()
	wakes, frames := float64(s1.Wakes-s0.Wakes)/secs, float64(s1.Frames-s0.Frames)/secs
	t.Logf("%.0f wake-ups and %.0f frames a second", wakes, frames)
	if frames < 40 {
		t.Fatalf("only %.0f frames a second", frames)
	}
	// A late buffer is polled for every 5 ms, so a loaded machine wakes a
	// little more than once per buffer; the half-buffer timer woke 95-100
	// times a second.
	if wakes > 80 {
		t.Fatalf("the loop woke %.0f times a second for 50 microphone buffers", wakes)
	}
}
