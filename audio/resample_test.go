package audio

import (
	"fmt"
	"math"
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

// TestResamplerDriftOnAndOff switches drift correction on and off in the
// middle of a stream (the exact polyphase path and the interpolated one
// hand over): the output has the right length and no step (no sample
// moves further than a clean sine can between two samples).
func TestResamplerDriftOnAndOff(t *testing.T) {
	for _, c := range []struct{ in, out int }{{8000, 16000}, {16000, 8000}, {16000, 44100}} {
		t.Run(fmt.Sprintf("%d-%d", c.in, c.out), func(t *testing.T) {
			r := NewResampler(c.in, c.out)
			in := sine(c.in, 500, 0.5, 2*c.in, 0)
			var out []float32
			chunk := c.in / 50
			for i, k := 0, 0; i < len(in); i, k = i+chunk, k+1 {
				switch k % 7 {
				case 2:
					r.SetDrift(300)
				case 4:
					r.SetDrift(-200)
				case 5:
					r.SetDrift(0)
				}
				out = r.Process(in[i:min(i+chunk, len(in))], out)
			}
			if d := len(out) - 2*c.out; d < -2*r.Delay()*c.out/c.in-c.out/100 || d > c.out/100 {
				t.Fatalf("got %d samples, want about %d", len(out), 2*c.out)
			}
			limit := 1.02 * 0.5 * 2 * math.Pi * 500 / float64(c.out)
			for i := c.out / 10; i+1 < len(out); i++ {
				if d := math.Abs(float64(out[i+1] - out[i])); d > limit {
					t.Fatalf("step of %.4f at sample %d (a clean sine moves at most %.4f)", d, i, limit)
				}
			}
		})
	}
}

// TestResamplerExactPathMatches compares the exact polyphase path (no
// drift) with the interpolated one (a negligible drift forces it), also
// while a stream switches between them every few chunks: the outputs agree
// to within the interpolated filter bank's error.
func TestResamplerExactPathMatches(t *testing.T) {
	for _, c := range []struct{ in, out int }{{8000, 16000}, {16000, 8000}, {48000, 16000}, {16000, 48000}, {16000, 44100}, {44100, 16000}} {
		t.Run(fmt.Sprintf("%d-%d", c.in, c.out), func(t *testing.T) {
			ref, sw := NewResampler(c.in, c.out), NewResampler(c.in, c.out)
			ref.SetDrift(1e-9)
			in := sine(c.in, 700, 0.5, c.in, 0)
			var a, b []float32
			chunk := c.in / 100
			for i, k := 0, 0; i < len(in); i, k = i+chunk, k+1 {
				if k%3 == 0 {
					sw.SetDrift(1e-9)
				} else {
					sw.SetDrift(0)
				}
				a = ref.Process(in[i:min(i+chunk, len(in))], a)
				b = sw.Process(in[i:min(i+chunk, len(in))], b)
			}
			if len(a) != len(b) {
				t.Fatalf("lengths %d and %d", len(a), len(b))
			}
			for i := range a {
				if d := math.Abs(float64(a[i] - b[i])); d > 1e-3 {
					t.Fatalf("sample %d: %.5f vs %.5f", i, a[i], b[i])
				}
			}
		})
	}
}
