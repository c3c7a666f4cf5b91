package sip

import (
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/sipp"
)

// g722Tones are the frequencies of the G.722 calls: both lie in the
// higher band (4-8 kHz), which only a wideband call carries.
const (
	g722ToneTheirs = 5000
	g722ToneOurs   = 6000
)

// TestG722CallWithBaresip places a call to baresip (its g722 module, the
// account allowing G722 only: baresip names it G722/16000/1 in its
// settings, by its audio rate) and takes one from it, each offering and
// answering G.722 alone: CallAudio is 16 kHz in 20 ms frames of 320
// samples, baresip's 5 kHz tone is found in our received PCM and our
// 6 kHz tone in baresip's recording. Both tones are above 4 kHz, so they
// cross only if the wideband coding works both ways, at the peers' level
// mapping and RTP clock.
func TestG722CallWithBaresip(t *testing.T) {
	t.Run("outbound", func(t *testing.T) {
		alice := baresip.Start(t, baresip.Options{User: "alice", ToneHz: g722ToneTheirs, Codecs: "G722/16000/1",
			Modules: []string{"g722.so"}})
		e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", Codecs: []string{"G722"}}, "x")
		id := domain.NewCallID()
		if err := e.Dial(id, alice.URI); err != nil {
			t.Fatal(err)
		}
		s.wait(t, "answer", 20*time.Second, isAnswered(id))
		if _, err := alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		g722TonesBothWays(t, e, id, alice)
		if err := e.Hangup(id); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		g722CheckRecording(t, alice)
	})
	t.Run("inbound", func(t *testing.T) {
		bob := baresip.Start(t, baresip.Options{User: "bob", ToneHz: g722ToneTheirs, Codecs: "G722/16000/1",
			Modules: []string{"g722.so"}})
		// PCMU first: the answer still has G722, the only one offered.
		e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", AllowDirectCalls: true,
			Codecs: []string{"PCMU", "G722"}}, "x")
		if _, err := bob.Command("dial", "sip:go1@"+e.LocalAddr()); err != nil {
			t.Fatal(err)
		}
		offered := s.wait(t, "offer", 20*time.Second, isOffered).(domain.CallOffered)
		if err := e.Answer(offered.ID); err != nil {
			t.Fatal(err)
		}
		s.wait(t, "answer", 20*time.Second, isAnswered(offered.ID))
		if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
			t.Fatalf("%v\nbaresip log:\n%s", err, bob.Log())
		}
		g722TonesBothWays(t, e, offered.ID, bob)
		if err := e.Hangup(offered.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		g722CheckRecording(t, bob)
	})
}

// TestG722InboundOffers: an offer of PCMU, G722 and telephone-event to a
// G722-only account is answered with G722 at payload type 9 alone (plus
// telephone-event) and its rtpmap at clock 8000; the call's PCM is
// 16 kHz. A G722-only offer to an account without it is refused with 488
// and never rings. (With both in common, the answer keeps the offer's
// order, as RFC 3264 §6.1 recommends, so the offerer's first choice is
// the call's codec.)
func TestG722InboundOffers(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", AllowDirectCalls: true, Codecs: []string{"G722"}}, "x")
	uac := sipp.Start(t, uacOffer("m=audio [media_port] RTP/AVP 0 9 101\na=rtpmap:0 PCMU/8000\na=rtpmap:9 G722/8000\na=rtpmap:101 telephone-event/8000",
		"200", `m=audio [0-9]+ RTP/AVP 9( 101)?[[:space:]]`), "-m", "1", e.LocalAddr())
	off := s.wait(t, "offer", 15*time.Second, isOffered).(domain.CallOffered)
	if err := e.Answer(off.ID); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answered", 15*time.Second, isAnswered(off.ID))
	ca, err := e.CallAudio(off.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ca.SampleRate != 16000 || ca.FrameSize != 320 {
		t.Errorf("audio format %d Hz / %d", ca.SampleRate, ca.FrameSize)
	}
	s.wait(t, "ended", 15*time.Second, isEnded(off.ID))
	if err := uac.Wait(15 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, uac.Messages())
	}
	if !strings.Contains(uac.Messages(), "a=rtpmap:9 G722/8000") {
		t.Errorf("answer without the G722 rtpmap:\n%s", uac.Messages())
	}

	e2, s2 := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", AllowDirectCalls: true}, "x")
	uac2 := sipp.Start(t, uacOffer("m=audio [media_port] RTP/AVP 9 101\na=rtpmap:9 G722/8000\na=rtpmap:101 telephone-event/8000", "488", ""),
		"-m", "1", e2.LocalAddr())
	if err := uac2.Wait(15 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, uac2.Messages())
	}
	s2.none(t, "offer of a G722-only call to a G.711 account", isOffered)
}

