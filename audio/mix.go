package audio

// MixMinus mixes a conference. mic is the agent's (processed) microphone
// frame and far[i] the frame received from party i; all have the same
// length. It writes the agent's speaker frame (every far end) into speaker
// and, for every party i, what party i must hear into tx[i]: the agent plus
// every other party, never itself. Sums are soft-limited so several loud
// parties do not clip hard. It never allocates.
func MixMinus(mic []float32, far [][]float32, speaker []float32, tx [][]float32) {
	for s := range speaker {
		var sum float32
		for _, f := range far {
			sum += f[s]
		}
		speaker[s] = limit(sum)
		m := mic[s]
		for i, f := range far {
			tx[i][s] = limit(m + sum - f[s])
		}
	}
}

// limit is a soft limiter: linear up to 0.9, then a smooth knee to 1.
func limit(x float32) float32 {
	const k = 0.9
	switch {
	case x > k:
		return k + (1-k)*tanh((x-k)/(1-k))
	case x < -k:
		return -k - (1-k)*tanh((-x-k)/(1-k))
	}
	return x
}

// tanh is a rational approximation, good to 2e-3 on [0, 4] and saturating.
func tanh(x float32) float32 {
	if x > 4 {
		return 1
	}
	x2 := x * x
	return x * (27 + x2) / (27 + 9*x2)
}

// addScaled adds g*src to dst.
func addScaled(dst, src []float32, g float32) {
	for i := range dst {
		dst[i] += g * src[i]
	}
}

// peak is the absolute peak of x.
func peak(x []float32) float32 {
	var p float32
	for _, v := range x {
		if v < 0 {
			v = -v
		}
		if v > p {
			p = v
		}
	}
	return p
}
