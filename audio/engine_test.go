package audio_test

import (
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/audio/audiotest"
)

// level is the amplitude of freq in x (Goertzel).
func level(x []float32, rate int, freq float64) float64 {
	if len(x) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / float64(rate)
	coef := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + coef*s1 - s2
		s2, s1 = s1, s0
	}
	return 2 * math.Sqrt(math.Max(s1*s1+s2*s2-coef*s1*s2, 0)) / float64(len(x))
}

func tail(x []float32, n int) []float32 {
	if len(x) < n {
		return nil
	}
	return x[len(x)-n:]
}

// eventually polls cond for up to 20 s (the machine is shared and busy).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for: %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type events struct {
	mu sync.Mutex
	ev []audio.Event
}

func (e *events) add(ev audio.Event) {
	e.mu.Lock()
	e.ev = append(e.ev, ev)
	e.mu.Unlock()
}

func (e *events) find(f func(audio.Event) bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, x := range e.ev {
		if f(x) {
			return true
		}
	}
	return false
}

func newEngine(t *testing.T, drv audio.Driver, src domain.AudioSource, opts ...audio.Option) (*audio.Engine, *audiotest.Sink, *events) {
	t.Helper()
	ev := &events{}
	opts = append([]audio.Option{audio.WithEventHandler(ev.add)}, opts...)
	e := audio.New(drv, src, opts...)
	sink := audiotest.NewSink()
	e.Attach(sink)
	t.Cleanup(func() { _ = e.Close() })
	return e, sink, ev
}

// TestCallAudioBothWays routes a G.711-rate call: the far end's 700 Hz
// reaches the speaker, the microphone's 1000 Hz reaches the call; muting
// silences the microphone only.
func TestCallAudioBothWays(t *testing.T) {
	drv := audiotest.NewDriver()
	src := audiotest.NewSource()
	call := src.Add("c1", 8000, 700)
	call.PaceTx = true
	e, _, _ := newEngine(t, drv, src, audio.WithSettings(audio.Settings{}))
	e.SetAudioRoute([]domain.CallID{"c1"})
	eventually(t, "far-end tone in the speaker", func() bool {
		return level(tail(drv.Played(audiotest.DefaultName), 48000/2), 48000, 700) > 0.1
	})
	eventually(t, "microphone tone in the call", func() bool {
		return level(tail(call.Received(), 4000), 8000, 1000) > 0.1
	})
	if l := level(tail(drv.Played(audiotest.DefaultName), 24000), 48000, 1000); l > 0.01 {
		t.Errorf("agent hears own microphone in the speaker (%.3f)", l)
	}
	e.SetMute(true)
	if !e.Levels().Muted {
		t.Fatal("levels do not say muted")
	}
	eventually(t, "silence in the call after mute", func() bool {
		return level(tail(call.Received(), 4000), 8000, 1000) < 0.005
	})
	if e.Levels().Microphone < 0.1 {
		t.Errorf("microphone meter %.3f while muted, want the real level", e.Levels().Microphone)
	}
	e.SetMute(false)
	eventually(t, "microphone back after unmute", func() bool {
		return level(tail(call.Received(), 4000), 8000, 1000) > 0.1
	})
	st := e.Stats()
	t.Logf("stats %+v", st)
	// The network writer paces itself; the queue in front of it stays short.
	if st.OutputBuffered > 200*time.Millisecond {
		t.Errorf("speaker buffer %v", st.OutputBuffered)
	}
	call.Hangup()
	e.SetAudioRoute(nil)
	eventually(t, "streams closed when idle", func() bool { return len(drv.OpenStreams()) == 0 })
}

