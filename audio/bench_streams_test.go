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
	const ms = time.Millisecond
	for _, c := range []struct {
		in, out  bool
		fpb, lat time.Duration // fpb 0: paFramesPerBufferUnspecified
		rate     int
	}{
		{true, false, 10 * ms, 20 * ms, 48000},
		{true, false, 20 * ms, 20 * ms, 48000}, // the engine's microphone
		{true, false, 20 * ms, 40 * ms, 48000},
		{true, false, 0, 20 * ms, 48000},
		{true, false, 20 * ms, 20 * ms, 16000},
		{false, true, 10 * ms, 20 * ms, 48000}, // the engine's speaker before this change
		{false, true, 20 * ms, 20 * ms, 48000}, // the engine's speaker
		{false, true, 20 * ms, 40 * ms, 48000},
		{false, true, 0, 20 * ms, 48000},
		{false, true, 20 * ms, 20 * ms, 16000},
		{true, true, 10 * ms, 20 * ms, 48000},
		{true, true, 20 * ms, 20 * ms, 48000},
	} {
		name := fmt.Sprintf("in=%v-out=%v-fpb=%v-lat=%v-rate=%d", c.in, c.out, c.fpb, c.lat, c.rate)
		b.Run(name, func(b *testing.B) {
			pa, err := audio.NewPortAudio()
			if err != nil {
				b.Fatal(err)
			}
			defer pa.Close()
			fpb := int(time.Duration(c.rate) * c.fpb / time.Second)
			var streams []audio.Stream
			ring := audio.NewRing(c.rate)
			if c.in {
				id := labMic
				s, err := pa.Open(audio.StreamConfig{Input: &id, Rate: c.rate, FramesPerBuffer: fpb, Latency: c.lat,
					Callback: func(in, _ []float32) { ring.Write(in); ring.Discard(len(in)) }})
				if err != nil {
					b.Fatal(err)
				}
				streams = append(streams, s)
			}
			if c.out {
				id := labHeadset
				s, err := pa.Open(audio.StreamConfig{Output: &id, Rate: c.rate, FramesPerBuffer: fpb, Latency: c.lat,
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
