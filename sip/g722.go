package sip

// G.722 (ITU-T G.722, 64 kbit/s, mode 1): sub-band ADPCM. A 24-tap QMF
// splits 16 kHz audio into a lower band (0-4 kHz) and a higher band
// (4-8 kHz), each at 8 kHz. The lower band is coded with 6 bits per
// sample, the higher band with 2; one octet carries one sample of each
// (higher band in the two most significant bits), so 20 ms of audio (320
// samples) is 160 octets. Each band has a backward-adaptive quantizer (a
// logarithmic scale factor) and a predictor of two poles and six zeros,
// updated from the quantized difference alone, so encoder and decoder
// track each other without side information. The lower band's prediction
// loop uses only the 4 most significant bits of its code (the embedded
// core that lets the 56 and 48 kbit/s modes drop bits); the 6-bit value
// only shapes the decoder's output.
//
// Written from the algorithm's description in the Recommendation; the
// tables below are the Recommendation's. PCM is 16-bit: full scale maps to
// the full 15-bit range the band signals are limited to (the QMF halves
// it), the level mapping common implementations use, so a tone keeps its
// level across a call with them. The ADPCM is bit-exact with libspandsp's
// (the implementation behind baresip's and Asterisk's G.722; checked
// during development, recorded in g722_test.go); only its wrap-around on
// overflowing output, where we saturate, differs.

import (
	"encoding/binary"
	"fmt"
)

const (
	g722FrameSamples = 320 // 20 ms at 16 kHz
	g722FrameBytes   = g722FrameSamples / 2
	g722Rate         = 16000
	// g722MaxPayload is the longest payload decoded: 120 ms.
	g722MaxPayload = 6 * g722FrameBytes
)

// qmfCoef are the 24 QMF coefficients h0..h23 scaled by 2^13 (they sum to
// 8192; h(23-i) = h(i)).
var qmfCoef = [24]int32{
	3, -11, -11, 53, 12, -156, 32, 362, -210, -805, 951, 3876,
	3876, 951, -805, -210, 362, 32, -156, 12, 53, -11, -11, 3,
}

// Lower band quantizer: decision levels (scaled by 2^12 / scale factor)
// for the magnitude intervals 1..29, and the code of each interval for a
// positive and a negative difference.
var (
	lowerDecision = [30]int32{
		0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650,
		714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919,
	}
	lowerCodePos = [31]uint8{
		0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47,
		46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32,
	}
	lowerCodeNeg = [31]uint8{
		0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,
		18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
	}
)

// lowerOut6 are the 6-bit inverse quantizer's output levels (scaled by
// 2^15 / scale factor), by code; codes 0-3 do not occur in a valid stream.
var lowerOut6 = [64]int32{
	-136, -136, -136, -136, -24808, -21904, -19008, -16704,
	-14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
	-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576,
	-3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
	24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192,
	10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
	4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032,
	1688, 1360, 1040, 728, 432, 136, -432, -136,
}

// lowerOut4 is the 4-bit inverse quantizer of the prediction loop, by the
// code's upper four bits.
var lowerOut4 = [16]int32{
	0, -20456, -12896, -8968, -6288, -4240, -2584, -1200,
	20456, 12896, 8968, 6288, 4240, 2584, 1200, 0,
}

