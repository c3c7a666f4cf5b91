package sip

import (
	"encoding/binary"
	"io"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
)

func isAnswered(id domain.CallID) func(domain.Input) bool {
	return func(in domain.Input) bool { a, ok := in.(domain.CallAnswered); return ok && a.ID == id }
}

func isEnded(id domain.CallID) func(domain.Input) bool {
	return func(in domain.Input) bool { a, ok := in.(domain.CallEnded); return ok && a.ID == id }
}

func isFailed(id domain.CallID) func(domain.Input) bool {
	return func(in domain.Input) bool { a, ok := in.(domain.CallFailed); return ok && a.ID == id }
}

func isOffered(in domain.Input) bool { _, ok := in.(domain.CallOffered); return ok }

// isRemoteHold matches the far end holding (on) or resuming call id.
func isRemoteHold(id domain.CallID, on bool) func(domain.Input) bool {
	return func(in domain.Input) bool { h, ok := in.(domain.RemoteHold); return ok && h.ID == id && h.On == on }
}

// lab is kamailio plus our engine registered as go1.
func registeredEngine(t *testing.T, k *kamailio.Server, user, password string, opts ...Option) (*Engine, *sink) {
	t.Helper()
	e, s := startEngine(t, Account{User: user, DisplayName: "Agent " + user, Domain: k.Addr}, password, opts...)
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "registered", 10*time.Second, isReg(domain.RegRegistered))
	return e, s
}

// readPCM reads about d of PCM from r.
func readPCM(t *testing.T, r io.Reader, d time.Duration) []int16 {
	t.Helper()
	want := int(d.Seconds() * 8000 * 2)
	buf := make([]byte, 0, want)
	tmp := make([]byte, 320)
	deadline := time.Now().Add(d + 10*time.Second)
	for len(buf) < want && time.Now().Before(deadline) {
		n, err := r.Read(tmp)
		if err != nil {
			t.Fatalf("read rx: %v", err)
		}
		buf = append(buf, tmp[:n]...)
	}
	out := make([]int16, len(buf)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(buf[2*i:]))
	}
	return out
}

// sendTone writes a sine at hz to w until stop is set.
func sendTone(w io.Writer, hz int, stop *atomic.Bool) {
	frame := make([]byte, 320)
	n := 0
	for !stop.Load() {
		for i := 0; i < 160; i++ {
			v := int16(8000 * math.Sin(2*math.Pi*float64(hz)*float64(n)/8000))
			binary.LittleEndian.PutUint16(frame[2*i:], uint16(v))
			n++
		}
		if _, err := w.Write(frame); err != nil {
			return
		}
	}
}

// TestOutboundCallAudioBothWays dials baresip through kamailio (407 proxy
// auth), checks baresip's 440 Hz tone in our received PCM and our 1000 Hz
// tone in baresip's recording, and hangs up.
func TestOutboundCallAudioBothWays(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr, ToneHz: 440})
	e, s := registeredEngine(t, k, "go1", "go1-pw")

	id := domain.NewCallID()
	if err := e.Dial(id, "alice"); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answer", 15*time.Second, isAnswered(id))
	if _, err := alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ca, err := e.CallAudio(id)
	if err != nil {
		t.Fatal(err)
	}
	if ca.SampleRate != 8000 || ca.FrameSize != 160 {
		t.Errorf("audio format %d Hz / %d", ca.SampleRate, ca.FrameSize)
	}
	var stop atomic.Bool
	go sendTone(ca.Tx, 1000, &stop)
	readPCM(t, ca.Rx, 300*time.Millisecond) // skip the start
	pcm := readPCM(t, ca.Rx, 1500*time.Millisecond)
	if sh := baresip.ToneShare(pcm, 8000, 440); sh < 0.6 {
		t.Errorf("440 Hz share in our received audio = %.2f", sh)
	}
	st, err := e.CallStats(id)
	if err != nil || st.PacketsReceived < 50 || st.PacketsSent < 50 || st.Codec != "PCMU" {
		t.Errorf("stats %+v, %v", st, err)
	}
	stop.Store(true)
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	peerHeard(t, alice, 1000)
	s.none(t, "CallEnded after a local hangup", isEnded(id))
}

