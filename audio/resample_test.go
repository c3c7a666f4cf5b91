package audio

import (
	"fmt"
	"testing"
)

func TestResamplerSNR(t *testing.T) {
	for _, c := range []struct{ in, out int }{
		{48000, 8000}, {8000, 48000}, {48000, 16000}, {16000, 48000}, {44100, 16000}, {16000, 44100}, {48000, 48000},
	} {
		t.Run(fmt.Sprintf("%d-%d", c.in, c.out), func(t *testing.T) {
			r := NewResampler(c.in, c.out)
			in := sine(c.in, 1000, 0.5, c.in, 0) // one second
			var out []float32
			// Feed in odd chunks, as a stream would.
			for i := 0; i < len(in); i += 333 {
				out = r.Process(in[i:min(i+333, len(in))], out)
			}
			want := c.out
			if d := len(out) - want; d < -(r.Delay()+2)*c.out/c.in-2 || d > 2 {
				t.Fatalf("got %d samples, want about %d", len(out), want)
			}
			// Skip the start-up transient.
			seg := out[c.out/10:]
			snr := fitSNR(seg, c.out, 1000)
			t.Logf("SNR %.1f dB", snr)
			if snr < 60 {
				t.Fatalf("SNR %.1f dB, want > 60", snr)
			}
		})
	}
}

func TestResamplerDrift(t *testing.T) {
	r := NewResampler(16000, 16000)
	r.SetDrift(1000) // consume 0.1 % faster
	in := make([]float32, 160000)
	out := r.Process(in, nil)
	if got, want := len(out), 160000-160; got < want-40 || got > want+40 {
		t.Fatalf("got %d samples, want about %d", got, want)
	}
}

// TestResamplerRejectsAliases checks that a tone above the output Nyquist
// frequency does not fold back into the band.
func TestResamplerRejectsAliases(t *testing.T) {
	r := NewResampler(48000, 8000)
	out := r.Process(sine(48000, 6000, 0.5, 48000, 0), nil) // would alias to 2 kHz
	if lvl := toneLevel(out[800:], 8000, 2000); lvl > 0.5e-3 {
		t.Fatalf("alias at 2 kHz has amplitude %.5f (> -60 dB)", lvl)
	}
}
