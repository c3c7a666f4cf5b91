package audio

import (
	"math"
	"runtime"
)

func yield() { runtime.Gosched() }

func sine(rate int, freq, amp float64, n int, phase0 int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i+phase0)/float64(rate)))
	}
	return out
}

// fitSNR fits a sine of the known frequency (any phase and amplitude) to x
// by least squares and returns the ratio of its power to the residual, dB.
func fitSNR(x []float32, rate int, freq float64) float64 {
	var ss, cc, sc, xs, xc float64
	for i, v := range x {
		s := math.Sin(2 * math.Pi * freq * float64(i) / float64(rate))
		c := math.Cos(2 * math.Pi * freq * float64(i) / float64(rate))
		ss += s * s
		cc += c * c
		sc += s * c
		xs += float64(v) * s
		xc += float64(v) * c
	}
	det := ss*cc - sc*sc
	a := (xs*cc - xc*sc) / det
	b := (xc*ss - xs*sc) / det
	var sig, noise float64
	for i, v := range x {
		s := math.Sin(2 * math.Pi * freq * float64(i) / float64(rate))
		c := math.Cos(2 * math.Pi * freq * float64(i) / float64(rate))
		f := a*s + b*c
		sig += f * f
		d := float64(v) - f
		noise += d * d
	}
	return 10 * math.Log10(sig/noise)
}

// toneLevel is the amplitude of freq in x (Goertzel).
func toneLevel(x []float32, rate int, freq float64) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	coef := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + coef*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - coef*s1*s2
	return 2 * math.Sqrt(math.Max(p, 0)) / float64(len(x))
}
