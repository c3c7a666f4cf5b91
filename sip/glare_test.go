package sip

import (
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/sipp"
)

// uacCallsGo1 is the start of a scenario that calls go1 directly and ACKs
// its answer, and the end that takes go1's BYE.
func uacCallsGo1() (head, tail string) {
	s := uacInactiveHold()
	ack := strings.Index(s, `  <pause milliseconds="300" />`)
	return s[:ack], `  <recv request="BYE" />
` + sipp.Reply("200 OK") + `</scenario>`
}

// TestHoldRetriedAfterRequestPending: the far end, which holds us, refuses
// our own hold with 491 Request Pending (a re-INVITE of its own crossed
// ours); we send it again after a random wait (RFC 3261 14.1) and the hold
// succeeds. A mutual hold goes out as our own re-INVITE (diago's retries
// 491 by itself).
func TestHoldRetriedAfterRequestPending(t *testing.T) {
	scenario := uacHoldsThenIsHeld()
	ours := strings.Index(scenario, `  <recv request="INVITE">`)
	scenario = scenario[:ours] + `  <recv request="INVITE" />
` + sipp.Reply("491 Request Pending") + `  <recv request="ACK" />
` + scenario[ours:]
	holdWhileHeld(t, scenario) // our retry within 2 s: the caller owns the Call-ID
}

// TestReinviteCrossingOursGetsRequestPending: while our hold re-INVITE
// waits for its answer, the far end's own re-INVITE (a hold) gets 491
// (RFC 3261 14.2) and changes nothing; ours then succeeds.
func TestReinviteCrossingOursGetsRequestPending(t *testing.T) {
	head, tail := uacCallsGo1()
	from := `From: "Lab Caller" <sip:5551234@[local_ip]:[local_port]>;tag=[pid]lab[call_number]`
	uac := `  <recv request="INVITE">
    <action>
      <ereg regexp=".*" search_in="hdr" header="Via:" assign_to="via" />
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="ourfrom" />
      <ereg regexp=".*" search_in="hdr" header="To:" assign_to="ourto" />
      <ereg regexp=".*" search_in="hdr" header="CSeq:" assign_to="ourcseq" />
    </action>
  </recv>
  <send><![CDATA[
INVITE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
` + from + `
To:[$ourfrom]
Call-ID: [call_id]
CSeq: 2 INVITE
Contact: <sip:lab@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

` + sdpBody + `a=sendonly
]]></send>
  <recv response="491" />
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-2]
` + from + `
To:[$ourfrom]
Call-ID: [call_id]
CSeq: 2 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <send><![CDATA[
SIP/2.0 200 OK
Via:[$via]
From:[$ourfrom]
To:[$ourto]
Call-ID: [call_id]
CSeq:[$ourcseq]
Contact: <sip:lab@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

` + sdpBody + `a=recvonly
]]></send>
  <recv request="ACK" />
`
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", AllowDirectCalls: true}, "x")
	p := sipp.Start(t, head+uac+tail, "-m", "1", e.LocalAddr())
	off := s.wait(t, "offer", 10*time.Second, isOffered).(domain.CallOffered)
	if err := e.Answer(off.ID); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answered", 10*time.Second, isAnswered(off.ID))
	if err := e.Hold(off.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := e.Hangup(off.ID); err != nil { // runs after the hold
		t.Fatal(err)
	}
	if err := p.Wait(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	s.none(t, "hold failure, or a remote hold that was refused", func(in domain.Input) bool {
		switch in.(type) {
		case domain.HoldFailed, domain.RemoteHold:
			return true
		}
		return false
	})
}
