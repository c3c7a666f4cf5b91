package baresip

import (
	"math"
	"testing"
	"time"
)

func sine(hz, rate, n int) []int16 {
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*float64(hz)*float64(i)/float64(rate)))
	}
	return out
}

func TestToneShare(t *testing.T) {
	x := sine(440, 8000, 8000)
	if s := ToneShare(x, 8000, 440); s < 0.9 {
		t.Errorf("share of 440 in a 440 Hz sine = %.2f", s)
	}
	if s := ToneShare(x, 8000, 1000); s > 0.05 {
		t.Errorf("share of 1000 in a 440 Hz sine = %.2f", s)
	}
	if s := ToneShare(make([]int16, 800), 8000, 440); s != 0 {
		t.Errorf("share in silence = %.2f", s)
	}
}

// TestCallBetweenPhones starts two baresip phones, calls one from the other
// directly, and checks that each recorded the other's tone.
func TestCallBetweenPhones(t *testing.T) {
	a := Start(t, Options{User: "alice", ToneHz: 440})
	b := Start(t, Options{User: "bob", ToneHz: 1000})
	if _, err := a.Command("dial", b.URI); err != nil {
		t.Fatal(err)
	}
	if _, err := a.WaitEvent("CALL_ESTABLISHED", 15*time.Second); err != nil {
		t.Fatalf("%v\n%s\n%s", err, a.Log(), b.Log())
	}
	time.Sleep(1500 * time.Millisecond)
	if _, err := a.Command("hangup", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	_, recv := b.Recordings()
	if len(recv) == 0 {
		t.Fatalf("bob recorded nothing\n%s", b.Log())
	}
	pcm, rate, err := ReadWAV(recv[len(recv)-1])
	if err != nil {
		t.Fatal(err)
	}
	if s := ToneShare(pcm, rate, 440); s < 0.5 {
		t.Errorf("bob heard 440 Hz with share %.2f (%d samples at %d Hz)", s, len(pcm), rate)
	}
}
