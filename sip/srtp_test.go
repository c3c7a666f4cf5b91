package sip

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
)

// TestSRTPHoldKeepsAudio is the diago SRTP re-INVITE workaround: an
// SDES-encrypted call over TLS to baresip (which requires SRTP), held and
// resumed by us, then held and resumed by baresip; baresip's tone must
// still reach us after each (with diago's own re-INVITEs the audio is
// gone for good after the first hold).
func TestSRTPHoldKeepsAudio(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{TLS: true})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr,
		ToneHz: 440, MediaEnc: "srtp-mand"})
	e, s := startEngine(t, Account{User: "go1", Domain: k.Addr, OutboundProxy: k.TLSAddr,
		Transport: TransportTLS, CAFile: k.CAFile, SRTP: SRTPRequired}, "go1-pw")
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "registered", 15*time.Second, isReg(domain.RegRegistered))
	id := domain.NewCallID()
	if err := e.Dial(id, "alice"); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answer", 15*time.Second, isAnswered(id))
	if _, err := alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	c, err := e.call(id)
	if err != nil {
		t.Fatal(err)
	}
	if !c.encrypted() {
		l, r := c.sdpPair()
		t.Fatalf("call not encrypted:\n%s\n%s", l, r)
	}
	ca, err := e.CallAudio(id)
	if err != nil {
		t.Fatal(err)
	}
	hears := func(when string) {
		t.Helper()
		readPCM(t, ca.Rx, 200*time.Millisecond)
		if sh := baresip.ToneShare(readPCM(t, ca.Rx, time.Second), 8000, 440); sh < 0.6 {
			t.Fatalf("%s: 440 Hz share = %.2f\n%s", when, sh, alice.Log())
		}
	}
	hears("before hold")
	for _, on := range []bool{true, false} {
		if err := e.Hold(id, on); err != nil {
			t.Fatal(err)
		}
	}
	// Both re-INVITEs must reach baresip (diago's own re-INVITE on this
	// TLS call never even gets out) and be answered without a failure.
	deadline := time.Now().Add(15 * time.Second)
	for strings.Count(alice.Log(), "got re-INVITE") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not get our hold and resume:\n%s", alice.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	s.none(t, "hold failure", func(in domain.Input) bool { _, ok := in.(domain.HoldFailed); return ok })
	if !strings.Contains(alice.Log(), "srtp: audio: SRTP is Enabled") {
		t.Errorf("baresip did not keep srtp:\n%s", alice.Log())
	}
	hears("after our hold and resume")

	// baresip holds us, then resumes; each time it gets our SDP answer
	// (diago alone refuses both with 487).
	remoteAnswer := func(what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			ev, err := alice.WaitEvent("CALL_REMOTE_SDP", time.Until(deadline))
			if err != nil {
				t.Fatalf("%s: baresip got no sdp answer: %v", what, err)
			}
			if ev.Param == "answer" {
				return
			}
		}
	}
	for {
		if _, err := alice.WaitEvent("CALL_REMOTE_SDP", 100*time.Millisecond); err != nil {
			break
		}
	}
	if r, err := alice.Command("hold", ""); err != nil || !r.OK {
		t.Logf("hold: %+v %v", r, err)
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			t.Log(alice.Log())
			t.Log(k.Log())
		}
	}()
	s.wait(t, "remote hold", 10*time.Second, isRemoteHold(id, true))
	remoteAnswer("hold")
	if _, err := alice.Command("resume", ""); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "remote resume", 10*time.Second, isRemoteHold(id, false))
	remoteAnswer("resume")
	hears("after baresip's hold and resume")
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(alice.Log(), "no context is created") || strings.Contains(alice.Log(), "487") {
		t.Errorf("baresip lost its srtp context:\n%s", alice.Log())
	}
}

// TestSDPRewrite: the hold SDP keeps keys, address and session id, bumps
// the version and sets one direction; garbage in gives no keys.
func TestSDPRewrite(t *testing.T) {
	in := "v=0\r\no=- 42 7 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/SAVP 0 101\r\n" +
		"a=sendrecv\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY|2^31\r\n"
	out := string(rewriteSDP([]byte(in), "sendonly", 8))
	for _, want := range []string{"o=- 42 8 IN IP4 10.0.0.1\r\n", "m=audio 4000 RTP/SAVP 0 101\r\n", "inline:KEY|2^31", "a=sendonly\r\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "sendrecv") {
		t.Errorf("two directions:\n%s", out)
	}
	if k := sdesKeys([]byte(in)); len(k) != 1 || k[0] != "KEY" {
		t.Errorf("keys %q", k)
	}
	if k := sdesKeys([]byte("a=crypto:garbage\n\x00\xff")); len(k) != 0 {
		t.Errorf("keys from garbage %q", k)
	}
	if sdpDirection([]byte(out)) != "sendonly" || answerDirection("sendonly", false) != "recvonly" || answerDirection("", false) != "sendrecv" {
		t.Error("direction")
	}
	if _, err := New(Account{User: "a", Domain: "pbx", SRTP: SRTPOptional}, pw("x")); !errors.Is(err, ErrInvalidAccount) {
		t.Errorf("srtp without tls: %v", err)
	}
}