// TestConferenceMixMinus routes three wideband calls: each hears the agent
// and the two others, never itself.
func TestConferenceMixMinus(t *testing.T) {
	drv := audiotest.NewDriver()
	src := audiotest.NewSource()
	freqs := map[domain.CallID]float64{"a": 500, "b": 1300, "c": 2100}
	calls := map[domain.CallID]*audiotest.Call{}
	for id, f := range freqs {
		calls[id] = src.Add(id, 16000, f)
	}
	e, _, _ := newEngine(t, drv, src, audio.WithSettings(audio.Settings{}))
	e.SetAudioRoute([]domain.CallID{"a", "b", "c"})
	for id, c := range calls {
		eventually(t, "call "+string(id)+" hears the agent and the others, not itself", func() bool {
			rx := tail(c.Received(), 8000)
			if level(rx, 16000, 1000) < 0.1 {
				return false
			}
			for other, f := range freqs {
				l := level(rx, 16000, f)
				if other == id && l > 0.01 || other != id && l < 0.1 {
					return false
				}
			}
			return true
		})
	}
	eventually(t, "agent hears every party", func() bool {
		played := tail(drv.Played(audiotest.DefaultName), 24000)
		for _, f := range freqs {
			if level(played, 48000, f) < 0.1 {
				return false
			}
		}
		return true
	})
}

func TestRecordingStereoWithPause(t *testing.T) {
	drv := audiotest.NewDriver()
	src := audiotest.NewSource()
	src.Add("c1", 8000, 700)
	dir := t.TempDir()
	e, sink, _ := newEngine(t, drv, src, audio.WithSettings(audio.Settings{}), audio.WithRecordingsDir(dir))
	e.SetAudioRoute([]domain.CallID{"c1"})
	eventually(t, "far end in the speaker", func() bool {
		return level(tail(drv.Played(audiotest.DefaultName), 24000), 48000, 700) > 0.1
	})
	if err := e.Record("k1", []domain.CallID{"c1"}, domain.RecordStart); err != nil {
		t.Fatal(err)
	}
	in := sink.Wait(20 * time.Second)
	started, ok := in.(domain.RecordingStarted)
	if !ok || started.Key != "k1" || filepath.Dir(started.Ref) != dir {
		t.Fatalf("got %#v, want RecordingStarted in %s", in, dir)
	}
	time.Sleep(time.Second)
	if err := e.Record("k1", []domain.CallID{"c1"}, domain.RecordPause); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := e.Record("k1", []domain.CallID{"c1"}, domain.RecordResume); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := e.Record("k1", nil, domain.RecordStop); err != nil {
		t.Fatal(err)
	}
	eventually(t, "file finished", func() bool { st, _ := os.Stat(started.Ref); return st != nil && st.Size() > 44 })
	var pcmL, pcmR []float32
	eventually(t, "file complete", func() bool {
		b, err := os.ReadFile(started.Ref)
		if err != nil || len(b) < 44 {
			return false
		}
		pcmL, pcmR = splitStereo(b[44:])
		return int(uint32(b[40])|uint32(b[41])<<8|uint32(b[42])<<16|uint32(b[43])<<24) == len(b)-44
	})
	secs := float64(len(pcmL)) / 16000
	if secs < 1.5 || secs > 3.5 {
		t.Fatalf("recorded %.2f s, want about 2 (pause excluded)", secs)
	}
	mid := pcmL[len(pcmL)/4 : 3*len(pcmL)/4]
	if l := level(mid, 16000, 1000); l < 0.1 {
		t.Errorf("left channel lacks the agent (%.3f)", l)
	}
	if l := level(pcmR[len(pcmR)/4:3*len(pcmR)/4], 16000, 700); l < 0.1 {
		t.Errorf("right channel lacks the far end (%.3f)", l)
	}
	if l := level(mid, 16000, 700); l > 0.01 {
		t.Errorf("far end leaks into the left channel (%.3f)", l)
	}
}

func splitStereo(b []byte) (l, r []float32) {
	for i := 0; i+3 < len(b); i += 4 {
		l = append(l, float32(int16(uint16(b[i])|uint16(b[i+1])<<8))/32768)
		r = append(r, float32(int16(uint16(b[i+2])|uint16(b[i+3])<<8))/32768)
	}
	return l, r
}

