package sip

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
	"github.com/callcentre/softphone/lab/sipp"
)

const sdpBody = `v=0
o=lab 1 [cseq] IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
`

func okWithSDP(direction string) string {
	return `  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:uas@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

` + sdpBody + `a=` + direction + `
]]></send>
`
}

// okInDialog answers an in-dialog INVITE (its To has our tag already)
// with our SDP.
func okInDialog(direction string) string {
	return strings.Replace(okWithSDP(direction), "[last_To:];tag=[pid]lab[call_number]", "[last_To:]", 1)
}

// uasHold answers, then takes a hold and a resume re-INVITE, then a BYE.
var uasHold = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="hold">
  <recv request="INVITE" />
` + okWithSDP("sendrecv") + `  <recv request="ACK" />
  <recv request="INVITE" />
` + okWithSDP("recvonly") + `  <recv request="ACK" />
  <recv request="INVITE" />
` + okWithSDP("sendrecv") + `  <recv request="ACK" />
  <recv request="BYE" />
` + sipp.Reply("200 OK") + `</scenario>`

// TestHoldResume: the far end receives a sendonly re-INVITE, then a
// sendrecv one.
func TestHoldResume(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1"}, "x")
	uas := sipp.Start(t, uasHold, "-m", "1")
	id := domain.NewCallID()
	if err := e.Dial(id, "sip:x@"+uas.Addr); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answer", 10*time.Second, isAnswered(id))
	if err := e.Hold(id, true); err != nil {
		t.Fatal(err)
	}
	if err := e.Hold(id, false); err != nil {
		t.Fatal(err)
	}
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(20 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, uas.Log())
	}
	msgs := uas.Messages()
	hold := strings.Index(msgs, "a=sendonly")
	resume := strings.LastIndex(msgs, "a=sendrecv")
	if hold < 0 || resume < hold {
		t.Errorf("no sendonly re-INVITE followed by sendrecv:\n%s", msgs)
	}
	s.none(t, "hold failure", func(in domain.Input) bool { _, ok := in.(domain.HoldFailed); return ok })
}

const uacFarHold = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="far-end hold">
  <send retrans="500"><![CDATA[
INVITE sip:go1@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Lab Caller" <sip:5551234@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
To: <sip:go1@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:lab@[local_ip]:[local_port]>
P-Asserted-Identity: "Jane Roe" <sip:+15557654321@[local_ip]>
Diversion: <sip:sales-queue@[local_ip]>;reason=unconditional
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=lab 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=sendrecv
]]></send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="200" rrs="true" />
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Lab Caller" <sip:5551234@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause milliseconds="300" />
  <send retrans="500"><![CDATA[
INVITE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Lab Caller" <sip:5551234@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 INVITE
Contact: <sip:lab@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=lab 1 2 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=sendonly
]]></send>
  <recv response="200" />
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Lab Caller" <sip:5551234@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause milliseconds="300" />
  <send><![CDATA[
REFER [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Lab Caller" <sip:5551234@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 3 REFER
Contact: <sip:lab@[local_ip]:[local_port]>
Refer-To: <sip:elsewhere@[local_ip]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="403" />
  <send><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Lab Caller" <sip:5551234@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 4 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" />
</scenario>`

// TestFarEndHoldReferAndIdentity: a direct call (allowed by the account)
// with P-Asserted-Identity and Diversion; the far end holds us (RemoteHold),
// tries to transfer us (REFER refused with 403, the call stays up), then
// hangs up.
func TestFarEndHoldReferAndIdentity(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", AllowDirectCalls: true}, "x")
	uac := sipp.Start(t, uacFarHold, "-m", "1", e.LocalAddr())
	off := s.wait(t, "offer", 10*time.Second, isOffered).(domain.CallOffered)
	if off.Remote.Number != "+15557654321" || off.Remote.Name != "Jane Roe" || off.DialedNumber != "sales-queue" {
		t.Errorf("offer %+v", off)
	}
	if err := e.Answer(off.ID); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answered", 10*time.Second, isAnswered(off.ID))
	s.wait(t, "remote hold", 10*time.Second, isRemoteHold(off.ID, true))
	ev := s.wait(t, "ended", 15*time.Second, isEnded(off.ID)).(domain.CallEnded)
	if ev.Cause != domain.CauseRemoteHangup {
		t.Errorf("cause %v", ev.Cause)
	}
	if err := uac.Wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(uac.Messages(), "a=recvonly") {
		t.Errorf("hold not answered recvonly:\n%s", uac.Messages())
	}
}

