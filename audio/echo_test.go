package audio_test

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/audio/audiotest"
)

// echoService is a call to an echo service: what is written to Tx comes
// back on Rx delay later (or never, when mute), paced like the network.
type echoService struct {
	rate  int
	delay time.Duration
	mute  bool
	quit  chan struct{}

	mu    sync.Mutex
	q     [][]byte
	at    []time.Time
	start time.Time
	n     int
}

func (s *echoService) Write(p []byte) (int, error) {
	s.mu.Lock()
	s.q = append(s.q, append([]byte(nil), p...))
	s.at = append(s.at, time.Now())
	s.mu.Unlock()
	time.Sleep(time.Duration(len(p)/2) * time.Second / time.Duration(s.rate))
	return len(p), nil
}

func (s *echoService) Read(p []byte) (int, error) {
	fs := s.rate / 50
	s.mu.Lock()
	if s.start.IsZero() {
		s.start = time.Now()
	}
	due := s.start.Add(time.Duration(s.n) * 20 * time.Millisecond)
	s.n++
	s.mu.Unlock()
	select {
	case <-s.quit:
		return 0, io.EOF
	case <-time.After(time.Until(due)):
	}
	clear(p[:2*fs])
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.q) > 0 && time.Since(s.at[0]) >= s.delay {
		if !s.mute {
			copy(p[:2*fs], s.q[0])
		}
		s.q, s.at = s.q[1:], s.at[1:]
	}
	return 2 * fs, nil
}

type echoSource struct{ s *echoService }

func (e echoSource) CallAudio(domain.CallID) (domain.CallAudio, error) {
	return domain.CallAudio{SampleRate: e.s.rate, FrameSize: e.s.rate / 50, Rx: e.s, Tx: e.s}, nil
}
func (e echoSource) CallStats(domain.CallID) (domain.CallStats, error) {
	return domain.CallStats{}, nil
}

// TestEchoCheck: through an echo service with 200 ms of delay, and one
// that echoes at once (loopback), every burst comes back at about the sent
// level with a round trip of the service's delay plus the headset's path
// (both device buffers at least: the check once counted whole mix frames
// between the call's queues only, 20 ms on every loopback); a service that
// returns nothing is one-way audio (Heard 0); a call not in the headset is
// an error.
func TestEchoCheck(t *testing.T) {
	for _, c := range []struct {
		name  string
		delay time.Duration
		mute  bool
	}{{"echo", 200 * time.Millisecond, false}, {"loopback", 0, false}, {"one-way", 200 * time.Millisecond, true}} {
		t.Run(c.name, func(t *testing.T) {
			svc := &echoService{rate: 8000, delay: c.delay, mute: c.mute, quit: make(chan struct{})}
			defer close(svc.quit)
			drv := audiotest.NewDriver()
			drv.SetMicTone(audiotest.DefaultName, 0)
			e, _, _ := newEngine(t, drv, echoSource{svc}, audio.WithSettings(audio.Settings{}))
			e.SetAudioRoute([]domain.CallID{"c1"})
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			r, err := e.EchoCheck(ctx, "c1", 3)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", r)
			if r.Sent != 3 {
				t.Fatalf("sent %d bursts, want 3", r.Sent)
			}
			if c.mute {
				if r.Heard != 0 || r.RoundTrip != 0 {
					t.Fatalf("one-way call reported an echo: %+v", r)
				}
				return
			}
			if r.Heard != 3 || r.Level < 0.5 || r.Level > 1.5 {
				t.Fatalf("echo check %+v, want 3 bursts back at about the sent level", r)
			}
			// Both device buffers (20 ms each) are on the headset's path.
			if r.Headset < 40*time.Millisecond || r.Headset > time.Second {
				t.Fatalf("echo check %+v: headset path %v, want the device buffers (40 ms) and more", r, r.Headset)
			}
			if r.RoundTrip-r.Headset < c.delay || r.RoundTrip > c.delay+1500*time.Millisecond {
				t.Fatalf("echo check %+v, want the service's %v plus the headset path %v", r, c.delay, r.Headset)
			}
		})
	}
	// A microphone picking up a steady 1 kHz, echoed back: the line is
	// never quiet at the burst's pitch, so nothing can be measured (before,
	// every burst was "heard" one frame after it went out).
	t.Run("steady-tone", func(t *testing.T) {
		svc := &echoService{rate: 8000, delay: 100 * time.Millisecond, quit: make(chan struct{})}
		defer close(svc.quit)
		drv := audiotest.NewDriver()
		drv.SetMicTone(audiotest.DefaultName, 1000)
		e, _, _ := newEngine(t, drv, echoSource{svc}, audio.WithSettings(audio.Settings{}))
		e.SetAudioRoute([]domain.CallID{"c1"})
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		r, err := e.EchoCheck(ctx, "c1", 3)
		if !errors.Is(err, audio.ErrEchoNoisy) || r.Heard != 0 {
			t.Fatalf("echo check of a line carrying 1 kHz: %+v, %v; want ErrEchoNoisy and nothing heard", r, err)
		}
	})
	t.Run("not-routed", func(t *testing.T) {
		e, _, _ := newEngine(t, audiotest.NewDriver(), audiotest.NewSource())
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if _, err := e.EchoCheck(ctx, "nope", 2); err == nil {
			t.Fatal("echo check of a call without audio succeeded")
		}
		if _, err := e.EchoCheck(ctx, "nope", 0); err == nil {
			t.Fatal("zero bursts accepted")
		}
	})
}
