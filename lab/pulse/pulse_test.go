//go:build unix

package pulse

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestTwoDaemons starts two private daemons side by side, checks each has
// its own devices and that the mic tone is on the default source.
func TestTwoDaemons(t *testing.T) {
	a := Start(t)
	b := Start(t)
	if a.Socket == b.Socket {
		t.Fatal("shared socket")
	}
	for _, s := range []*Server{a, b} {
		out, err := s.Pactl("list", "short", "sinks")
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"headset", "ringer", "mic"} {
			if !strings.Contains(out, want) {
				t.Fatalf("sink %s missing: %s", want, out)
			}
		}
	}
	x, err := a.Record(context.Background(), "mic.monitor", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if l := ToneLevel(x[len(x)/2:], Rate, MicTone); l < 0.05 {
		t.Fatalf("mic tone level %.4f", l)
	}
	a.Kill()
	if _, err := a.Pactl("info"); err == nil {
		t.Fatal("daemon still answers after Kill")
	}
	a.Restart()
	if _, err := a.Pactl("info"); err != nil {
		t.Fatal(err)
	}
}
