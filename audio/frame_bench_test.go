package audio

import (
	"testing"
	"time"
)

// BenchmarkFrameDSP is the signal processing of one 20 ms frame of one G.711
// call with the default settings, without devices, goroutines or the
// network: microphone 48 -> 16 kHz, echo canceller + noise suppression +
// AGC, jitter buffer, call 8 <-> 16 kHz both ways, mix, speaker 16 -> 48 kHz.
// "processing" runs the echo canceller and the preprocessor at 16 kHz,
// "processing-narrowband" at 8 kHz (what a G.711 call gets), and
// "no-processing" not at all.
func BenchmarkFrameDSP(b *testing.B) {
	for _, c := range []struct {
		name string
		rate int // processing rate, 0: none
	}{{"processing", mixRate}, {"processing-narrowband", narrowRate}, {"no-processing", 0}} {
		proc := c.rate != 0
		b.Run(c.name, func(b *testing.B) {
			micRes, spkRes := NewResampler(48000, mixRate), NewResampler(mixRate, 48000)
			rxRes, txRes := NewResampler(8000, mixRate), NewResampler(mixRate, 8000)
			jb := NewJitterBuffer(8000, 160, 20*time.Millisecond, 200*time.Millisecond)
			var p processor
			if proc {
				sp, err := newSpeex(c.rate, c.rate/50, true, true, true)
				if err != nil {
					b.Skip(err)
				}
				p = sp
				if c.rate == narrowRate {
					p = newNarrowband(sp)
				}
				defer p.Close()
			}
			dev := sine(48000, 700, 0.3, 960, 0)
			net := sine(8000, 500, 0.3, 160, 0)
			var micF, rxF, txF, spkF []float32
			far := [][]float32{make([]float32, mixFrame)}
			tx := [][]float32{make([]float32, mixFrame)}
			mic, spk, frame := make([]float32, mixFrame), make([]float32, mixFrame), make([]float32, 160)
			now := time.Now()
			var ts uint32
			b.ReportAllocs()
			for b.Loop() {
				jb.Put(ts, net, now)
				ts += 160
				now = now.Add(20 * time.Millisecond)
				micF = micRes.Process(dev, micF[:0])
				copy(mic, micF)
				for len(rxF) < mixFrame {
					jb.Get(frame)
					rxF = rxRes.Process(frame, rxF)
				}
				copy(far[0], rxF)
				rxF = rxF[:copy(rxF, rxF[mixFrame:])]
				if p != nil {
					p.Process(mic, far[0])
				}
				MixMinus(mic, far, spk, tx)
				txF = txRes.Process(tx[0], txF[:0])
				spkF = spkRes.Process(spk, spkF[:0])
			}
			b.ReportMetric(100*float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(20*time.Millisecond), "cpu%-of-core")
		})
	}
}
