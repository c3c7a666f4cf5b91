package sip

import (
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/sipp"
)

// uacInactiveHold calls go1 directly, then holds it with a=inactive,
// resumes with a=sendrecv and hangs up.
func uacInactiveHold() string {
	from := `From: "Lab Caller" <sip:5551234@[local_ip]:[local_port]>;tag=[pid]lab[call_number]`
	invite := func(cseq, uri, direction, toLine string) string {
		return `  <send retrans="500"><![CDATA[
INVITE ` + uri + ` SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
` + from + `
` + toLine + `
Call-ID: [call_id]
CSeq: ` + cseq + ` INVITE
Contact: <sip:lab@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=lab 1 ` + cseq + ` IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=` + direction + `
]]></send>
`
	}
	ack := func(cseq string) string {
		return `  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
` + from + `
[last_To:]
Call-ID: [call_id]
CSeq: ` + cseq + ` ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
`
	}
	return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="far-end inactive hold and resume">
` + invite("1", "sip:go1@[remote_ip]:[remote_port]", "sendrecv", "To: <sip:go1@[remote_ip]:[remote_port]>") + `
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="200" rrs="true" />
` + ack("1") + `  <pause milliseconds="300" />
` + invite("2", "[next_url]", "inactive", "[last_To:]") + `  <recv response="200" />
` + ack("2") + `  <pause milliseconds="300" />
` + invite("3", "[next_url]", "sendrecv", "[last_To:]") + `  <recv response="200" />
` + ack("3") + `  <pause milliseconds="300" />
  <send><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
` + from + `
[last_To:]
Call-ID: [call_id]
CSeq: 4 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" />
</scenario>`
}

// TestFarEndInactiveHoldAndResume: the far end holds us with a=inactive
// (RemoteHold on, answered inactive), then resumes (RemoteHold off,
// answered sendrecv); the call stays up until its BYE.
func TestFarEndInactiveHoldAndResume(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", AllowDirectCalls: true}, "x")
	uac := sipp.Start(t, uacInactiveHold(), "-m", "1", e.LocalAddr())
	off := s.wait(t, "offer", 10*time.Second, isOffered).(domain.CallOffered)
	if err := e.Answer(off.ID); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answered", 10*time.Second, isAnswered(off.ID))
	s.wait(t, "remote hold", 10*time.Second, isRemoteHold(off.ID, true))
	s.wait(t, "remote resume", 10*time.Second, isRemoteHold(off.ID, false))
	ev := s.wait(t, "ended", 15*time.Second, isEnded(off.ID)).(domain.CallEnded)
	if ev.Cause != domain.CauseRemoteHangup {
		t.Errorf("cause %v", ev.Cause)
	}
	if err := uac.Wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	msgs := uac.Messages()
	answered := false
	for _, m := range strings.Split(msgs, "-----------------------------------------------") {
		if strings.Contains(m, "message received") && strings.Contains(m, "CSeq: 2 INVITE") && strings.Contains(m, "a=inactive") {
			answered = true
		}
	}
	if !answered {
		t.Errorf("inactive hold not answered inactive:\n%s", msgs)
	}
}

// uasRefuseHold answers the call, refuses our hold re-INVITE with 488 and
// takes the BYE.
var uasRefuseHold = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="refuse hold">
  <recv request="INVITE" />
` + okWithSDP("sendrecv") + `  <recv request="ACK" />
  <recv request="INVITE" />
` + sipp.Reply("488 Not Acceptable Here") + `  <recv request="ACK" />
  <recv request="BYE" />
` + sipp.Reply("200 OK") + `</scenario>`

// TestHoldRefused: a hold re-INVITE the far end refuses is reported as
// HoldFailed with the refusal in plain words; the call stays up.
func TestHoldRefused(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1"}, "x")
	uas := sipp.Start(t, uasRefuseHold, "-m", "1")
	id := domain.NewCallID()
	if err := e.Dial(id, "sip:x@"+uas.Addr); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answer", 10*time.Second, isAnswered(id))
	if err := e.Hold(id, true); err != nil {
		t.Fatal(err)
	}
	hf := s.wait(t, "hold failure", 15*time.Second, func(in domain.Input) bool {
		h, ok := in.(domain.HoldFailed)
		return ok && h.ID == id
	}).(domain.HoldFailed)
	if !hf.On || !strings.Contains(hf.Reason, "488") {
		t.Errorf("hold failure %+v", hf)
	}
	s.none(t, "end of the call", isEnded(id))
	if _, err := e.CallStats(id); err != nil {
		t.Errorf("call gone after a refused hold: %v", err)
	}
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(15 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, uas.Log())
	}
}

