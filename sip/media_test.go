package sip

import (
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/sipp"
)

// readPCMAt reads about d of PCM at rate from r.
func readPCMAt(t *testing.T, r io.Reader, rate int, d time.Duration) []int16 {
	t.Helper()
	want := int(d.Seconds() * float64(rate) * 2)
	buf := make([]byte, 0, want)
	tmp := make([]byte, rate/50*2)
	deadline := time.Now().Add(d + 20*time.Second)
	for len(buf) < want && time.Now().Before(deadline) {
		n, err := r.Read(tmp)
		if err != nil {
			t.Fatalf("read rx: %v", err)
		}
		buf = append(buf, tmp[:n]...)
	}
	return samples(buf)
}

// sendToneAt writes a sine at hz and rate to w in 20 ms frames until stop
// is set (the RTP writer paces the frames).
func sendToneAt(w io.Writer, rate, hz int, stop *atomic.Bool) {
	n := rate / 50
	for i := 0; !stop.Load(); i++ {
		if _, err := w.Write(tonePCM(hz, rate, n, i*n)); err != nil {
			return
		}
	}
}

// TestOpusCallWithBaresipAndRTT dials baresip offering only Opus at payload
// type 111 (diago alone matches Opus at 96 only: issue #113), checks
// baresip's 440 Hz tone in our 48 kHz PCM and our 1000 Hz tone in
// baresip's recording, and waits for a round-trip time computed from
// baresip's RTCP reports on our sender reports.
func TestOpusCallWithBaresipAndRTT(t *testing.T) {
	alice := baresip.Start(t, baresip.Options{User: "alice", ToneHz: 440, Codecs: "opus/48000/2", Modules: []string{"opus.so"}})
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", Codecs: []string{"opus"}}, "x")

	id := domain.NewCallID()
	if err := e.Dial(id, alice.URI); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answer", 20*time.Second, isAnswered(id))
	if _, err := alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ca, err := e.CallAudio(id)
	if err != nil {
		t.Fatal(err)
	}
	if ca.SampleRate != 48000 || ca.FrameSize != 960 {
		t.Errorf("audio format %d Hz / %d", ca.SampleRate, ca.FrameSize)
	}
	var stop atomic.Bool
	defer stop.Store(true)
	go sendToneAt(ca.Tx, 48000, 1000, &stop)
	// Rx is read all along: that is what counts packets and jitter.
	rxDone := make(chan []int16, 1)
	go func() {
		readPCMAt(t, ca.Rx, 48000, 300*time.Millisecond) // skip the start
		rxDone <- readPCMAt(t, ca.Rx, 48000, 1500*time.Millisecond)
		buf := make([]byte, 1920)
		for {
			if _, err := ca.Rx.Read(buf); err != nil {
				return
			}
		}
	}()
	var pcm []int16
	select {
	case pcm = <-rxDone:
	case <-time.After(40 * time.Second):
		t.Fatal("no audio received")
	}
	if sh := baresip.ToneShare(pcm, 48000, 440); sh < 0.6 {
		t.Errorf("440 Hz share in our received audio = %.2f", sh)
	}
	// RTCP every 5 s each way: the first report answering one of our
	// sender reports comes within about 10 s.
	var st domain.CallStats
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		if st, err = e.CallStats(id); err != nil {
			t.Fatal(err)
		}
		if st.RTT > 0 {
			break
		}
		time.Sleep(200 * time.Millisecond) // polling a figure, not synchronising
	}
	if st.RTT <= 0 || st.RTT > 500 {
		t.Errorf("rtt %.3f ms on loopback; want a small positive figure", st.RTT)
	}
	if st.Codec != "opus" || st.PacketsReceived < 50 || st.PacketsSent < 50 {
		t.Errorf("stats %+v", st)
	}
	stop.Store(true)
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(alice.Log(), "opus") {
		t.Logf("baresip log:\n%s", alice.Log())
	}
	peerHeard(t, alice, 1000)
}

// uacOffer calls go1 directly with the given SDP media lines, expects
// response (with ACK; a 200 must answer with answerRe), and hangs up
// after a 200.
func uacOffer(media, response, answerRe string) string {
	head := `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="offer">
  <send retrans="500"><![CDATA[
INVITE sip:go1@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:5551234@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
To: <sip:go1@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:lab@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=lab 1 1 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
` + media + `
a=sendrecv
]]></send>
  <recv response="100" optional="true" />
  <recv response="180" optional="true" />
`
	if response != "200" {
		return head + `  <recv response="` + response + `" />
  <send><![CDATA[
ACK sip:go1@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:5551234@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
</scenario>`
	}
	return head + `  <recv response="200" rrs="true">
    <action><ereg regexp="` + answerRe + `" search_in="body" check_it="true" assign_to="answer"/></action>
  </recv>
  <Reference variables="answer"/>
  <send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:5551234@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
  <pause milliseconds="500" />
  <send><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:5551234@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" />
</scenario>`
}

// TestInboundOpusAtPayloadType98 answers an offer of Opus at PT 98 (and
// PCMU): the answer keeps Opus at 98 (diago alone answered PCMU, or 480
// for an Opus-only offer), and the call's codec is Opus at 48 kHz.
func TestInboundOpusAtPayloadType98(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", AllowDirectCalls: true, Codecs: []string{"opus", "PCMU"}}, "x")
	uac := sipp.Start(t, uacOffer("m=audio [media_port] RTP/AVP 98 0 100\na=rtpmap:98 opus/48000/2\na=fmtp:98 useinbandfec=1\na=rtpmap:0 PCMU/8000\na=rtpmap:100 telephone-event/8000",
		"200", `m=audio [0-9]+ RTP/AVP 98( 100)?[[:space:]]`), "-m", "1", e.LocalAddr())
	off := s.wait(t, "offer", 15*time.Second, isOffered).(domain.CallOffered)
	if err := e.Answer(off.ID); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answered", 15*time.Second, isAnswered(off.ID))
	ca, err := e.CallAudio(off.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ca.SampleRate != 48000 || ca.FrameSize != 960 {
		t.Errorf("audio format %d Hz / %d", ca.SampleRate, ca.FrameSize)
	}
	s.wait(t, "ended", 15*time.Second, isEnded(off.ID))
	if err := uac.Wait(15 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, uac.Messages())
	}
	if !strings.Contains(uac.Messages(), "a=rtpmap:98 opus/48000/2") {
		t.Errorf("answer without opus at 98:\n%s", uac.Messages())
	}
}

// TestInboundNoCommonCodecIs488: an Opus-only offer to an account without
// Opus is refused with 488 Not Acceptable Here and never rings.
func TestInboundNoCommonCodecIs488(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", AllowDirectCalls: true, Codecs: []string{"PCMU", "PCMA"}}, "x")
	uac := sipp.Start(t, uacOffer("m=audio [media_port] RTP/AVP 111 101\na=rtpmap:111 opus/48000/2\na=rtpmap:101 telephone-event/8000", "488", ""),
		"-m", "1", e.LocalAddr())
	if err := uac.Wait(15 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, uac.Messages())
	}
	s.none(t, "offer of a call without a common codec", isOffered)
}