// peerHeard finds a hz tone (ours) in baresip's latest recording of what
// it received, a call it is still in or has just closed, and returns the
// recording.
func peerHeard(t *testing.T, peer *baresip.Phone, hz int) (pcm []int16, rate int) {
	t.Helper()
	_, recv := peer.Recordings()
	if len(recv) == 0 {
		t.Fatalf("baresip recorded nothing\nlog:\n%s", peer.Log())
	}
	in, rate, err := baresip.ReadWAV(recv[len(recv)-1])
	if err != nil {
		t.Fatal(err)
	}
	if rate < 2*hz {
		t.Fatalf("baresip recorded at %d Hz: too low for a %d Hz tone", rate, hz)
	}
	sh := baresip.ToneShare(in, rate, hz)
	t.Logf("%d Hz share in baresip's recording (%d Hz): %.2f", hz, rate, sh)
	if sh < 0.6 {
		t.Errorf("%d Hz share in baresip's recording = %.2f (%d samples at %d Hz)", hz, sh, len(in), rate)
	}
	return in, rate
}

// TestInboundCallAnswerAndRemoteHangup: baresip calls go1 through
// kamailio; the offer names the caller; we answer; baresip hangs up.
func TestInboundCallAnswerAndRemoteHangup(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr, ToneHz: 440})
	e, s := registeredEngine(t, k, "go1", "go1-pw")
	if _, err := alice.Command("dial", "sip:go1@"+k.Addr); err != nil {
		t.Fatal(err)
	}
	off := s.wait(t, "offer", 15*time.Second, isOffered).(domain.CallOffered)
	if off.Remote.Number != "alice" || off.DialedNumber != "go1" {
		t.Errorf("offer %+v", off)
	}
	if err := e.Answer(off.ID); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answered", 10*time.Second, isAnswered(off.ID))
	if _, err := alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ca, err := e.CallAudio(off.ID)
	if err != nil {
		t.Fatal(err)
	}
	pcm := readPCM(t, ca.Rx, time.Second)
	if sh := baresip.ToneShare(pcm, 8000, 440); sh < 0.6 {
		t.Errorf("440 Hz share = %.2f", sh)
	}
	if _, err := alice.Command("hangup", ""); err != nil {
		t.Fatal(err)
	}
	ev := s.wait(t, "ended", 10*time.Second, isEnded(off.ID)).(domain.CallEnded)
	if ev.Cause != domain.CauseRemoteHangup {
		t.Errorf("cause %v", ev.Cause)
	}
	if _, err := e.CallAudio(off.ID); err == nil {
		t.Error("audio of an ended call")
	}
}

// TestInboundCancelIsMissed: the caller gives up while we ring.
func TestInboundCancelIsMissed(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr})
	_, s := registeredEngine(t, k, "go1", "go1-pw")
	if _, err := alice.Command("dial", "sip:go1@"+k.Addr); err != nil {
		t.Fatal(err)
	}
	off := s.wait(t, "offer", 15*time.Second, isOffered).(domain.CallOffered)
	if _, err := alice.Command("hangup", ""); err != nil {
		t.Fatal(err)
	}
	ev := s.wait(t, "ended", 10*time.Second, isEnded(off.ID)).(domain.CallEnded)
	if ev.Cause != domain.CauseMissed {
		t.Errorf("cause %v", ev.Cause)
	}
}

// TestInboundRejectAndRedirect: 486 and 603 reach the caller; a redirect
// sends baresip on to bob.
func TestInboundRejectAndRedirect(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr})
	bob := baresip.Start(t, baresip.Options{User: "bob", Password: "bob-pw", Registrar: k.Addr})
	e, s := registeredEngine(t, k, "go1", "go1-pw")
	for _, code := range []int{486, 603} {
		if _, err := alice.Command("dial", "sip:go1@"+k.Addr); err != nil {
			t.Fatal(err)
		}
		off := s.wait(t, "offer", 15*time.Second, isOffered).(domain.CallOffered)
		if err := e.Reject(off.ID, code); err != nil {
			t.Fatal(err)
		}
		ev, err := alice.WaitEvent("CALL_CLOSED", 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ev.Param, strconv.Itoa(code)) {
			t.Errorf("baresip closed with %q, want %d", ev.Param, code)
		}
		s.none(t, "event for a rejected call", isEnded(off.ID))
	}
	if _, err := alice.Command("dial", "sip:go1@"+k.Addr); err != nil {
		t.Fatal(err)
	}
	off := s.wait(t, "offer", 15*time.Second, isOffered).(domain.CallOffered)
	if err := e.Redirect(off.ID, "sip:bob@"+k.Addr); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.WaitEvent("CALL_ESTABLISHED", 15*time.Second); err != nil {
		t.Fatalf("redirected call did not reach bob: %v\n%s", err, alice.Log())
	}
}
