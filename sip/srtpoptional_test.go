package sip

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
)

// TestSRTPOptionalCallsEveryPhone: with SRTP Optional our call reaches a
// phone without SRTP (plain audio), a phone that offers it (encrypted) and
// a phone that requires it (encrypted), each held, resumed and with audio both ways. We offer
// RTP/SAVP, which the phone without SRTP refuses with 488; we then call it
// again offering plain RTP/AVP (without that, the call fails). A
// best-effort offer (RTP/AVP with crypto lines) would not do: the phone
// that requires SRTP refuses it ("no common audio codecs").
func TestSRTPOptionalCallsEveryPhone(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{TLS: true})
	e, s := startEngine(t, Account{User: "go1", Domain: k.Addr, OutboundProxy: k.TLSAddr,
		Transport: TransportTLS, CAFile: k.CAFile, SRTP: SRTPOptional}, "go1-pw")
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "registered", 15*time.Second, isReg(domain.RegRegistered))
	for _, tc := range []struct {
		user, enc string
		encrypted bool
	}{
		{"alice", "", false},
		{"bob", "srtp", true},
		{"carol", "srtp-mand", true},
	} {
		t.Run(tc.user+"-"+tc.enc, func(t *testing.T) {
			peer := baresip.Start(t, baresip.Options{User: tc.user, Password: tc.user + "-pw", Registrar: k.Addr,
				ToneHz: 440, MediaEnc: tc.enc})
			tlsCallHoldResume(t, e, s, peer, tc.user, tc.encrypted)
		})
	}
}

// TestTLSPlainCallHold: over TLS without SRTP our hold and resume reach
// the phone and the audio comes back. diago's own hold re-INVITE fails
// there ("TLS handshake error"), so calls over TLS hold with ours.
func TestTLSPlainCallHold(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{TLS: true})
	e, s := startEngine(t, Account{User: "go1", Domain: k.Addr, OutboundProxy: k.TLSAddr,
		Transport: TransportTLS, CAFile: k.CAFile}, "go1-pw")
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "registered", 15*time.Second, isReg(domain.RegRegistered))
	peer := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr, ToneHz: 440})
	tlsCallHoldResume(t, e, s, peer, "alice", false)
}

// tlsCallHoldResume calls user at peer, checks the call's encryption
// both ends, the audio both ways, holds and resumes, checks the audio
// again and hangs up.
func tlsCallHoldResume(t *testing.T, e *Engine, s *sink, peer *baresip.Phone, user string, encrypted bool) {
	t.Helper()
	id := domain.NewCallID()
	if err := e.Dial(id, user); err != nil {
		t.Fatal(err)
	}
	f := s.wait(t, "answer", 20*time.Second, func(in domain.Input) bool {
		switch v := in.(type) {
		case domain.CallFailed:
			return v.ID == id
		case domain.CallAnswered:
			return v.ID == id
		}
		return false
	})
	if cf, ok := f.(domain.CallFailed); ok {
		t.Fatalf("call failed: %+v\n%s", cf, peer.Log())
	}
	if _, err := peer.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	c, err := e.call(id)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.encrypted(); got != encrypted {
		l, r := c.sdpPair()
		t.Errorf("encrypted = %v, want %v\n%s\n%s", got, encrypted, l, r)
	}
	ca, err := e.CallAudio(id)
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	defer stop.Store(true)
	go sendTone(ca.Tx, 1000, &stop)
	hears := func(when string) {
		t.Helper()
		readPCM(t, ca.Rx, 300*time.Millisecond)
		if sh := baresip.ToneShare(readPCM(t, ca.Rx, 1500*time.Millisecond), 8000, 440); sh < 0.6 {
			t.Errorf("%s: 440 Hz share in our received audio = %.2f\n%s", when, sh, peer.Log())
		}
	}
	hears("connected")
	// The phone's recording while the call is up (baresip starts
	// new files on a re-INVITE, so before the hold).
	peerHeard(t, peer, 1000)
	for _, on := range []bool{true, false} {
		if err := e.Hold(id, on); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for strings.Count(peer.Log(), "got re-INVITE") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the phone did not get our hold and resume:\n%s", peer.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.none(t, "hold failure", func(in domain.Input) bool { _, ok := in.(domain.HoldFailed); return ok })
	hears("resumed")
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if _, err := peer.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if enc := strings.Contains(peer.Log(), "SRTP is Enabled"); enc != encrypted {
		t.Errorf("phone says srtp enabled = %v, want %v\n%s", enc, encrypted, peer.Log())
	}
}
