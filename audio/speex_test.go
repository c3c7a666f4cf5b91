//go:build cgo

package audio

import (
	"math"
	"math/rand"
	"testing"
)

// TestEchoCancellerERLE sends a speech-band noise signal through a
// synthetic room (40 ms delay plus a decaying reflection tail) into the
// microphone and requires the echo to come out at least 20 dB quieter
// once the canceller has converged.
func TestEchoCancellerERLE(t *testing.T) {
	p, err := newSpeex(mixRate, mixFrame, true, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
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
