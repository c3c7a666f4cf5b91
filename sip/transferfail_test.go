package sip

import (
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/sipp"
)

// uasTransferFails answers our call and fails three blind transfers: the
// first REFER is refused (403); the second is accepted but its NOTIFY says
// the target was busy (486); the third is accepted and never followed by a
// NOTIFY. Then it takes our BYE.
var uasTransferFails = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="failing transfers">
  <recv request="INVITE">
    <action>
      <ereg regexp="sip:[^>]*" search_in="hdr" header="Contact:" assign_to="contact" />
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="from" />
    </action>
  </recv>
` + okWithSDP("sendrecv") + `  <recv request="ACK" />
  <recv request="REFER" />
` + sipp.Reply("403 Forbidden") + `  <recv request="REFER" />
` + sipp.Reply("202 Accepted") + `  <pause milliseconds="300" />
  <send><![CDATA[
NOTIFY [$contact] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:t@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
To:[$from]
Call-ID: [call_id]
CSeq: 2 NOTIFY
Contact: <sip:t@[local_ip]:[local_port]>
Max-Forwards: 70
Event: refer
Subscription-State: terminated;reason=noresource
Content-Type: message/sipfrag
Content-Length: [len]

SIP/2.0 486 Busy Here
]]></send>
  <recv response="200" />
  <recv request="REFER" />
` + sipp.Reply("202 Accepted") + `  <recv request="BYE" />
` + sipp.Reply("200 OK") + `</scenario>`

// TestBlindTransferFailures: the core learns each failed transfer with a
// reason in plain words (a refused REFER, a NOTIFY with a failure, no
// NOTIFY within the transfer timeout) and the call stays up after each.
func TestBlindTransferFailures(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1"}, "x", WithTransferTimeout(3*time.Second))
	uas := sipp.Start(t, uasTransferFails, "-m", "1")
	id := domain.NewCallID()
	if err := e.Dial(id, "sip:x@"+uas.Addr); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answer", 10*time.Second, isAnswered(id))
	for _, want := range []string{
		"the other side refused (403 Forbidden)",
		"the transfer target answered 486 Busy Here",
		"no result from the other side",
	} {
		if err := e.TransferBlind(id, "bob"); err != nil {
			t.Fatal(err)
		}
		r := s.wait(t, "transfer result", 20*time.Second, func(in domain.Input) bool {
			r, ok := in.(domain.TransferResult)
			return ok && r.ID == id
		}).(domain.TransferResult)
		if r.OK || r.Reason != want {
			t.Errorf("transfer result %+v, want failure %q", r, want)
		}
		s.none(t, "end of the call", isEnded(id))
		if _, err := e.CallStats(id); err != nil {
			t.Fatalf("call gone after a failed transfer: %v", err)
		}
	}
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(15 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, uas.Log())
	}
	if !strings.Contains(uas.Messages(), "Referred-By: <sip:go1@127.0.0.1>") {
		t.Errorf("REFER without our own Referred-By:\n%s", uas.Messages())
	}
}
