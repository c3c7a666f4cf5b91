package sip

import (
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
)

// TestSRTPModesWithPlainPeer: against a phone without encryption (baresip
// with plain RTP, through kamailio over TLS to us), SRTP Required refuses
// its call with 488 before ringing the agent and our own call to it fails;
// SRTP Optional takes its plain call, with audio. (Optional calling a
// plain phone: TestSRTPOptionalCallsEveryPhone.)
func TestSRTPModesWithPlainPeer(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{TLS: true})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr, ToneHz: 440})
	acct := Account{User: "go1", Domain: k.Addr, OutboundProxy: k.TLSAddr, Transport: TransportTLS, CAFile: k.CAFile}

	t.Run("required", func(t *testing.T) {
		a := acct
		a.SRTP = SRTPRequired
		e, s := startEngine(t, a, "go1-pw")
		if err := e.Register(); err != nil {
			t.Fatal(err)
		}
		s.wait(t, "registered", 15*time.Second, isReg(domain.RegRegistered))
		if _, err := alice.Command("dial", "sip:go1@"+k.Addr); err != nil {
			t.Fatal(err)
		}
		ev, err := alice.WaitEvent("CALL_CLOSED", 15*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ev.Param, "488") {
			t.Errorf("plain call to an srtp-required account closed with %q, want 488", ev.Param)
		}
		s.none(t, "offered plain call", isOffered)

		id := domain.NewCallID()
		if err := e.Dial(id, "alice"); err != nil {
			t.Fatal(err)
		}
		f := s.wait(t, "failure", 20*time.Second, func(in domain.Input) bool {
			switch v := in.(type) {
			case domain.CallFailed:
				return v.ID == id
			case domain.CallAnswered:
				return v.ID == id
			}
			return false
		})
		// baresip refuses our RTP/SAVP offer (488); a phone that answered it
		// in plain RTP would be hung up ("does not support encrypted calls").
		if cf, ok := f.(domain.CallFailed); !ok || !(strings.HasPrefix(cf.Reason, "488") || strings.Contains(cf.Reason, "encrypted")) {
			t.Errorf("our call to a plain phone: %+v, want a failure", f)
		}
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("optional", func(t *testing.T) {
		a := acct
		a.SRTP = SRTPOptional
		e, s := startEngine(t, a, "go1-pw")
		if err := e.Register(); err != nil {
			t.Fatal(err)
		}
		s.wait(t, "registered", 15*time.Second, isReg(domain.RegRegistered))
		if _, err := alice.Command("dial", "sip:go1@"+k.Addr); err != nil {
			t.Fatal(err)
		}
		off := s.wait(t, "offer", 15*time.Second, isOffered).(domain.CallOffered)
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
		if sh := baresip.ToneShare(readPCM(t, ca.Rx, time.Second), 8000, 440); sh < 0.6 {
			t.Errorf("inbound plain call: 440 Hz share = %.2f", sh)
		}
		if err := e.Hangup(off.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := alice.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			t.Fatal(err)
		}
	})
}