const uacStranger = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="stranger">
  <send retrans="500"><![CDATA[
INVITE sip:go1@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:ghost@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
To: <sip:go1@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:ghost@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="403" />
  <send><![CDATA[
ACK sip:go1@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:ghost@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
</scenario>`

// TestGhostCallsRefused: an INVITE straight from a stranger (not the
// registrar) and a sipvicious scan never ring the agent.
func TestGhostCallsRefused(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	e, s := registeredEngine(t, k, "go1", "go1-pw")
	uac := sipp.Start(t, uacStranger, "-m", "1", e.LocalAddr())
	if err := uac.Wait(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, tool := range []string{"svmap", "svwar"} {
		if _, err := exec.LookPath(tool); err != nil {
			requirePeer(t, tool+" (Debian package sipvicious)")
		}
	}
	_, port, _ := strings.Cut(e.LocalAddr(), ":")
	scanPort, err := kamailio.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"svmap", "-b", "127.0.0.1", "-P", strconv.Itoa(scanPort), "-p" + port, "127.0.0.1"},
		{"svwar", "-b", "127.0.0.1", "-P", strconv.Itoa(scanPort), "-p" + port, "--force", "-e100-120", "-m", "INVITE", "127.0.0.1"},
		{"svwar", "-b", "127.0.0.1", "-P", strconv.Itoa(scanPort), "-p" + port, "--force", "-d", "/dev/null", "-e", "go1", "-m", "INVITE", "127.0.0.1"},
	} {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		t.Logf("%s: %v\n%s", args[0], err, out)
	}
	time.Sleep(500 * time.Millisecond)
	s.none(t, "offered call", isOffered)
}

// TestDTMFToBaresip sends RFC 4733 digits that baresip reports.
func TestDTMFToBaresip(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr})
	e, s := registeredEngine(t, k, "go1", "go1-pw")
	id := domain.NewCallID()
	// DTMF first, before any audio was written (diago's deadlock case).
	if err := e.Dial(id, "alice"); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answer", 15*time.Second, isAnswered(id))
	if err := e.SendDTMF(id, "19#"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 3 {
		ev, err := alice.WaitEvent("CALL_DTMF_START", 10*time.Second)
		if err != nil {
			t.Fatalf("%v (got %q)\n%s", err, got, alice.Log())
		}
		got = append(got, ev.Param)
	}
	if strings.Join(got, "") != "19#" {
		t.Errorf("baresip got %q", got)
	}
	st, err := e.CallStats(id)
	if err != nil || st.PacketsSent == 0 {
		t.Errorf("stats after dtmf %+v %v (writes blocked?)", st, err)
	}
	if err := e.SendDTMF(id, "x"); err == nil {
		t.Error("invalid digit accepted")
	}
}

// TestBlindTransfer: we call alice, transfer her to bob; she calls bob and
// the NOTIFY reports success.
func TestBlindTransfer(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr})
	bob := baresip.Start(t, baresip.Options{User: "bob", Password: "bob-pw", Registrar: k.Addr})
	e, s := registeredEngine(t, k, "go1", "go1-pw")
	id := domain.NewCallID()
	if err := e.Dial(id, "alice"); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answer", 15*time.Second, isAnswered(id))
	if err := e.TransferBlind(id, "bob"); err != nil {
		t.Fatal(err)
	}
	r := s.wait(t, "transfer result", 20*time.Second, func(in domain.Input) bool {
		r, ok := in.(domain.TransferResult)
		return ok && r.ID == id
	}).(domain.TransferResult)
	if !r.OK {
		t.Errorf("transfer failed: %s\n%s", r.Reason, alice.Log())
	}
	ev, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ev.PeerURI, "alice") {
		t.Errorf("bob talks to %q, not alice", ev.PeerURI)
	}
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
}

func requirePeer(t *testing.T, what string) {
	t.Helper()
	msg := what + " not found: run make deps"
	if isCI() {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
