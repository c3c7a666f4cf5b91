package sip

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/sipp"
)

// uacInfo calls go1, sends three INFOs (dtmf-relay "5", dtmf "#", and a
// text body that must be refused with 415), then hangs up.
func uacInfo() string {
	info := func(cseq, ctype, body string, code int) string {
		return `  <send><![CDATA[
INFO [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:caller@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: ` + cseq + ` INFO
Max-Forwards: 70
Content-Type: ` + ctype + `
Content-Length: [len]

` + body + `
]]></send>
  <recv response="` + strconv.Itoa(code) + `" />
`
	}
	return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="info">
  <send retrans="500"><![CDATA[
INVITE sip:go1@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:caller@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
To: <sip:go1@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:caller@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

` + sdpBody + `a=sendrecv
]]></send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="200" rrs="true" />
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:caller@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
` + info("2", "application/dtmf-relay", "Signal=5\r\nDuration=160", 200) +
		info("3", "application/dtmf", "#", 200) +
		info("4", "text/plain", "hello", 415) + `  <send><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:caller@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 5 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" />
</scenario>`
}

// TestInfoDTMFReceived: SIP INFO digits from the far end are answered 200
// and reported (diago alone answers 406); other INFO bodies get 415.
func TestInfoDTMFReceived(t *testing.T) {
	var mu sync.Mutex
	var got []string
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", AllowDirectCalls: true}, "x",
		WithDTMFHandler(func(id domain.CallID, d string) {
			mu.Lock()
			got = append(got, string(id)+":"+d)
			mu.Unlock()
		}))
	uac := sipp.Start(t, uacInfo(), "-m", "1", e.LocalAddr())
	off := s.wait(t, "offer", 10*time.Second, isOffered).(domain.CallOffered)
	if err := e.Answer(off.ID); err != nil {
		t.Fatal(err)
	}
	if err := uac.Wait(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	// The core gets each digit as DTMFReceived, in order, once: a digit is
	// posted before its INFO is answered, so all are in by now.
	if n := s.count(isDigit(off.ID)); n != 2 {
		t.Errorf("%d DTMFReceived events, want 2", n)
	}
	if got := waitDigits(t, s, off.ID, 2, 10*time.Second); got != "5#" {
		t.Errorf("DTMFReceived %q, want 5#", got)
	}
	s.wait(t, "ended", 10*time.Second, isEnded(off.ID))
	mu.Lock()
	defer mu.Unlock()
	want := []string{string(off.ID) + ":5", string(off.ID) + ":#"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("digits %q, want %q", got, want)
	}
}

// uasInfo answers, takes two INFOs and a BYE.
var uasInfo = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="info uas">
  <recv request="INVITE" />
` + okWithSDP("sendrecv") + `  <recv request="ACK" />
` + strings.Repeat(`  <recv request="INFO" />
`+sipp.Reply("200 OK")+``, 2) + `  <recv request="BYE" />
` + sipp.Reply("200 OK") + `</scenario>`

// TestInfoDTMFSent: an account set to SIP INFO sends each digit as an
// application/dtmf-relay INFO in the dialog.
func TestInfoDTMFSent(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", DTMF: DTMFInfo}, "x")
	uas := sipp.Start(t, uasInfo, "-m", "1")
	id := domain.NewCallID()
	if err := e.Dial(id, "sip:x@"+uas.Addr); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answer", 10*time.Second, isAnswered(id))
	if err := e.SendDTMF(id, "7#"); err != nil {
		t.Fatal(err)
	}
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	msgs := uas.Messages()
	for _, want := range []string{"Content-Type: application/dtmf-relay", "Signal=7", "Signal=#"} {
		if !strings.Contains(msgs, want) {
			t.Errorf("no %q in the INFOs:\n%s", want, msgs)
		}
	}
}
