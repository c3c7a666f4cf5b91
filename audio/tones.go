package audio

import "math"

// Tone names a locally generated tone.
type Tone uint8

// Tone values.
const (
	ToneNone     Tone = 0
	ToneRing     Tone = 1 // ringtone on the ringer device: 440+480 Hz, 2 s on, 4 s off
	ToneRingback Tone = 2 // local ringback: 425 Hz, 1 s on, 4 s off
	ToneWaiting  Tone = 3 // call-waiting beep in the headset: 440 Hz, 0.3 s every 5 s
	ToneBusy     Tone = 4 // busy: 425 Hz, 0.5 s on, 0.5 s off, three times
	ToneTest     Tone = 5 // speaker test: 1 kHz, continuous
)

// String names the tone.
func (t Tone) String() string {
	switch t {
	case ToneNone:
		return "none"
	case ToneRing:
		return "ring"
	case ToneRingback:
		return "ringback"
	case ToneWaiting:
		return "waiting"
	case ToneBusy:
		return "busy"
	case ToneTest:
		return "test"
	}
	return "tone(?)"
}

type toneSeg struct {
	f1, f2 float64 // Hz (0: silence)
	dur    float64 // seconds
}

type toneGen struct {
	segs   []toneSeg
	repeat int // 0: forever
	rate   int
	gain   float32
	seg    int
	pos    int // sample within segment
	loops  int
	done   bool
}

func newTone(t Tone, rate int) *toneGen {
	g := &toneGen{rate: rate, gain: 0.25}
	switch t {
	case ToneRing:
		g.segs = []toneSeg{{440, 480, 2}, {0, 0, 4}}
		g.gain = 0.4
	case ToneRingback:
		g.segs = []toneSeg{{425, 0, 1}, {0, 0, 4}}
	case ToneWaiting:
		g.segs = []toneSeg{{440, 0, 0.3}, {0, 0, 4.7}}
	case ToneBusy:
		g.segs = []toneSeg{{425, 0, 0.5}, {0, 0, 0.5}}
		g.repeat = 3
	case ToneTest:
		g.segs = []toneSeg{{1000, 0, 1}}
		g.gain = 0.3
	default:
		g.done = true
	}
	return g
}

// dtmfFreqs are the row and column frequencies of a DTMF digit.
func dtmfFreqs(d rune) (float64, float64, bool) {
	rows := [4]float64{697, 770, 852, 941}
	cols := [4]float64{1209, 1336, 1477, 1633}
	keys := [4]string{"123A", "456B", "789C", "*0#D"}
	for r, k := range keys {
		for c, x := range k {
			if x == d || (d >= 'a' && d <= 'd' && x == d-32) {
				return rows[r], cols[c], true
			}
		}
	}
	return 0, 0, false
}

// newDTMF is 100 ms of each digit with 50 ms gaps; unknown characters are skipped.
func newDTMF(digits string, rate int) *toneGen {
	g := &toneGen{rate: rate, gain: 0.2, repeat: 1}
	for _, d := range digits {
		if f1, f2, ok := dtmfFreqs(d); ok {
			g.segs = append(g.segs, toneSeg{f1, f2, 0.1}, toneSeg{0, 0, 0.05})
		}
	}
	g.done = len(g.segs) == 0
	return g
}

// mix adds the next len(out) samples of the tone into out.
func (g *toneGen) mix(out []float32) {
	for i := range out {
		if g.done {
			return
		}
		s := g.segs[g.seg]
		if s.f1 != 0 {
			t := float64(g.pos) / float64(g.rate)
			v := math.Sin(2 * math.Pi * s.f1 * t)
			if s.f2 != 0 {
				v = (v + math.Sin(2*math.Pi*s.f2*t)) / 2
			}
			out[i] += g.gain * float32(v)
		}
		g.pos++
		if g.pos >= int(s.dur*float64(g.rate)) {
			g.pos = 0
			g.seg++
			if g.seg == len(g.segs) {
				g.seg = 0
				g.loops++
				if g.repeat > 0 && g.loops >= g.repeat {
					g.done = true
				}
			}
		}
	}
}
