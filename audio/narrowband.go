package audio

// narrowRate is the processing rate for narrowband calls (G.711).
const narrowRate = 8000

// narrowband runs a processor at 8 kHz on the mix's 16 kHz frames: the
// microphone and the echo reference are decimated 2:1, processed, and the
// result interpolated back. When every call in the headset is narrowband
// (G.711), nothing above 4 kHz reaches the far end anyway, and the echo
// canceller and the preprocessor cost about half as much at 8 kHz
// (BenchmarkFrameDSP). The resamplers are primed with their delay in
// zeros, so every 20 ms frame yields exactly one frame at each rate (no
// FIFO, no waiting); they add about 3 ms to the microphone path, and the
// same to the reference, so the canceller sees both aligned as before.
type narrowband struct {
	p                processor // at 8 kHz, 20 ms frames
	micDown, refDown *Resampler
	up               *Resampler
	mic8, ref8, out  []float32
}

func newNarrowband(p processor) *narrowband {
	n := &narrowband{
		p:       p,
		micDown: NewResampler(mixRate, narrowRate),
		refDown: NewResampler(mixRate, narrowRate),
		up:      NewResampler(narrowRate, mixRate),
		mic8:    make([]float32, 0, 2*narrowRate/50),
		ref8:    make([]float32, 0, 2*narrowRate/50),
		out:     make([]float32, 0, 2*mixFrame),
	}
	for _, r := range []*Resampler{n.micDown, n.refDown, n.up} {
		r.Process(make([]float32, r.Delay()), nil)
	}
	return n
}

// Process implements processor on mixFrame samples at the mix rate.
func (n *narrowband) Process(mic, ref []float32) {
	n.mic8 = n.micDown.Process(mic, n.mic8[:0])
	n.ref8 = n.refDown.Process(ref, n.ref8[:0])
	if len(n.mic8) != narrowRate/50 || len(n.ref8) != narrowRate/50 {
		// Cannot happen with primed exact 2:1 resamplers; leave the
		// frame unprocessed rather than misalign the canceller.
		return
	}
	n.p.Process(n.mic8, n.ref8)
	n.out = n.up.Process(n.mic8, n.out[:0])
	if len(n.out) == len(mic) {
		copy(mic, n.out)
	}
}

// Close implements processor.
func (n *narrowband) Close() { n.p.Close() }