func TestRecordingFailuresAreReported(t *testing.T) {
	drv := audiotest.NewDriver()
	src := audiotest.NewSource()
	src.Add("c1", 8000, 700)
	// A file where the directory should be: the folder cannot be created.
	bad := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(bad, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e, sink, _ := newEngine(t, drv, src, audio.WithRecordingsDir(filepath.Join(bad, "rec")))
	if err := e.Record("k1", []domain.CallID{"c1"}, domain.RecordStart); err != nil {
		t.Fatal(err)
	}
	if in, ok := sink.Wait(20 * time.Second).(domain.RecordingFailed); !ok || in.Key != "k1" || in.Reason == "" {
		t.Fatalf("got %#v, want RecordingFailed", in)
	}
	if err := e.Record("k2", nil, domain.RecordPause); err != nil {
		t.Fatal(err)
	}
	if in, ok := sink.Wait(20 * time.Second).(domain.RecordingFailed); !ok || in.Key != "k2" {
		t.Fatalf("got %#v, want RecordingFailed for pausing nothing", in)
	}
	noDir, _, _ := newEngine(t, drv, src)
	if err := noDir.Record("k", nil, domain.RecordStart); err == nil {
		t.Fatal("recording without a directory accepted")
	}
}

func TestAnnouncement(t *testing.T) {
	drv := audiotest.NewDriver()
	src := audiotest.NewSource()
	call := src.Add("c1", 8000, 0)
	dir := t.TempDir()
	w, err := audio.CreateWAV(filepath.Join(dir, "hold.wav"), 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	tone := make([]float32, 8000)
	for i := range tone {
		tone[i] = float32(0.4 * math.Sin(2*math.Pi*440*float64(i)/8000))
	}
	if err := w.WriteStereo(tone, tone); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	drv.SetMicTone(audiotest.DefaultName, 0)
	e, sink, _ := newEngine(t, drv, src, audio.WithSettings(audio.Settings{}), audio.WithAnnouncementsDir(dir))
	e.SetAudioRoute([]domain.CallID{"c1"})
	if err := e.PlayAnnouncement("c1", "../etc/passwd"); err == nil {
		t.Fatal("path in the announcement name accepted")
	}
	if err := e.PlayAnnouncement("c1", "hold"); err != nil {
		t.Fatal(err)
	}
	var heard bool
	deadline := time.Now().Add(20 * time.Second)
	var done domain.AnnouncementDone
	for time.Now().Before(deadline) {
		if level(tail(call.Received(), 2000), 8000, 440) > 0.1 {
			heard = true
		}
		if in, ok := sink.Wait(20 * time.Millisecond).(domain.AnnouncementDone); ok {
			done = in
			break
		}
	}
	if !heard || done.ID != "c1" || done.Reason != "" {
		t.Fatalf("heard %v, done %#v", heard, done)
	}
	if err := e.PlayAnnouncement("c1", "missing"); err != nil {
		t.Fatal(err)
	}
	if in, ok := sink.Wait(20 * time.Second).(domain.AnnouncementDone); !ok || in.Reason == "" {
		t.Fatalf("got %#v, want AnnouncementDone with a reason", in)
	}
}

func TestRingerRingbackAndTones(t *testing.T) {
	drv := audiotest.NewDriver("Ringer")
	src := audiotest.NewSource()
	s := audio.Settings{Ringer: audiotest.ID("Ringer")}
	drv.SetMicTone(audiotest.DefaultName, 0)
	e, _, _ := newEngine(t, drv, src, audio.WithSettings(s))
	e.SetRinger(domain.RingerRing)
	eventually(t, "ring tone on the ringer device", func() bool {
		p := tail(drv.Played("Ringer"), 24000)
		return level(p, 48000, 440) > 0.05 && level(p, 48000, 480) > 0.05
	})
	if drv.OpenStreams()[audiotest.DefaultName] != 0 {
		t.Error("ringing opened the headset")
	}
	e.SetRinger(domain.RingerOff)
	eventually(t, "ringer stream closed", func() bool { return drv.OpenStreams()["Ringer"] == 0 })
	e.SetRingback("c1")
	eventually(t, "ringback in the headset", func() bool {
		return level(tail(drv.Played(audiotest.DefaultName), 24000), 48000, 425) > 0.05
	})
	e.SetRingback("")
	e.PlayDTMF("5")
	// The digit sounds once for 100 ms: look for it anywhere in the last
	// seconds the fake speaker kept, not only at the moment of polling.
	eventually(t, "DTMF 5 (770 + 1336 Hz) in the headset", func() bool {
		p := drv.Played(audiotest.DefaultName)
		for i := 0; i+4800 <= len(p); i += 1200 {
			w := p[i : i+4800]
			if level(w, 48000, 770) > 0.05 && level(w, 48000, 1336) > 0.05 {
				return true
			}
		}
		return false
	})
}

// TestDeviceFallbackAndVanish: a chosen headset that is missing falls back
// to the default with an event; a headset that vanishes mid-call is
// reported and the call continues on the default.
func TestDeviceFallbackAndVanish(t *testing.T) {
	drv := audiotest.NewDriver("Headset")
	src := audiotest.NewSource()
	call := src.Add("c1", 8000, 700)
	drv.Vanish("Headset")
	s := audio.Settings{Microphone: audiotest.ID("Headset"), Speaker: audiotest.ID("Headset")}
	e, _, ev := newEngine(t, drv, src, audio.WithSettings(s))
	e.SetAudioRoute([]domain.CallID{"c1"})
	eventually(t, "fallback event", func() bool {
		return ev.find(func(x audio.Event) bool {
			f, ok := x.(audio.DeviceFallback)
			return ok && f.Role == audio.RoleSpeaker && f.Wanted == audiotest.ID("Headset") && f.Using == audiotest.ID(audiotest.DefaultName)
		})
	})
	eventually(t, "far end on the default speaker", func() bool {
		return level(tail(drv.Played(audiotest.DefaultName), 24000), 48000, 700) > 0.1
	})
	// Plug the headset back and switch to it mid-call.
	drv.Plug("Headset")
	drv.SetMicTone("Headset", 1500)
	e.Refresh()
	e.ApplySettings(s)
	e.SetAudioRoute([]domain.CallID{"c1"})
	// ApplySettings with the same devices does not reopen: force it by
	// changing and restoring.
	e.ApplySettings(audio.Settings{})
	e.ApplySettings(s)
	eventually(t, "far end on the headset after switching", func() bool {
		return level(tail(drv.Played("Headset"), 24000), 48000, 700) > 0.1
	})
	eventually(t, "headset microphone in the call", func() bool {
		return level(tail(call.Received(), 4000), 8000, 1500) > 0.1
	})
	// Pull the headset mid-call.
	drv.Vanish("Headset")
	eventually(t, "device lost event", func() bool {
		return ev.find(func(x audio.Event) bool {
			l, ok := x.(audio.DeviceLost)
			return ok && l.Device == audiotest.ID("Headset")
		})
	})
	eventually(t, "call continues on the default device", func() bool {
		return level(tail(call.Received(), 4000), 8000, 1000) > 0.1 &&
			level(tail(drv.Played(audiotest.DefaultName), 24000), 48000, 700) > 0.1
	})
	if e.Stats().Reopens == 0 {
		t.Error("no reopen counted")
	}
}

// TestSlowNetworkWriterDoesNotBuildDelay: a network writer 5 % slower than
// the sound card (the naive-bridge failure: a second of delay that never
// drained) makes the engine drop frames instead of queueing them.
func TestSlowNetworkWriterDoesNotBuildDelay(t *testing.T) {
	drv := audiotest.NewDriver()
	src := audiotest.NewSource()
	call := src.Add("c1", 8000, 700)
	call.PaceTx, call.TxSlowdown = true, 0.05
	e, _, _ := newEngine(t, drv, src, audio.WithSettings(audio.Settings{}))
	e.SetAudioRoute([]domain.CallID{"c1"})
	// In 6 s a 5 % slower writer falls 300 ms behind unless frames are dropped.
	eventually(t, "frames dropped in front of the slow writer", func() bool { return e.Stats().TxDropped >= 5 })
}
