package audio_test

import (
	"fmt"
	"io"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/audio/audiotest"
)

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureCPU runs the engine (already started) for d and returns the
// process's CPU use in percent of one core.
func measureCPU(d time.Duration) float64 {
	c0, t0 := cpuTime(), time.Now()
	time.Sleep(d)
	return 100 * float64(cpuTime()-c0) / float64(time.Since(t0))
}

// BenchmarkCPU measures the whole process (engine, fake devices clocked in
// real time, fake network peers) while calls are routed, with the default
// settings (echo canceller, noise suppression and AGC on): one call at the
// G.711 rate, one at the Opus rate, and a five-party conference (the agent
// and four calls, mix-minus). See BenchmarkRealCPU for the same over
// PortAudio and pulseaudio.
func BenchmarkCPU(b *testing.B) {
	for _, c := range []struct {
		name  string
		rate  int
		calls int
	}{{"g711-1call", 8000, 1}, {"opus48k-1call", 48000, 1}, {"conference-5party", 8000, 4}} {
		b.Run(c.name, func(b *testing.B) {
			drv := audiotest.NewDriver()
			src := audiotest.NewSource()
			var ids []domain.CallID
			for i := 0; i < c.calls; i++ {
				id := domain.CallID(fmt.Sprintf("c%d", i))
				src.Add(id, c.rate, 300+float64(i)*200).PaceTx = true
				ids = append(ids, id)
			}
			e := audio.New(drv, src)
			defer e.Close()
			idle := measureCPU(2 * time.Second)
			e.SetAudioRoute(ids)
			time.Sleep(2 * time.Second) // streams open, buffers settle
			w0 := e.Stats().Wakes
			busy := measureCPU(5 * time.Second)
			for range b.N {
			}
			st := e.Stats()
			b.ReportMetric(busy, "cpu%")
			b.ReportMetric(busy-idle, "cpu%-over-idle")
			b.ReportMetric(float64(st.Wakes-w0)/5, "loop-wakes/s")
			b.ReportMetric(float64(st.Underruns), "underruns")
		})
	}
}

// BenchmarkMixMinus5 is the DSP cost of mixing one 20 ms frame of a
// five-party conference (agent + four calls) at 16 kHz.
func BenchmarkMixMinus5(b *testing.B) {
	const n = 320
	mic := make([]float32, n)
	far, tx := make([][]float32, 4), make([][]float32, 4)
	for i := range far {
		far[i], tx[i] = make([]float32, n), make([]float32, n)
		for s := range far[i] {
			far[i][s] = float32(0.1 * math.Sin(float64(s*(i+1))/10))
		}
	}
	spk := make([]float32, n)
	b.ReportAllocs()
	for b.Loop() {
		audio.MixMinus(mic, far, spk, tx)
	}
	perFrame := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(100*perFrame/float64(20*time.Millisecond), "cpu%-of-core")
}

// ---- latency ----

// burstDriver is a Driver whose single device timestamps what crosses it:
// the input injects a tone burst on request, the output notes when a burst
// comes out. It measures only what our pipeline adds between the device
// callbacks and CallAudio.
type burstDriver struct {
	injectAt atomic.Int64 // unix nanos when the next input burst should start (0: none)
	injected atomic.Int64 // when it was handed to the engine
	outSeen  atomic.Int64 // when a burst first came out of the output callback
}

func (d *burstDriver) Scan() ([]audio.Device, error) {
	return []audio.Device{{ID: audiotest.ID(audiotest.DefaultName), Inputs: 1, Outputs: 1, DefaultRate: 48000}}, nil
}
func (d *burstDriver) Close() error { return nil }
func (d *burstDriver) Open(cfg audio.StreamConfig) (audio.Stream, error) {
	return &burstStream{d: d, cfg: cfg, quit: make(chan struct{})}, nil
}

type burstStream struct {
	d     *burstDriver
	cfg   audio.StreamConfig
	quit  chan struct{}
	once  sync.Once
	phase int
	left  int
}

func (s *burstStream) Device() audio.DeviceID { return audiotest.ID(audiotest.DefaultName) }
func (s *burstStream) Close() error           { s.once.Do(func() { close(s.quit) }); return nil }
func (s *burstStream) Start() error {
	go func() {
		fpb := s.cfg.FramesPerBuffer
		period := time.Duration(fpb) * time.Second / time.Duration(s.cfg.Rate)
		buf := make([]float32, fpb)
		start := time.Now()
		var n int64
		tk := time.NewTicker(period)
		defer tk.Stop()
		for {
			select {
			case <-s.quit:
				return
			case <-tk.C:
			}
			for due := int64(time.Since(start) / period); n < due; n++ {
				if s.cfg.Input != nil {
					clear(buf)
					if at := s.d.injectAt.Load(); at != 0 && time.Now().UnixNano() >= at && s.left == 0 {
						s.d.injectAt.Store(0)
						s.d.injected.Store(time.Now().UnixNano())
						s.left = s.cfg.Rate / 20 // 50 ms
					}
					for i := range buf {
						if s.left > 0 {
							buf[i] = float32(0.5 * math.Sin(2*math.Pi*1000*float64(s.phase)/float64(s.cfg.Rate)))
							s.phase++
							s.left--
						}
					}
					s.cfg.Callback(buf, nil)
				} else {
					s.cfg.Callback(nil, buf)
					if s.d.outSeen.Load() == 0 {
						for _, v := range buf {
							if v > 0.1 || v < -0.1 {
								s.d.outSeen.Store(time.Now().UnixNano())
								break
							}
						}
					}
				}
			}
		}
	}()
	return nil
}

