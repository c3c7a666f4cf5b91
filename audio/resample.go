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
	taps            int
	bank            [][]float32 // resamplePhases+1 filters of taps coefficients
	buf             []float32
	pos             float64 // next output position, in input samples from buf[0]
}

const (
	resampleZeros  = 10  // zero crossings of the sinc on each side
	resamplePhases = 128 // filters per input sample (linearly interpolated)
	resampleBeta   = 8.0 // Kaiser window shape
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
	r.taps = 2 * r.halfWidth
	i0b := besselI0(resampleBeta)
	kernel := func(t float64) float32 {
		t = math.Abs(t)
		if t >= hw {
			return 0
		}
		x := 2 * fc * t
		s := 1.0
		if x != 0 {
			s = math.Sin(math.Pi*x) / (math.Pi * x)
		}
		u := t / hw
		return float32(2 * fc * s * besselI0(resampleBeta*math.Sqrt(1-u*u)) / i0b)
	}
	// Filter j serves outputs at a fractional offset d = j/phases past an
	// input sample: tap k multiplies input base-halfWidth+1+k, at distance
	// d+halfWidth-1-k.
	r.bank = make([][]float32, resamplePhases+1)
	for j := range r.bank {
		d := float64(j) / resamplePhases
		f := make([]float32, r.taps)
		for k := range f {
			f[k] = kernel(d + float64(r.halfWidth-1-k))
		}
		r.bank[j] = f
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
	for int(r.pos)+r.halfWidth < len(r.buf) {
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
	base := int(c)
	jf := (c - float64(base)) * resamplePhases
	j := int(jf)
	w := float32(jf - float64(j))
	start := base - r.halfWidth + 1
	x := r.buf[start : start+r.taps]
	b0 := r.bank[j][:len(x)]
	b1 := r.bank[j+1][:len(x)]
	var a0, a1 float32
	for k, v := range x {
		a0 += v * b0[k]
		a1 += v * b1[k]
	}
	return a0 + w*(a1-a0)
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
