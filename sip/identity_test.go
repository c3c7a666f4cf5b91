package sip

import (
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/sipp"
)

// uacIdentity calls go1 as Jane Roe (P-Asserted-Identity); after the
// answer its side transfers the call, as a PBX announces it: an UPDATE
// without a body asserting the new party, the same UPDATE again (no
// change), then a re-INVITE with Remote-Party-ID naming a third party;
// then it hangs up.
func uacIdentity() string {
	from := `From: "Lab Caller" <sip:5551234@[local_ip]:[local_port]>;tag=[pid]lab[call_number]`
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
	update := func(cseq, identity string) string {
		return `  <send retrans="500"><![CDATA[
UPDATE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
` + from + `
[last_To:]
Call-ID: [call_id]
CSeq: ` + cseq + ` UPDATE
Contact: <sip:lab@[local_ip]:[local_port]>
P-Asserted-Identity: ` + identity + `
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" />
`
	}
	return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="identity updates">
  <send retrans="500"><![CDATA[
INVITE sip:go1@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
` + from + `
To: <sip:go1@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:lab@[local_ip]:[local_port]>
P-Asserted-Identity: "Jane Roe" <sip:+15557654321@[local_ip]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

` + sdpBody + `a=sendrecv
]]></send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
  <recv response="200" rrs="true" />
` + ack("1") +
		update("2", `"Bob Transfer" <sip:+15559990000@[local_ip]>`) +
		update("3", `"Bob Transfer" <sip:+15559990000@[local_ip]>`) + `  <send retrans="500"><![CDATA[
INVITE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
` + from + `
[last_To:]
Call-ID: [call_id]
CSeq: 4 INVITE
Contact: <sip:lab@[local_ip]:[local_port]>
Remote-Party-ID: "Carol" <sip:+15558880000@[local_ip]>;party=calling;screen=yes
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

` + sdpBody + `a=sendrecv
]]></send>
  <recv response="200" />
` + ack("4") + `  <send><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
` + from + `
[last_To:]
Call-ID: [call_id]
CSeq: 5 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" />
</scenario>`
}

func isPartyChange(id domain.CallID) func(domain.Input) bool {
	return func(in domain.Input) bool { p, ok := in.(domain.RemotePartyChanged); return ok && p.ID == id }
}

// TestRemotePartyFromUpdateAndReinvite: the far end's new identity in an
// UPDATE (answered 200 by us: diago alone does not handle UPDATE) and in a
// re-INVITE is posted as RemotePartyChanged, once per change, and the call
// stays up until the far end hangs up.
func TestRemotePartyFromUpdateAndReinvite(t *testing.T) {
	// sipp sends its UPDATE right after the ACK; on a busy machine it once
	// arrived before the answered call was ours and got 481. Widen that
	// window on purpose: the UPDATE must wait for the answer.
	testAfterAnswer = func() { time.Sleep(300 * time.Millisecond) }
	t.Cleanup(func() { testAfterAnswer = nil })
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", AllowDirectCalls: true}, "x")
	uac := sipp.Start(t, uacIdentity(), "-m", "1", e.LocalAddr())
	off := s.wait(t, "offer", 10*time.Second, isOffered).(domain.CallOffered)
	if off.Remote != (domain.Party{Number: "+15557654321", Name: "Jane Roe"}) {
		t.Errorf("offer %+v", off.Remote)
	}
	if err := e.Answer(off.ID); err != nil {
		t.Fatal(err)
	}
	if err := uac.Wait(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	// Identity events are posted before the request is answered: all are
	// in once sipp is done.
	if n := s.count(isPartyChange(off.ID)); n != 2 {
		t.Errorf("%d RemotePartyChanged events, want 2", n)
	}
	for _, want := range []domain.Party{{Number: "+15559990000", Name: "Bob Transfer"}, {Number: "+15558880000", Name: "Carol"}} {
		p := s.wait(t, "remote party change", 10*time.Second, isPartyChange(off.ID)).(domain.RemotePartyChanged)
		if p.Party != want {
			t.Errorf("party %+v, want %+v", p.Party, want)
		}
	}
	ev := s.wait(t, "ended", 10*time.Second, isEnded(off.ID)).(domain.CallEnded)
	if ev.Cause != domain.CauseRemoteHangup {
		t.Errorf("cause %v", ev.Cause)
	}
}