// burstCall is a CallAudio whose Rx sends a burst on request (paced like
// the network) and whose Tx notes when a burst arrives.
type burstCall struct {
	rate   int
	sendAt atomic.Int64
	sent   atomic.Int64
	txSeen atomic.Int64
	start  time.Time
	frames int64
	left   int
	phase  int
	quit   chan struct{}
}

func (c *burstCall) Read(p []byte) (int, error) {
	fs := c.rate / 50
	due := c.start.Add(time.Duration(c.frames) * 20 * time.Millisecond)
	select {
	case <-c.quit:
		return 0, io.EOF
	case <-time.After(time.Until(due)):
	}
	c.frames++
	if at := c.sendAt.Load(); at != 0 && time.Now().UnixNano() >= at && c.left == 0 {
		c.sendAt.Store(0)
		c.sent.Store(time.Now().UnixNano())
		c.left = c.rate / 20
	}
	for i := 0; i < fs; i++ {
		var v float64
		if c.left > 0 {
			v = 0.5 * math.Sin(2*math.Pi*1000*float64(c.phase)/float64(c.rate))
			c.phase++
			c.left--
		}
		s := int16(v * 32767)
		p[2*i], p[2*i+1] = byte(s), byte(uint16(s)>>8)
	}
	return 2 * fs, nil
}

func (c *burstCall) Write(p []byte) (int, error) {
	if c.txSeen.Load() == 0 {
		for i := 0; i+1 < len(p); i += 2 {
			v := int16(uint16(p[i]) | uint16(p[i+1])<<8)
			if v > 3000 || v < -3000 {
				c.txSeen.Store(time.Now().UnixNano())
				break
			}
		}
	}
	time.Sleep(time.Duration(len(p)/2) * time.Second / time.Duration(c.rate)) // paced like diago's RTP writer
	return len(p), nil
}

type burstSource struct{ c *burstCall }

func (s burstSource) CallAudio(domain.CallID) (domain.CallAudio, error) {
	return domain.CallAudio{SampleRate: s.c.rate, FrameSize: s.c.rate / 50, Rx: s.c, Tx: s.c}, nil
}
func (s burstSource) CallStats(domain.CallID) (domain.CallStats, error) {
	return domain.CallStats{}, nil
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), x...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// BenchmarkLatency measures, with a tone burst at the default settings,
// the one-way delay our pipeline adds: network reader (CallAudio.Rx) to the
// speaker callback, and microphone callback to CallAudio.Tx. It excludes
// the device's own buffering (PortAudio/ALSA/pulse: see the README of
// lab/peers for those figures) and the network.
func BenchmarkLatency(b *testing.B) {
	for _, c := range []struct {
		rate int
		proc bool
	}{{8000, true}, {48000, true}, {8000, false}} {
		rate := c.rate
		name := fmt.Sprintf("call%dHz", rate)
		set := audio.DefaultSettings()
		if !c.proc {
			name += "-noprocessing"
			set = audio.Settings{}
		}
		b.Run(name, func(b *testing.B) {
			drv := &burstDriver{}
			call := &burstCall{rate: rate, start: time.Now(), quit: make(chan struct{})}
			defer close(call.quit)
			e := audio.New(drv, burstSource{call}, audio.WithSettings(set))
			defer e.Close()
			e.SetAudioRoute([]domain.CallID{"c1"})
			time.Sleep(2 * time.Second)
			var rx, tx []float64
			for i := 0; i < 8; i++ {
				drv.outSeen.Store(0)
				call.txSeen.Store(0)
				now := time.Now().UnixNano()
				call.sendAt.Store(now)
				drv.injectAt.Store(now + int64(time.Millisecond)*300)
				time.Sleep(800 * time.Millisecond)
				if s, o := call.sent.Load(), drv.outSeen.Load(); o > s && s != 0 {
					rx = append(rx, float64(o-s)/1e6)
				}
				if in, t := drv.injected.Load(), call.txSeen.Load(); t > in && in != 0 {
					tx = append(tx, float64(t-in)/1e6)
				}
				// Let the echo canceller and AGC settle between bursts.
				time.Sleep(400 * time.Millisecond)
			}
			for range b.N {
			}
			b.ReportMetric(median(rx), "ms-rx-to-speaker")
			b.ReportMetric(median(tx), "ms-mic-to-tx")
			b.ReportMetric(float64(len(rx)), "rx-bursts")
			b.ReportMetric(float64(len(tx)), "tx-bursts")
		})
	}
}
