package audio

import "math"

// goertzel is the amplitude of freq in x sampled at rate.
func goertzel(x []float32, rate int, freq float64) float64 {
	if len(x) == 0 {
		return 0
	}
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
