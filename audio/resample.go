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
	kernel          func(t float64) float32

	// Exact polyphase path, used while there is no drift and the ratio is
	// inRate/outRate = m/l in lowest terms with a small l: the output
	// positions are base + phase/l exactly, each served by one precomputed
	// filter (one dot product per output instead of two interpolated ones).
	l, m    int
	exact   [][]float32 // l filters, built on first use
	xBase   int         // exact position: input index ...
	xPhase  int         // ... plus xPhase/l
	inExact bool
}

const (
	resampleZeros  = 10  // zero crossings of the sinc on each side
	resamplePhases = 128 // filters per input sample (linearly interpolated)
	resampleBeta   = 8.0 // Kaiser window shape
	maxExactPhases = 512 // largest l for the exact polyphase path (16 -> 44.1 kHz: 441/160)
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
	r.kernel = kernel
	r.bank = make([][]float32, resamplePhases+1)
	for j := range r.bank {
		r.bank[j] = r.filter(float64(j) / resamplePhases)
	}
	g := gcd(inRate, outRate)
	if l := outRate / g; l <= maxExactPhases {
		r.l, r.m = l, inRate/g
	}
	r.Reset()
	return r
}

// filter is the filter for outputs at fractional offset d past an input
// sample: tap k multiplies input base-halfWidth+1+k.
func (r *Resampler) filter(d float64) []float32 {
	f := make([]float32, r.taps)
	for k := range f {
		f[k] = r.kernel(d + float64(r.halfWidth-1-k))
	}
	return f
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// Reset forgets the history (the next output starts from silence).
func (r *Resampler) Reset() {
	r.buf = make([]float32, r.halfWidth, r.halfWidth+4096)
	r.pos = float64(r.halfWidth)
	r.inExact = false
}

// Delay is the delay the filter adds, in input samples.
func (r *Resampler) Delay() int { return r.halfWidth }

// SetDrift changes the conversion ratio by ppm parts per million: positive
// values consume input faster (producing fewer output samples).
func (r *Resampler) SetDrift(ppm float64) { r.drift = ppm * 1e-6 }

// Process appends the output for in to out and returns it.
func (r *Resampler) Process(in, out []float32) []float32 {
	r.buf = append(r.buf, in...)
	if r.drift == 0 && r.l > 0 {
		return r.processExact(out)
	}
	if r.inExact { // leave the exact path where it stood
		r.inExact = false
		r.pos = float64(r.xBase) + float64(r.xPhase)/float64(r.l)
	}
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

// processExact is Process without drift for a rational ratio m/l: the
// position advances by exactly m/l input samples per output.
func (r *Resampler) processExact(out []float32) []float32 {
	if !r.inExact { // enter from the float position, snapped to the nearest phase
		r.inExact = true
		r.xBase = int(r.pos)
		r.xPhase = int(math.Round((r.pos - float64(r.xBase)) * float64(r.l)))
		if r.xPhase == r.l {
			r.xBase++
			r.xPhase = 0
		}
	}
	if r.exact == nil {
		r.exact = make([][]float32, r.l)
	}
	taps := r.taps
	for r.xBase+r.halfWidth < len(r.buf) {
		f := r.exact[r.xPhase]
		if f == nil {
			f = r.filter(float64(r.xPhase) / float64(r.l))
			r.exact[r.xPhase] = f
		}
		start := r.xBase - r.halfWidth + 1
		out = append(out, dot(r.buf[start:start+taps], f[:taps]))
		r.xPhase += r.m
		r.xBase += r.xPhase / r.l
		r.xPhase %= r.l
	}
	if drop := r.xBase - r.halfWidth - 1; drop > 0 {
		n := copy(r.buf, r.buf[drop:])
		r.buf = r.buf[:n]
		r.xBase -= drop
	}
	return out
}

// dot is the dot product of x and f (len(f) >= len(x)), four lanes wide.
func dot(x, f []float32) float32 {
	f = f[:len(x)]
	var a0, a1, a2, a3 float32
	k := 0
	for ; k+4 <= len(x); k += 4 {
		xs, fs := x[k:k+4:k+4], f[k:k+4:k+4]
		a0 += xs[0] * fs[0]
		a1 += xs[1] * fs[1]
		a2 += xs[2] * fs[2]
		a3 += xs[3] * fs[3]
	}
	for ; k < len(x); k++ {
		a0 += x[k] * f[k]
	}
	return (a0 + a1) + (a2 + a3)
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
