package sip

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/sipp"
)

// uasReply answers an INVITE with 100, 180, then code, and takes the ACK.
func uasReply(code int, reason string) string {
	return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="reply ` + strconv.Itoa(code) + `">
  <recv request="INVITE" />
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <pause milliseconds="200"/>
  <send><![CDATA[
SIP/2.0 ` + strconv.Itoa(code) + ` ` + reason + `
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <recv request="ACK" />
</scenario>`
}

// TestDialFailureCodes maps final responses to the core's causes. The UAS
// pauses between 180 and the final response: sipgo may drop a provisional
// response that a final one follows at once (the core handles a failure
// without progress), and this test checks that progress is reported.
func TestDialFailureCodes(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1"}, "x")
	cases := []struct {
		code   int
		reason string
		cause  domain.EndCause
	}{
		{486, "Busy Here", domain.CauseBusy},
		{600, "Busy Everywhere", domain.CauseBusy},
		{480, "Temporarily Unavailable", domain.CauseNoAnswer},
		{408, "Request Timeout", domain.CauseNoAnswer},
		{404, "Not Found", domain.CauseInvalidNumber},
		{484, "Address Incomplete", domain.CauseInvalidNumber},
		{485, "Ambiguous", domain.CauseInvalidNumber},
		{503, "Service Unavailable", domain.CauseUnavailable},
		{603, "Decline", domain.CauseDeclined},
	}
	for _, c := range cases {
		t.Run(strconv.Itoa(c.code), func(t *testing.T) {
			uas := sipp.Start(t, uasReply(c.code, c.reason), "-m", "1")
			id := domain.NewCallID()
			if err := e.Dial(id, "sip:x@"+uas.Addr); err != nil {
				t.Fatal(err)
			}
			s.wait(t, "progress", 10*time.Second, func(in domain.Input) bool {
				p, ok := in.(domain.CallProgress)
				return ok && p.ID == id && !p.EarlyMedia
			})
			f := s.wait(t, "failure", 10*time.Second, isFailed(id)).(domain.CallFailed)
			if f.Cause != c.cause || !strings.HasPrefix(f.Reason, strconv.Itoa(c.code)) {
				t.Errorf("failed with %v %q, want %v", f.Cause, f.Reason, c.cause)
			}
			if err := uas.Wait(10 * time.Second); err != nil {
				t.Errorf("sipp: %v", err)
			}
		})
	}
}

// uasEarlyMedia sends 183 Session Progress with an SDP answer (early
// media: an announcement or the far end's own ringback), then 486.
const uasEarlyMedia = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="early media then busy">
  <recv request="INVITE" />
  <send><![CDATA[
SIP/2.0 183 Session Progress
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:uas@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=lab 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <pause milliseconds="200"/>
  <send><![CDATA[
SIP/2.0 486 Busy Here
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <recv request="ACK" />
</scenario>`

// TestDialEarlyMedia: a 183 with SDP is reported as progress with early
// media (so the core plays no local ringback over the far end's audio);
// TestDialFailureCodes checks that a 180 without SDP is not.
func TestDialEarlyMedia(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1"}, "x")
	uas := sipp.Start(t, uasEarlyMedia, "-m", "1")
	id := domain.NewCallID()
	if err := e.Dial(id, "sip:x@"+uas.Addr); err != nil {
		t.Fatal(err)
	}
	p := s.wait(t, "progress", 10*time.Second, func(in domain.Input) bool {
		p, ok := in.(domain.CallProgress)
		return ok && p.ID == id
	}).(domain.CallProgress)
	if !p.EarlyMedia {
		t.Errorf("183 with SDP reported without early media: %+v", p)
	}
	f := s.wait(t, "failure", 10*time.Second, isFailed(id)).(domain.CallFailed)
	if f.Cause != domain.CauseBusy {
		t.Errorf("failed with %v %q, want busy", f.Cause, f.Reason)
	}
	if err := uas.Wait(10 * time.Second); err != nil {
		t.Errorf("sipp: %v", err)
	}
}

// TestDialNetworkFailure: nobody at the address at all.
func TestDialNetworkFailure(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", Transport: TransportTCP}, "x")
	id := domain.NewCallID()
	if err := e.Dial(id, "sip:x@127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	f := s.wait(t, "failure", 40*time.Second, isFailed(id)).(domain.CallFailed)
	if f.Cause != domain.CauseNetwork {
		t.Errorf("cause %v (%s)", f.Cause, f.Reason)
	}
}

const uasRingForever = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="ring until cancelled">
  <recv request="INVITE" />
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <recv request="CANCEL" />
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <send><![CDATA[
SIP/2.0 487 Request Terminated
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab[call_number]
[last_Call-ID:]
CSeq: [cseq] INVITE
Content-Length: 0

]]></send>
  <recv request="ACK" />
</scenario>`

// TestDialCancel: hanging up a ringing outbound call sends CANCEL and
// posts nothing (the core has ended the call itself).
func TestDialCancel(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1"}, "x")
	uas := sipp.Start(t, uasRingForever, "-m", "1")
	id := domain.NewCallID()
	if err := e.Dial(id, "sip:x@"+uas.Addr); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "progress", 10*time.Second, func(in domain.Input) bool { _, ok := in.(domain.CallProgress); return ok })
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(15 * time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	s.none(t, "event after cancel", func(in domain.Input) bool {
		switch in.(type) {
		case domain.CallFailed, domain.CallEnded, domain.CallAnswered:
			return true
		}
		return false
	})
}

// uasCancelRace answers 200 to the INVITE when the CANCEL arrives (the
// answer crossed our CANCEL): we must ACK and then BYE the call.
var uasCancelRace = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="cancel races 200">
  <recv request="INVITE" />
  <send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <recv request="CANCEL" />
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab[call_number]
[last_Call-ID:]
CSeq: [cseq] INVITE
Contact: <sip:uas@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=lab 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>
  <recv request="ACK" />
  <recv request="BYE" />
` + sipp.Reply("200 OK") + `</scenario>`

// TestDialCancelRacing200: the far end answers just as we cancel; the call
// must not stay up (ACK then BYE) and nothing is reported to the core.
func TestDialCancelRacing200(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1"}, "x")
	uas := sipp.Start(t, uasCancelRace, "-m", "1")
	id := domain.NewCallID()
	if err := e.Dial(id, "sip:x@"+uas.Addr); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "progress", 10*time.Second, func(in domain.Input) bool { _, ok := in.(domain.CallProgress); return ok })
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(40 * time.Second); err != nil {
		t.Fatal(err)
	}
	s.none(t, "answer after cancel", isAnswered(id))
}