// TestInviteForAnotherUserRefused: even with direct calls allowed, an
// INVITE whose Request-URI names another user is refused (403) and never
// rings (ghost-call protection's second condition).
func TestInviteForAnotherUserRefused(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", AllowDirectCalls: true}, "x")
	uac := sipp.Start(t, strings.ReplaceAll(uacStranger, "sip:go1@", "sip:go9@"), "-m", "1", e.LocalAddr())
	if err := uac.Wait(15 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, uac.Log())
	}
	s.none(t, "offered call", isOffered)
	// The same INVITE for our user is offered: the refusal above was for
	// the user, not for the direct source.
	uac = sipp.Start(t, uacInactiveHold(), "-m", "1", e.LocalAddr())
	off := s.wait(t, "offer", 10*time.Second, isOffered).(domain.CallOffered)
	if err := e.Reject(off.ID, 486); err != nil {
		t.Fatal(err)
	}
	_ = uac.Wait(10 * time.Second) // the scenario expects an answer: it fails, as it should
}

// uacHoldsThenIsHeld calls go1 directly and holds it (a=sendonly), then
// takes go1's hold re-INVITE, which must offer a=inactive (RFC 3264 8.4:
// both sides on hold; sipp fails the scenario otherwise), answers it
// inactive, and takes go1's BYE.
func uacHoldsThenIsHeld() string {
	s := uacInactiveHold()
	// The call and our hold: the first two INVITE transactions of the
	// inactive-hold scenario, holding with sendonly instead.
	third := strings.Index(s, "CSeq: 3 INVITE")
	end := strings.LastIndex(s[:third], `  <pause milliseconds="300" />`)
	head := strings.Replace(s[:end], "a=inactive", "a=sendonly", 1)
	return head + `  <recv request="INVITE">
    <action>
      <ereg regexp="a=inactive" search_in="body" check_it="true" assign_to="dir" />
    </action>
  </recv>
` + okInDialog("inactive") + `  <recv request="ACK" />
  <recv request="BYE" />
` + sipp.Reply("200 OK") + `  <Reference variables="dir" />
</scenario>`
}

// TestMutualHoldOffersInactive: held by the far end (sendonly), our own
// hold offers inactive, and the call is still ours to hang up.
func TestMutualHoldOffersInactive(t *testing.T) {
	holdWhileHeld(t, uacHoldsThenIsHeld())
}

// holdWhileHeld runs scenario (a caller that holds go1, then takes go1's
// own hold and its BYE): go1 answers, waits to be held, holds in turn and
// hangs up. The call's commands run in order, so the hang-up follows the
// hold (and any retry of it); sipp fails on a message its scenario does
// not expect, and no HoldFailed may have been posted.
func holdWhileHeld(t *testing.T, scenario string) {
	t.Helper()
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", AllowDirectCalls: true}, "x")
	uac := sipp.Start(t, scenario, "-m", "1", e.LocalAddr())
	off := s.wait(t, "offer", 10*time.Second, isOffered).(domain.CallOffered)
	if err := e.Answer(off.ID); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answered", 10*time.Second, isAnswered(off.ID))
	s.wait(t, "remote hold", 10*time.Second, isRemoteHold(off.ID, true))
	if err := e.Hold(off.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := e.Hangup(off.ID); err != nil {
		t.Fatal(err)
	}
	if err := uac.Wait(15 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, uac.Messages())
	}
	s.none(t, "hold failure", func(in domain.Input) bool { _, ok := in.(domain.HoldFailed); return ok })
}

func TestHoldDirections(t *testing.T) {
	for _, tc := range []struct {
		on, remoteHeld bool
		want           string
	}{{true, false, "sendonly"}, {true, true, "inactive"}, {false, true, "sendrecv"}, {false, false, "sendrecv"}} {
		if got := holdDirection(tc.on, tc.remoteHeld); got != tc.want {
			t.Errorf("holdDirection(%v, %v) = %s, want %s", tc.on, tc.remoteHeld, got, tc.want)
		}
	}
	for _, tc := range []struct {
		offered   string
		localHeld bool
		want      string
	}{
		{"sendrecv", false, "sendrecv"}, {"sendrecv", true, "sendonly"},
		{"sendonly", false, "recvonly"}, {"sendonly", true, "inactive"},
		{"recvonly", false, "sendonly"}, {"recvonly", true, "sendonly"},
		{"inactive", false, "inactive"}, {"inactive", true, "inactive"},
	} {
		if got := answerDirection(tc.offered, tc.localHeld); got != tc.want {
			t.Errorf("answerDirection(%s, held %v) = %s, want %s", tc.offered, tc.localHeld, got, tc.want)
		}
	}
}
