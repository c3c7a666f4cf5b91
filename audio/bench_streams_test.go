//go:build cgo && !noportaudio

package audio_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/lab/pulse"
)

// BenchmarkRealStreams is the CPU of bare PortAudio streams (ALSA -> pulse
// plugin -> the private pulseaudio) with callbacks that only touch a ring,
// no engine: the floor under BenchmarkRealCPU, per stream kind, buffer
// size and suggested latency. (A full-duplex stream, one PortAudio stream
// for both directions, was measured too: through the ALSA pulse plugin
// PortAudio's ALSA host API then spins at about 90 % of a core, so the
// engine keeps two streams.)
func BenchmarkRealStreams(b *testing.B) {
	srv := pulse.Start(b)
	srv.Setenv(b)
	for _, c := range []struct {
		in, out  bool
		fpb, lat time.Duration
	}{
		{true, false, 10 * time.Millisecond, 20 * time.Millisecond},
		{false, true, 10 * time.Millisecond, 20 * time.Millisecond},
		{true, true, 10 * time.Millisecond, 20 * time.Millisecond},
		{true, true, 20 * time.Millisecond, 20 * time.Millisecond},
		{true, true, 20 * time.Millisecond, 40 * time.Millisecond},
		{true, false, 20 * time.Millisecond, 40 * time.Millisecond},
		{false, true, 20 * time.Millisecond, 40 * time.Millisecond},
	} {
		name := fmt.Sprintf("in=%v-out=%v-fpb=%v-lat=%v", c.in, c.out, c.fpb, c.lat)
		b.Run(name, func(b *testing.B) {
			pa, err := audio.NewPortAudio()
			if err != nil {
				b.Fatal(err)
			}
			defer pa.Close()
			fpb := int(48000 * c.fpb / time.Second)
			var streams []audio.Stream
			ring := audio.NewRing(48000)
			if c.in {
				id := labMic
				s, err := pa.Open(audio.StreamConfig{Input: &id, Rate: 48000, FramesPerBuffer: fpb, Latency: c.lat,
					Callback: func(in, _ []float32) { ring.Write(in); ring.Discard(len(in)) }})
				if err != nil {
					b.Fatal(err)
				}
				streams = append(streams, s)
			}
			if c.out {
				id := labHeadset
				s, err := pa.Open(audio.StreamConfig{Output: &id, Rate: 48000, FramesPerBuffer: fpb, Latency: c.lat,
					Callback: func(_, out []float32) { clear(out) }})
				if err != nil {
					b.Fatal(err)
				}
				streams = append(streams, s)
			}
			for _, s := range streams {
				if err := s.Start(); err != nil {
					b.Fatal(err)
				}
			}
			time.Sleep(2 * time.Second)
			busy := measureCPU(5 * time.Second)
			for _, s := range streams {
				_ = s.Close()
			}
			for range b.N {
			}
			b.ReportMetric(busy, "cpu%")
		})
	}
}
