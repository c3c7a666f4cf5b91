package audio

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func requireProgram(t *testing.T, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		msg := name + " not found: install the Debian package " + pkg
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// TestWAVReadableBySox writes a stereo file (700 Hz left, 1200 Hz right) and
// asks sox what it holds.
func TestWAVReadableBySox(t *testing.T) {
	requireProgram(t, "sox", "sox")
	path := filepath.Join(t.TempDir(), "rec.wav")
	w, err := CreateWAV(path, 16000, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ { // one second in 20 ms frames
		if err := w.WriteStereo(sine(16000, 700, 0.5, 320, i*320), sine(16000, 1200, 0.5, 320, i*320)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("soxi", path).CombinedOutput()
	if err != nil {
		t.Fatalf("soxi: %v\n%s", err, out)
	}
	for _, want := range []string{"Channels       : 2", "Sample Rate    : 16000", "16-bit", "00:00:01.00"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("soxi output lacks %q:\n%s", want, out)
		}
	}
	for ch, f := range map[string]int{"1": 700, "2": 1200} {
		out, err := exec.Command("sox", path, "-n", "remix", ch, "stat").CombinedOutput()
		if err != nil {
			t.Fatalf("sox stat: %v\n%s", err, out)
		}
		var got int
		if _, err := fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(firstLine(string(out), "Rough"), "Rough   frequency:")), "%d", &got); err != nil || got < f-30 || got > f+30 {
			t.Fatalf("channel %s: sox says %q, want about %d Hz", ch, firstLine(string(out), "Rough"), f)
		}
	}
	// And read it back ourselves.
	b, _ := os.ReadFile(path)
	s, rate, err := ReadWAV(bytes.NewReader(b))
	if err != nil || rate != 16000 || len(s) != 16000 {
		t.Fatalf("ReadWAV: %d samples at %d, %v", len(s), rate, err)
	}
}

func firstLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func TestReadWAVRejectsGarbage(t *testing.T) {
	for name, in := range map[string][]byte{
		"empty":     nil,
		"not riff":  []byte("hello world, this is not a wave file"),
		"truncated": []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00"),
		"8-bit":     append([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x40\x1f\x00\x00\x01\x00\x08\x00data\x04\x00\x00\x00"), 1, 2, 3, 4),
	} {
		if _, _, err := ReadWAV(bytes.NewReader(in)); !errors.Is(err, ErrBadWAV) {
			t.Errorf("%s: err %v, want ErrBadWAV", name, err)
		}
	}
}

func FuzzReadWAV(f *testing.F) {
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\x04\x00\x00\x00\x01\x02\x03\x04"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, _, err := ReadWAV(bytes.NewReader(b))
		if err == nil && len(s) > len(b) {
			t.Fatal("more samples than bytes")
		}
	})
}
