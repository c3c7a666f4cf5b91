//go:build cgo && !noportaudio

package e2e_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/audio/audiotest"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
	"github.com/callcentre/softphone/lab/pulse"
	"github.com/callcentre/softphone/sip"
)

// stack starts a private pulseaudio, kamailio, a baresip "alice" (440 Hz)
// and our sip engine (registered as go1) with the audio engine over
// PortAudio on the lab devices: the wiring cmd/softphone does.
func stack(t testing.TB) (*pulse.Server, *baresip.Phone, *sip.Engine, *audio.Engine, *sink) {
	srv, k, alice, tel, media, events := stackK(t)
	_ = k
	return srv, alice, tel, media, events
}

func stackK(t testing.TB) (*pulse.Server, *kamailio.Server, *baresip.Phone, *sip.Engine, *audio.Engine, *sink) {
	t.Helper()
	srv := pulse.Start(t)
	srv.Setenv(t)
	k := kamailio.Start(t, kamailio.Options{})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr, ToneHz: 440})
	tel, events := startTel(t, sip.Account{User: "go1", Domain: k.Addr}, "go1-pw")
	if err := tel.Register(); err != nil {
		t.Fatal(err)
	}
	events.wait(t, "registered", func(in domain.Input) bool {
		r, ok := in.(domain.RegistrationChanged)
		return ok && r.State == domain.RegRegistered
	})
	pa, err := audio.NewPortAudio()
	if err != nil {
		t.Fatal(err)
	}
	set := audio.DefaultSettings()
	set.Microphone = audio.DeviceID{HostAPI: "ALSA", Name: "lab_mic"}
	set.Speaker = audio.DeviceID{HostAPI: "ALSA", Name: "lab_headset"}
	set.NoiseSuppress = false // the lab microphone is a steady sine
	media := audio.New(pa, tel, audio.WithSettings(set))
	media.Attach(events)
	t.Cleanup(func() { _ = media.Close(); _ = pa.Close() })
	return srv, k, alice, tel, media, events
}

// sink collects what the sip engine posts.
type sink struct {
	mu sync.Mutex
	in []domain.Input
}

// startTel starts a SIP engine for acct on 127.0.0.1, its events in the
// returned sink, closed at the end of the test.
func startTel(t testing.TB, acct sip.Account, password string) (*sip.Engine, *sink) {
	t.Helper()
	tel, err := sip.New(acct, func() (string, error) { return password, nil }, sip.WithBindHost("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	events := &sink{}
	tel.Attach(events)
	if err := tel.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Close() })
	return tel, events
}

// fakeDeviceStack is a SIP engine on 127.0.0.1 (direct calls, codec only)
// and an audio engine on fake devices (noise suppression off), both
// posting to one sink and closed at the end of the test.
func fakeDeviceStack(t testing.TB, codec string) (*sip.Engine, *audio.Engine, *audiotest.Driver, *sink) {
	t.Helper()
	tel, events := startTel(t, sip.Account{User: "go1", Domain: "127.0.0.1", Codecs: []string{codec}}, "x")
	drv := audiotest.NewDriver()
	set := audio.DefaultSettings()
	set.NoiseSuppress = false
	media := audio.New(drv, tel, audio.WithSettings(set))
	media.Attach(events)
	t.Cleanup(func() { _ = media.Close() })
	return tel, media, drv, events
}

func (s *sink) Post(in domain.Input) error {
	s.mu.Lock()
	s.in = append(s.in, in)
	s.mu.Unlock()
	return nil
}

func (s *sink) wait(t testing.TB, what string, f func(domain.Input) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for _, in := range s.in {
			if f(in) {
				s.mu.Unlock()
				return
			}
		}
		s.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestBaresipToneReachesOurSpeakerAndBack dials a real baresip (440 Hz
// microphone, recording what it receives) through kamailio with the real
// SIP engine, routes the call with the audio engine on PortAudio over a
// private pulseaudio, and checks both directions: baresip's tone comes out
// of our speaker stream (the headset sink's monitor), and the lab
// microphone's 700 Hz reaches baresip's recording.
func TestBaresipToneReachesOurSpeakerAndBack(t *testing.T) {
	srv, alice, tel, media, events := stack(t)

	id := domain.NewCallID()
	if err := tel.Dial(id, "alice"); err != nil {
		t.Fatal(err)
	}
	events.wait(t, "answer", func(in domain.Input) bool { a, ok := in.(domain.CallAnswered); return ok && a.ID == id })
	media.SetAudioRoute([]domain.CallID{id})

	deadline := time.Now().Add(20 * time.Second)
	var lvl float64
	for time.Now().Before(deadline) {
		x, err := srv.Record(context.Background(), "headset.monitor", time.Second)
		if err == nil {
			if lvl = pulse.ToneLevel(x, pulse.Rate, 440); lvl > 0.02 {
				break
			}
		}
	}
	if lvl <= 0.02 {
		t.Fatalf("baresip's 440 Hz not on our speaker (level %.4f)", lvl)
	}
	time.Sleep(2 * time.Second) // let baresip record our side
	if err := tel.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	media.SetAudioRoute(nil)
	_, recv := alice.Recordings()
	if len(recv) == 0 {
		t.Fatal("baresip recorded nothing")
	}
	pcm, rate, err := baresip.ReadWAV(recv[len(recv)-1])
	if err != nil {
		t.Fatal(err)
	}
	if sh := baresip.ToneShare(pcm[len(pcm)/2:], rate, pulse.MicTone); sh < 0.3 {
		t.Fatalf("our microphone's %d Hz share in baresip's recording = %.2f", pulse.MicTone, sh)
	}
}
