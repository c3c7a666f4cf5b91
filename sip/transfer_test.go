package sip

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
	"github.com/callcentre/softphone/lab/sipp"
)

// uasTransferee is the transferee's first leg: it answers our call, takes
// the REFER (writing the Refer-To target and its Replaces value to the
// file "refer" for the test, which plays the transferee's second leg with
// another sipp), accepts it, reports success by NOTIFY and takes our BYE.
var uasTransferee = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="transferee">
  <recv request="INVITE">
    <action>
      <ereg regexp="sip:[^>]*" search_in="hdr" header="Contact:" assign_to="contact" />
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="from" />
    </action>
  </recv>
` + `  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:t@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

` + sdpBody + `a=sendrecv
]]></send>
  <recv request="ACK" />
  <recv request="REFER">
    <action>
      <ereg regexp="sip:[^?>]*" search_in="hdr" header="Refer-To:" assign_to="target" />
      <ereg regexp="Replaces=[^>]*" search_in="hdr" header="Refer-To:" assign_to="repl" />
      <exec command="echo '[$target] [$repl]' > refer.tmp; mv refer.tmp refer" />
    </action>
  </recv>
` + sipp.Reply("202 Accepted") + `  <pause milliseconds="2500" />
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

SIP/2.0 200 OK
]]></send>
  <recv response="200" />
  <recv request="BYE" />
` + sipp.Reply("200 OK") + `</scenario>`

// uacReplacing is the transferee's second leg: INVITE to the target with
// the Replaces header (-key target, -key repl), media echoed back
// (-rtp_echo), then the target hangs up.
var uacReplacing = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="replacing">
  <send retrans="500"><![CDATA[
INVITE [target] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:t@[local_ip]:[local_port]>;tag=[pid]rep[call_number]
To: <[target]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:t@[local_ip]:[local_port]>
Replaces: [repl]
P-Asserted-Identity: "Customer Carol" <sip:+15550001111@[local_ip]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

` + sdpBody + `a=sendrecv
]]></send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="200" rtd="true" />
  <send><![CDATA[
ACK [target] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:t@[local_ip]:[local_port]>;tag=[pid]rep[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv request="BYE" />
` + sipp.Reply("200 OK") + `</scenario>`

