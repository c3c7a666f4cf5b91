//go:build cgo && !noportaudio

package audio_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/audio/audiotest"
	"github.com/callcentre/softphone/lab/pulse"
)

// BenchmarkRealCPU is BenchmarkCPU over the real path: PortAudio -> ALSA ->
// pulse plugin -> a private pulseaudio (lab/pulse), like baresip's "pulse"
// profile in lab/peers (baresip 1.0: 1.7-2.0 % for PCMU, 2.9-3.4 % for
// Opus per process, codec and RTP included). Our figure excludes the codec
// and RTP (package sip) and includes the fake network peers.
func BenchmarkRealCPU(b *testing.B) {
	srv := pulse.Start(b)
	srv.Setenv(b)
	for _, c := range []struct {
		name  string
		rate  int
		calls int
		buf   time.Duration
	}{{"g711-1call", 8000, 1, 0}, {"g711-1call-20ms-buffers", 8000, 1, 20 * time.Millisecond},
		{"opus48k-1call", 48000, 1, 0}, {"conference-5party", 8000, 4, 0}} {
		b.Run(c.name, func(b *testing.B) {
			pa, err := audio.NewPortAudio()
			if err != nil {
				b.Fatal(err)
			}
			defer pa.Close()
			src := audiotest.NewSource()
			var ids []domain.CallID
			for i := 0; i < c.calls; i++ {
				id := domain.CallID(fmt.Sprintf("c%d", i))
				src.Add(id, c.rate, 300+float64(i)*200).PaceTx = true
				ids = append(ids, id)
			}
			s := audio.DefaultSettings()
			s.Microphone, s.Speaker = labMic, labHeadset
			opts := []audio.Option{audio.WithSettings(s)}
			if c.buf != 0 {
				opts = append(opts, audio.WithDeviceBuffer(c.buf))
			}
			e := audio.New(pa, src, opts...)
			defer e.Close()
			e.SetAudioRoute(ids)
			time.Sleep(3 * time.Second) // opening ALSA capture through pulse costs CPU once
			w0 := e.Stats().Wakes
			busy := measureCPU(5 * time.Second)
			for range b.N {
			}
			st := e.Stats()
			b.ReportMetric(float64(st.Wakes-w0)/5, "loop-wakes/s")
			b.ReportMetric(busy, "cpu%")
			b.ReportMetric(float64(st.Underruns), "underruns")
		})
	}
}