// Lower band scale factor adaptation: the log-domain step by magnitude
// class, and the class of each 4-bit code.
var (
	lowerLogStep  = [8]int32{-60, -30, 58, 172, 334, 538, 1198, 3042}
	lowerLogClass = [16]uint8{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
)

// Higher band: output levels by 2-bit code, and the log-domain step by
// code.
var (
	higherOut     = [4]int32{-7408, -1616, 7408, 1616}
	higherLogStep = [4]int32{798, -214, 798, -214}
)

// scaleTable is 2^(i/32) scaled by 2048: the mantissa of the linear scale
// factor computed from the logarithmic one.
var scaleTable = [32]int32{
	2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599,
	2656, 2714, 2774, 2834, 2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371,
	3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
}

const (
	lowerLogMax    = 18432
	higherLogMax   = 22528
	lowerScaleExp  = 8
	higherScaleExp = 10
	initLowerScale = 32 // the scale factor for a log scale of 0
	initHigherDet  = 8
)

func sat16(v int32) int32 {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return v
}

func clamp(v, lo, hi int32) int32 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// adpcmBand is one sub-band's adaptive predictor and scale factor; the
// encoder and the decoder each keep one per band and update them the same
// way from the quantized differences.
type adpcmBand struct {
	a1, a2 int32    // pole coefficients, Q14
	b      [6]int32 // zero coefficients, Q14
	d      [6]int32 // the last six quantized differences, newest first
	p1, p2 int32    // the last two partial reconstructions (difference + zero part)
	r1, r2 int32    // the last two reconstructed signals
	sp, sz int32    // pole and zero parts of the current prediction
	logDet int32    // logarithmic scale factor
	det    int32    // linear scale factor
}

func (b *adpcmBand) reset(det int32) { *b = adpcmBand{det: det} }

// prediction is the signal estimate for the current sample.
func (b *adpcmBand) prediction() int32 { return sat16(b.sp + b.sz) }

// adaptScale updates the scale factor with a log-domain step; the new
// factor applies from the next sample. maxLog bounds the log scale and
// exp is the band's exponent offset.
func (b *adpcmBand) adaptScale(step, maxLog, exp int32) {
	b.logDet = clamp((b.logDet*127)>>7+step, 0, maxLog)
	mant := scaleTable[(b.logDet>>6)&31]
	shift := exp - b.logDet>>11
	if shift >= 0 {
		mant >>= shift
	} else {
		mant <<= -shift
	}
	b.det = mant << 2
}

// update adapts the predictor to the quantized difference d of the
// current sample and computes the prediction of the next one. It returns
// the reconstructed signal of the current sample.
func (b *adpcmBand) update(d int32) int32 {
	r := sat16(b.prediction() + d)
	p := sat16(d + b.sz)
	neg, neg1, neg2 := p < 0, b.p1 < 0, b.p2 < 0

	// Second pole: a leak of 2^-7, plus 2^-7 times the sign agreement
	// with two samples ago, minus 2^-7 times f(a1) (4*a1, saturated) times
	// the agreement with the previous sample.
	f := sat16(b.a1 * 4)
	if neg == neg1 {
		f = sat16(-f) // 16-bit: -(-32768) is 32767
	}
	agree2 := int32(128)
	if neg != neg2 {
		agree2 = -128
	}
	a2 := clamp(f>>7+agree2+(b.a2*32512)>>15, -12288, 12288)

	// First pole: a leak of 2^-8 plus 3*2^-8 times the sign agreement,
	// bounded by 1 - 2^-4 - a2 for stability.
	agree1 := int32(192)
	if neg != neg1 {
		agree1 = -192
	}
	lim := 15360 - a2
	a1 := clamp(agree1+(b.a1*32640)>>15, -lim, lim)
	b.a1, b.a2 = a1, a2

	// Zeros: a leak of 2^-8 plus 2^-7 times the sign agreement of the
	// difference with each past difference (nothing for a zero one).
	var g int32
	if d != 0 {
		g = 128
	}
	for i := range b.b {
		gi := g
		if (d < 0) != (b.d[i] < 0) {
			gi = -g
		}
		b.b[i] = gi + (b.b[i]*32640)>>15
	}
	copy(b.d[1:], b.d[:5])
	b.d[0] = d
	b.p2, b.p1 = b.p1, p
	b.r2, b.r1 = b.r1, r

	// The next prediction: poles on past reconstructed signals, zeros on
	// past differences.
	sp := (a1*sat16(2*b.r1))>>15 + (a2*sat16(2*b.r2))>>15
	b.sp = sat16(sp)
	var sz int32
	for i := range b.b {
		sz += (b.b[i] * sat16(2*b.d[i])) >> 15
	}
	b.sz = sat16(sz)
	return r
}

// g722Encoder encodes 16 kHz 16-bit PCM; it is not safe for concurrent
// use. The zero value is not ready: use newG722Encoder.
type g722Encoder struct {
	x      [24]int32 // QMF input history, newest first
	lo, hi adpcmBand
}

func newG722Encoder() *g722Encoder {
	e := &g722Encoder{}
	e.reset()
	return e
}

// reset returns the encoder to its initial state (a new call).
func (e *g722Encoder) reset() {
	e.x = [24]int32{}
	e.lo.reset(initLowerScale)
	e.hi.reset(initHigherDet)
}

// encode appends the codes of pcm (an even number of samples) to dst.
func (e *g722Encoder) encode(dst []byte, pcm []int16) ([]byte, error) {
	if len(pcm)%2 != 0 {
		return dst, fmt.Errorf("%w: g722 needs sample pairs, got %d samples", ErrCodec, len(pcm))
	}
	for j := 0; j < len(pcm); j += 2 {
		copy(e.x[2:], e.x[:22])
		e.x[1], e.x[0] = int32(pcm[j]), int32(pcm[j+1])
		// Transmit QMF: the even taps on the newest sample and every
		// second one before, the odd taps on the others; their sum is the
		// lower band, their difference the higher band (taps scaled by
		// 2^13, and the bands at half the PCM's scale).
		var even, odd int32
		for i := 0; i < 24; i += 2 {
			even += qmfCoef[i] * e.x[i]
			odd += qmfCoef[i+1] * e.x[i+1]
		}
		xl := (even + odd) >> 14
		xh := (even - odd) >> 14
		code := e.encodeLower(xl) | e.encodeHigher(xh)<<6
		dst = append(dst, code)
	}
	return dst, nil
}

func (e *g722Encoder) encodeLower(xl int32) uint8 {
	b := &e.lo
	el := sat16(xl - b.prediction())
	mag := el
	if el < 0 {
		mag = -(el + 1)
	}
	// The interval: the first decision level above mag (levels 1..29
	// rise with m), 30 when none is; a binary search.
	lo, hi := 1, 30
	for lo < hi {
		m := (lo + hi) / 2
		if mag < (lowerDecision[m]*b.det)>>12 {
			hi = m
		} else {
			lo = m + 1
		}
	}
	m := lo
	code := lowerCodePos[m]
	if el < 0 {
		code = lowerCodeNeg[m]
	}
	core := code >> 2
	d := (b.det * lowerOut4[core]) >> 15
	b.adaptScale(lowerLogStep[lowerLogClass[core]], lowerLogMax, lowerScaleExp)
	b.update(d)
	return code
}

func (e *g722Encoder) encodeHigher(xh int32) uint8 {
	b := &e.hi
	eh := sat16(xh - b.prediction())
	mag := eh
	if eh < 0 {
		mag = -(eh + 1)
	}
	large := mag >= (564*b.det)>>12
	var code uint8
	switch {
	case eh >= 0 && large:
		code = 2
	case eh >= 0:
		code = 3
	case large:
		code = 0
	default:
		code = 1
	}
	d := (b.det * higherOut[code]) >> 15
	b.adaptScale(higherLogStep[code], higherLogMax, higherScaleExp)
	b.update(d)
	return code
}

// g722Decoder decodes G.722 to 16 kHz 16-bit PCM; it is not safe for
// concurrent use. The zero value is not ready: use newG722Decoder.
type g722Decoder struct {
	xd, xs [12]int32 // receive QMF histories (lower - higher, lower + higher), newest first
	lo, hi adpcmBand
}

func newG722Decoder() *g722Decoder {
	d := &g722Decoder{}
	d.reset()
	return d
}

// reset returns the decoder to its initial state (a new call).
func (d *g722Decoder) reset() {
	d.xd, d.xs = [12]int32{}, [12]int32{}
	d.lo.reset(initLowerScale)
	d.hi.reset(initHigherDet)
}

// decode appends two samples per code octet to dst.
func (d *g722Decoder) decode(dst []int16, codes []byte) []int16 {
	for _, c := range codes {
		rl := d.decodeLower(c & 0x3f)
		rh := d.decodeHigher(c >> 6)
		copy(d.xd[1:], d.xd[:11])
		copy(d.xs[1:], d.xs[:11])
		d.xd[0], d.xs[0] = rl-rh, rl+rh
		// Receive QMF: the even taps on lower - higher give the first
		// sample, the odd taps on lower + higher the second; the QMF's
		// gain of 2 and the bands' half scale make the shift 11.
		var s0, s1 int32
		for i := 0; i < 12; i++ {
			s0 += qmfCoef[2*i] * d.xd[i]
			s1 += qmfCoef[2*i+1] * d.xs[i]
		}
		dst = append(dst, int16(sat16(s0>>11)), int16(sat16(s1>>11)))
	}
	return dst
}

func (d *g722Decoder) decodeLower(code uint8) int32 {
	b := &d.lo
	core := code >> 2
	dq := (b.det * lowerOut4[core]) >> 15
	out := (b.det * lowerOut6[code]) >> 15
	rl := clamp(b.prediction()+out, -16384, 16383)
	b.adaptScale(lowerLogStep[lowerLogClass[core]], lowerLogMax, lowerScaleExp)
	b.update(dq)
	return rl
}

func (d *g722Decoder) decodeHigher(code uint8) int32 {
	b := &d.hi
	dq := (b.det * higherOut[code]) >> 15
	b.adaptScale(higherLogStep[code], higherLogMax, higherScaleExp)
	rh := b.update(dq)
	return clamp(rh, -16384, 16383)
}

// g722Tx is the frameEncoder of a G.722 call: 20 ms (320 samples at
// 16 kHz) into 160 octets.
type g722Tx struct {
	enc *g722Encoder
	pcm []int16
}

func newG722Tx() *g722Tx {
	return &g722Tx{enc: newG722Encoder(), pcm: make([]int16, g722FrameSamples)}
}

func (t *g722Tx) frameSamples() int { return g722FrameSamples }

func (t *g722Tx) encode(pcm []byte, out []byte) (int, error) {
	if len(pcm) != 2*g722FrameSamples {
		return 0, fmt.Errorf("%w: g722 frame of %d bytes, want %d", ErrCodec, len(pcm), 2*g722FrameSamples)
	}
	if len(out) < g722FrameBytes {
		return 0, fmt.Errorf("%w: g722 output room of %d bytes", ErrCodec, len(out))
	}
	for i := range t.pcm {
		t.pcm[i] = int16(binary.LittleEndian.Uint16(pcm[2*i:]))
	}
	enc, err := t.enc.encode(out[:0], t.pcm)
	if err != nil {
		return 0, err
	}
	return len(enc), nil
}

// close resets the state: nothing is held outside the Go heap.
func (t *g722Tx) close() { t.enc.reset() }

// g722Rx is the frameDecoder of a G.722 call. Any whole number of octets
// up to 120 ms is a valid payload (each is one sample pair); an empty or
// longer payload is refused. A duplicate or late packet is refused too:
// decoding it would feed the adaptive state out of order and garble the
// following audio. G.722 has no loss concealment of its own; a gap is
// left to the audio engine's jitter buffer, like G.711's.
type g722Rx struct {
	dec     *g722Decoder
	pcm     []int16
	lastSeq uint16
	haveSeq bool
}

func newG722Rx() *g722Rx {
	return &g722Rx{dec: newG722Decoder(), pcm: make([]int16, 0, 2*g722MaxPayload)}
}

func (r *g722Rx) decode(seq uint16, payload []byte, dst []byte) ([]byte, int, error) {
	if len(payload) == 0 || len(payload) > g722MaxPayload {
		return dst, 0, fmt.Errorf("%w: g722 payload of %d bytes (1 to %d)", ErrCodec, len(payload), g722MaxPayload)
	}
	if r.haveSeq {
		if gap := seq - r.lastSeq; gap == 0 || gap >= 0x8000 {
			return dst, 0, fmt.Errorf("%w: late g722 packet", ErrCodec)
		}
	}
	r.lastSeq, r.haveSeq = seq, true
	r.pcm = r.dec.decode(r.pcm[:0], payload)
	return appendPCM(dst, r.pcm), 0, nil
}

// close resets the state: nothing is held outside the Go heap.
func (r *g722Rx) close() {
	r.dec.reset()
	r.haveSeq = false
}