// TestAttendedTransfer: go1 talks to the transferee (sipp), consults go2
// (our engine too, through kamailio), and completes the transfer: the
// transferee gets a REFER whose Refer-To carries Replaces, its INVITE with
// Replaces reaches go2, which hangs up go1's consult dialog and keeps the
// same call going with the transferee (our tone comes back through sipp's
// RTP echo) and reports the transferee as its new remote party, and the
// NOTIFY reports success to go1.
func TestAttendedTransfer(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	e1, s1 := registeredEngine(t, k, "go1", "go1-pw")
	e2, s2 := registeredEngine(t, k, "go2", "go2-pw")
	tee := sipp.Start(t, uasTransferee, "-m", "1")

	a := domain.NewCallID()
	if err := e1.Dial(a, "sip:t@"+tee.Addr); err != nil {
		t.Fatal(err)
	}
	s1.wait(t, "answer of the customer call", 10*time.Second, isAnswered(a))
	b := domain.NewCallID()
	if err := e1.Dial(b, "go2"); err != nil {
		t.Fatal(err)
	}
	off := s2.wait(t, "consult offer", 15*time.Second, isOffered).(domain.CallOffered)
	if err := e2.Answer(off.ID); err != nil {
		t.Fatal(err)
	}
	s1.wait(t, "answer of the consult call", 10*time.Second, isAnswered(b))
	s2.wait(t, "go2 answered", 10*time.Second, isAnswered(off.ID))

	if err := e1.TransferAttended(a, b); err != nil {
		t.Fatal(err)
	}
	// The transferee's second leg.
	refer := filepath.Join(tee.Dir, "refer")
	var line string
	deadline := time.Now().Add(15 * time.Second)
	for {
		if b, err := os.ReadFile(refer); err == nil {
			line = strings.TrimSpace(string(b))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("transferee got no REFER\n%s", tee.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	target, repl, ok := strings.Cut(line, " Replaces=")
	if !ok {
		t.Fatalf("refer-to without replaces: %q", line)
	}
	replaces, err := url.QueryUnescape(repl)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(replaces, ";to-tag=") || !strings.Contains(replaces, ";from-tag=") {
		t.Fatalf("replaces %q", replaces)
	}
	hostport := target[strings.IndexByte(target, '@')+1:]
	if i := strings.IndexByte(hostport, ';'); i >= 0 {
		hostport = hostport[:i]
	}
	leg2 := sipp.Start(t, uacReplacing, "-m", "1", "-rtp_echo", "-key", "target", target, "-key", "repl", replaces, hostport)

	// go1's consult dialog is hung up by go2; the transfer succeeds.
	ev := s1.wait(t, "consult call replaced", 15*time.Second, isEnded(b)).(domain.CallEnded)
	if ev.Cause != domain.CauseRemoteHangup {
		t.Errorf("consult ended with %v", ev.Cause)
	}
	r := s1.wait(t, "transfer result", 20*time.Second, func(in domain.Input) bool {
		r, ok := in.(domain.TransferResult)
		return ok && r.ID == a
	}).(domain.TransferResult)
	if !r.OK {
		t.Errorf("transfer failed: %s", r.Reason)
	}
	if err := e1.Hangup(a); err != nil {
		t.Fatal(err)
	}
	if err := tee.Wait(15 * time.Second); err != nil {
		t.Error(err)
	}

	// go2's call goes on with the transferee under the same ID: no end, no
	// new offer; audio flows both ways (sipp echoes our tone back).
	s2.none(t, "end of the replaced call", isEnded(off.ID))
	s2.none(t, "new offer for a replacing invite", isOffered)
	// go2's core learns who it now talks to: the transferee, not go1.
	pc := s2.wait(t, "remote party change", 10*time.Second, isPartyChange(off.ID)).(domain.RemotePartyChanged)
	if pc.Party != (domain.Party{Number: "+15550001111", Name: "Customer Carol"}) {
		t.Errorf("party after the transfer %+v", pc.Party)
	}
	s1.none(t, "party change at the transferor", func(in domain.Input) bool { _, ok := in.(domain.RemotePartyChanged); return ok })
	ca, err := e2.CallAudio(off.ID)
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	defer stop.Store(true)
	go sendTone(ca.Tx, 1000, &stop)
	readPCM(t, ca.Rx, 300*time.Millisecond)
	if sh := baresip.ToneShare(readPCM(t, ca.Rx, time.Second), 8000, 1000); sh < 0.6 {
		t.Errorf("our tone echoed by the transferee: share %.2f", sh)
	}
	stop.Store(true)
	if err := e2.Hangup(off.ID); err != nil {
		t.Fatal(err)
	}
	if err := leg2.Wait(15 * time.Second); err != nil {
		t.Error(err)
	}
}

// uacReplacingRefused sends an INVITE with Replaces and expects 481.
var uacReplacingRefused = uacReplacing[:strings.Index(uacReplacing, "  <recv response=\"180\"")] + `  <recv response="481" />
  <send><![CDATA[
ACK [target] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:t@[local_ip]:[local_port]>;tag=[pid]rep[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
</scenario>`

// TestReplacesRefused: an INVITE with Replaces naming no dialog of ours,
// or a malformed one, gets 481 and rings nothing (diago alone would offer
// it as a new call).
func TestReplacesRefused(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1"}, "x")
	for _, repl := range []string{"nosuchcall;to-tag=a;from-tag=b", "garbage"} {
		uac := sipp.Start(t, uacReplacingRefused, "-m", "1",
			"-key", "target", "sip:go1@"+e.LocalAddr(), "-key", "repl", repl, e.LocalAddr())
		if err := uac.Wait(15 * time.Second); err != nil {
			t.Errorf("%s: %v", repl, err)
		}
	}
	s.none(t, "offered call", isOffered)
}