// g722TonesBothWays checks a connected G.722 call's audio format, sends
// our tone for a while and finds the far end's in what we receive.
func g722TonesBothWays(t *testing.T, e *Engine, id domain.CallID, peer *baresip.Phone) {
	t.Helper()
	ca, err := e.CallAudio(id)
	if err != nil {
		t.Fatal(err)
	}
	if ca.SampleRate != 16000 || ca.FrameSize != 320 {
		t.Fatalf("audio format %d Hz / %d samples, want 16000 / 320\n%s", ca.SampleRate, ca.FrameSize, peer.Log())
	}
	var stop atomic.Bool
	defer stop.Store(true)
	go sendToneAt(ca.Tx, 16000, g722ToneOurs, &stop)
	rxDone := make(chan []int16, 1)
	go func() {
		readPCMAt(t, ca.Rx, 16000, 300*time.Millisecond) // skip the start
		rxDone <- readPCMAt(t, ca.Rx, 16000, 1500*time.Millisecond)
		buf := make([]byte, 640)
		for {
			if _, err := ca.Rx.Read(buf); err != nil {
				return
			}
		}
	}()
	var pcm []int16
	select {
	case pcm = <-rxDone:
	case <-time.After(40 * time.Second):
		t.Fatalf("no audio received\nbaresip log:\n%s", peer.Log())
	}
	sh := baresip.ToneShare(pcm, 16000, g722ToneTheirs)
	t.Logf("%d Hz share in our received audio: %.2f", g722ToneTheirs, sh)
	if sh < 0.6 {
		t.Errorf("%d Hz share in our received 16 kHz audio = %.2f", g722ToneTheirs, sh)
	}
	// baresip's tone file is a sine at 0.3 of full scale.
	checkLevel(t, "baresip's tone as we decode it", medianRMS(pcm, 16000), 0.3*32767/math.Sqrt2)
	st, err := e.CallStats(id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(st.Codec, "G722") || st.PacketsReceived < 50 || st.PacketsSent < 50 {
		t.Errorf("stats %+v, want G722 with at least 50 packets each way", st)
	}
}

// g722CheckRecording finds our tone in what the peer recorded of the
// call it has just closed.
func g722CheckRecording(t *testing.T, peer *baresip.Phone) {
	t.Helper()
	if !strings.Contains(peer.Log(), "G722") {
		t.Errorf("baresip's log does not mention G722:\n%s", peer.Log())
	}
	in, rate := peerHeard(t, peer, g722ToneOurs)
	// tonePCM's sine has an amplitude of 8000.
	checkLevel(t, "our tone as baresip decodes it", medianRMS(in, rate), 8000/math.Sqrt2)
}

// medianRMS is the median root mean square of pcm's 20 ms blocks at
// rate: the tone's level, whatever silence the recording starts or ends
// with.
func medianRMS(pcm []int16, rate int) float64 {
	block := rate / 50
	var levels []float64
	for off := 0; off+block <= len(pcm); off += block {
		var e float64
		for _, v := range pcm[off : off+block] {
			e += float64(v) * float64(v)
		}
		levels = append(levels, math.Sqrt(e/float64(block)))
	}
	if len(levels) == 0 {
		return 0
	}
	slices.Sort(levels)
	return levels[len(levels)/2]
}

// checkLevel fails unless level is within 3 dB of want: the peers agree
// on how 16-bit PCM maps to G.722's band signals (a mapping off by a
// factor of 2 is 6 dB).
func checkLevel(t *testing.T, what string, level, want float64) {
	t.Helper()
	db := 20 * math.Log10(math.Max(level, 1)/want)
	t.Logf("%s: rms %.0f, %.1f dB from %.0f", what, level, db, want)
	if math.Abs(db) > 3 {
		t.Errorf("%s: rms %.0f is %.1f dB from the %.0f sent", what, level, db, want)
	}
}
