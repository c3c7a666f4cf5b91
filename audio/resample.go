package audio

import "math"

// Resampler converts a mono stream from one sample rate to another with a
// Kaiser-windowed sinc interpolator (about 90 dB of stop-band rejection). Its
// ratio can be nudged by a few hundred ppm (SetDrift) to compensate the drift
// between two clocks without an audible step. It adds halfWidth input
// samples of delay (under 2.5 ms at every supported rate pair).
//
// A Resampler is not safe for concurrent use; each stream owns its own.
type Resampler struct {
	inRate, outRate int
	step            float64 // input samples per output sample, nominal
	drift           float64 // relative adjustment of step
	halfWidth       int     // kernel half length in input samples
	table           []float32
	phases          float64 // table entries per input sample
	buf             []float32
	pos             float64 // next output position, in input samples from buf[0]
}

const (
	resampleZeros  = 16  // zero crossings of the sinc on each side
	resamplePhases = 256 // table resolution per zero crossing
	resampleBeta   = 9.0 // Kaiser window shape
)

// NewResampler returns a resampler from inRate to outRate (Hz). Equal rates
// still filter (and can follow drift).
func NewResampler(inRate, outRate int) *Resampler {
	r := &Resampler{inRate: inRate, outRate: outRate, step: float64(inRate) / float64(outRate)}
	ratio := min(1.0, float64(outRate)/float64(inRate))
	fc := 0.5 * ratio * 0.94 // cut-off in cycles per input sample
	// The kernel spans resampleZeros zero crossings of sinc(2 fc t).
	hw := float64(resampleZeros) / (2 * fc)
	r.halfWidth = int(math.Ceil(hw))
	r.phases = resamplePhases * 2 * fc
	n := int(math.Ceil(hw*r.phases)) + 2
	r.table = make([]float32, n)
	i0b := besselI0(resampleBeta)
	for i := range r.table {
		t := float64(i) / r.phases
		if t > hw {
			continue
		}
		x := 2 * fc * t
		s := 1.0
		if x != 0 {
			s = math.Sin(math.Pi*x) / (math.Pi * x)
		}
		u := t / hw
		w := besselI0(resampleBeta*math.Sqrt(1-u*u)) / i0b
		r.table[i] = float32(2 * fc * s * w)
	}
	r.Reset()
	return r
}

// Reset forgets the history (the next output starts from silence).
func (r *Resampler) Reset() {
	r.buf = make([]float32, r.halfWidth, r.halfWidth+4096)
	r.pos = float64(r.halfWidth)
}

// Delay is the delay the filter adds, in input samples.
func (r *Resampler) Delay() int { return r.halfWidth }

// SetDrift changes the conversion ratio by ppm parts per million: positive
// values consume input faster (producing fewer output samples).
func (r *Resampler) SetDrift(ppm float64) { r.drift = ppm * 1e-6 }

// Process appends the output for in to out and returns it.
func (r *Resampler) Process(in, out []float32) []float32 {
	r.buf = append(r.buf, in...)
	step := r.step * (1 + r.drift)
	hw := float64(r.halfWidth)
	for r.pos+hw < float64(len(r.buf)-1) {
		out = append(out, r.at(r.pos))
		r.pos += step
	}
	// Drop what no future output can reach.
	if drop := int(r.pos - hw - 1); drop > 0 {
		n := copy(r.buf, r.buf[drop:])
		r.buf = r.buf[:n]
		r.pos -= float64(drop)
	}
	return out
}

func (r *Resampler) at(c float64) float32 {
	lo := int(math.Ceil(c - float64(r.halfWidth)))
	hi := int(c + float64(r.halfWidth))
	lo = max(lo, 0)
	hi = min(hi, len(r.buf)-1)
	var acc float32
	tab := r.table
	for i := lo; i <= hi; i++ {
		t := c - float64(i)
		if t < 0 {
			t = -t
		}
		f := t * r.phases
		k := int(f)
		if k+1 >= len(tab) {
			continue
		}
		fr := float32(f - float64(k))
		h := tab[k] + (tab[k+1]-tab[k])*fr
		acc += r.buf[i] * h
	}
	return acc
}

func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < 1e-12*sum {
			break
		}
	}
	return sum
}
