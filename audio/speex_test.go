//go:build cgo

package audio

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// TestEchoCancellerERLE sends a speech-band noise signal through a
// synthetic room (40 ms delay plus a decaying reflection tail) into the
// microphone and requires the echo to come out at least 20 dB quieter
// once the canceller has converged: at 16 kHz, and at 8 kHz through
// narrowband (the processor of G.711 calls), both on 16 kHz frames.
func TestEchoCancellerERLE(t *testing.T) {
	for _, rate := range []int{mixRate, narrowRate} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			sp, err := newSpeex(rate, rate/50, true, false, false)
			if err != nil {
				t.Fatal(err)
			}
			var p processor = sp
			if rate == narrowRate {
				p = newNarrowband(sp)
			}
			defer p.Close()
			testERLE(t, p)
		})
	}
}

func testERLE(t *testing.T, p processor) {
	rng := rand.New(rand.NewSource(7))
	// Room impulse response: direct path after 40 ms, then reflections.
	ir := make([]float32, mixRate*120/1000)
	d0 := mixRate * 40 / 1000
	ir[d0] = 0.5
	for i := d0 + 1; i < len(ir); i++ {
		ir[i] = float32(rng.NormFloat64() * 0.08 * math.Exp(-float64(i-d0)/200))
	}
	const seconds = 12
	n := seconds * mixRate
	far := make([]float32, n)
	var lp float64
	for i := range far { // low-passed noise with a slow syllable-like envelope
		lp = 0.7*lp + 0.3*rng.NormFloat64()
		env := 0.5 + 0.5*math.Sin(2*math.Pi*3*float64(i)/mixRate)
		far[i] = float32(0.15 * lp * env)
	}
	echo := make([]float32, n)
	for i := range echo {
		var acc float32
		for k := 0; k < len(ir) && k <= i; k++ {
			if ir[k] != 0 {
				acc += ir[k] * far[i-k]
			}
		}
		echo[i] = acc + float32(rng.NormFloat64()*1e-4)
	}
	var inE, outE float64
	mic := make([]float32, mixFrame)
	for f := 0; f+mixFrame <= n; f += mixFrame {
		copy(mic, echo[f:f+mixFrame])
		before := mic[0]
		_ = before
		var e0 float64
		for _, v := range mic {
			e0 += float64(v) * float64(v)
		}
		p.Process(mic, far[f:f+mixFrame])
		if f >= (seconds-4)*mixRate { // the last 4 s, after convergence
			inE += e0
			for _, v := range mic {
				outE += float64(v) * float64(v)
			}
		}
	}
	erle := 10 * math.Log10(inE/outE)
	t.Logf("ERLE %.1f dB", erle)
	if erle < 20 {
		t.Fatalf("ERLE %.1f dB, want >= 20", erle)
	}
}

func TestNoiseSuppressionAndAGC(t *testing.T) {
	p, err := newSpeex(mixRate, mixFrame, false, true, true)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rng := rand.New(rand.NewSource(3))
	zero := make([]float32, mixFrame)
	var inE, outE float64
	mic := make([]float32, mixFrame)
	for f := 0; f < 300; f++ { // 6 s of steady background noise
		for i := range mic {
			mic[i] = float32(rng.NormFloat64() * 0.01)
		}
		e0 := 0.0
		for _, v := range mic {
			e0 += float64(v) * float64(v)
		}
		p.Process(mic, zero)
		if f > 200 {
			inE += e0
			for _, v := range mic {
				outE += float64(v) * float64(v)
			}
		}
	}
	if red := 10 * math.Log10(inE/outE); red < 6 {
		t.Fatalf("stationary noise reduced by %.1f dB, want >= 6", red)
	} else {
		t.Logf("noise reduced by %.1f dB", red)
	}
}

// passThrough is a processor that changes nothing.
type passThrough struct{}

func (passThrough) Process(mic, ref []float32) {}
func (passThrough) Close()                     {}

// TestNarrowbandFrames: every 16 kHz frame comes back from the 8 kHz
// processing at once (no frame of delay), a 1 kHz tone at its level and
// delayed only by the two filters, and content above 4 kHz is removed.
func TestNarrowbandFrames(t *testing.T) {
	for _, c := range []struct {
		hz   float64
		want float64 // output amplitude
	}{{1000, 0.5}, {6000, 0}} {
		n := newNarrowband(passThrough{})
		in := sine(mixRate, c.hz, 0.5, 50*mixFrame, 0)
		ref := make([]float32, mixFrame)
		out := make([]float32, 0, len(in))
		for f := 0; f < 50; f++ {
			fr := append([]float32(nil), in[f*mixFrame:(f+1)*mixFrame]...)
			n.Process(fr, ref)
			out = append(out, fr...)
		}
		tail := out[10*mixFrame:]
		if g := goertzel(tail, mixRate, c.hz); math.Abs(g-c.want) > 0.02 {
			t.Fatalf("%v Hz: amplitude %.3f after 8 kHz processing, want %.2f", c.hz, g, c.want)
		}
		if c.want == 0 {
			continue
		}
		// The delay: the lag with the best match, under 4 ms.
		best, lag := -1.0, 0
		for d := 0; d < mixRate/50; d++ {
			var acc float64
			for i := 0; i < 4*mixFrame; i++ {
				acc += float64(tail[i+d]) * float64(in[10*mixFrame+i])
			}
			if acc > best {
				best, lag = acc, d
			}
		}
		// A 1 kHz tone repeats every 16 samples: the filters' delay is
		// 22 + 2*11 = 44 samples, seen modulo the period.
		if want := (n.micDown.Delay() + 2*n.up.Delay()) % 16; lag%16 != want {
			t.Fatalf("delay %d samples (mod 16), want %d", lag%16, want)
		}
	}
}
