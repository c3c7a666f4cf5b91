package sip

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

const malformedSDP = "v=0\r\no=lab 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
	"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"

// rawInvite is an INVITE to user at to, from the peer at from, with extra
// header lines and a body; Content-Length is right unless extra sets one.
func rawInvite(transport, from, to, user, callID, extra, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "INVITE sip:%s@%s SIP/2.0\r\n", user, to)
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=z9hG4bK-%s\r\n", transport, from, callID)
	fmt.Fprintf(&b, "From: <sip:5551234@%s>;tag=t-%s\r\nTo: <sip:%s@%s>\r\n", from, callID, user, to)
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:lab@%s>\r\n", callID, from)
	b.WriteString(extra)
	if !strings.Contains(extra, "Content-Length") {
		fmt.Fprintf(&b, "Content-Type: application/sdp\r\nContent-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	return b.String()
}

// ackFor is the ACK of a final non-2xx response to the INVITE to user at
// to (RFC 3261 17.1.1.3: same Via branch, From, Call-ID; To with the tag).
func ackFor(res, user, to string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ACK sip:%s@%s SIP/2.0\r\n", user, to)
	for _, line := range strings.Split(res, "\r\n") {
		for _, h := range []string{"Via:", "From:", "To:", "Call-ID:"} {
			if strings.HasPrefix(line, h) {
				b.WriteString(line + "\r\n")
			}
		}
	}
	b.WriteString("CSeq: 1 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
	return b.String()
}

// malformed are messages no INVITE may ring from: garbage, broken start
// lines and headers, a lying Content-Length, an unparsable offer.
func malformed(transport, from, to string) []string {
	return []string{
		"\x00\x01\x02\xff\xfe garbage \r\n\r\n",
		"INVITE\r\n\r\n",
		"INVITE sip:go1@" + to + " SIP/2.0\r\n\r\n",
		"INVITE sip:go1@" + to + " SIP/9.9\r\nVia: x\r\n\r\n",
		strings.Replace(rawInvite(transport, from, to, "go1", "m1", "", malformedSDP), "Call-ID: m1\r\n", "", 1),
		strings.Replace(rawInvite(transport, from, to, "go1", "m2", "", malformedSDP), "CSeq: 1 INVITE", "CSeq: x INVITE", 1),
		strings.Replace(rawInvite(transport, from, to, "go1", "m3", "", malformedSDP), "From: <sip:5551234@", "From: <<<sip:@@", 1),
		rawInvite(transport, from, to, "go1", "m4", "Content-Type: application/sdp\r\nContent-Length: 99999\r\n", malformedSDP),
		rawInvite(transport, from, to, "go1", "m5", "", "v=0\r\nm=audio banana RTP/AVP x\r\n"),
		rawInvite(transport, from, to, "go1", "m6", "P-Asserted-Identity: "+strings.Repeat("<", 5000)+"\r\n", "garbage"),
	}
}

// oversized is a syntactically valid INVITE of more than 64 KiB (a huge
// header), over what sipgo parses.
func oversized(transport, from, to string) string {
	return rawInvite(transport, from, to, "go1", "big", "X-Pad: "+strings.Repeat("a", 70000)+"\r\n", malformedSDP)
}

// TestMalformedAndOversizedUDP: from the registrar's own address (trusted,
// so the ghost-call check is not what stops them), garbage, malformed and
// oversized datagrams ring nothing and do not hurt the engine: a valid
// INVITE right after is offered, and rejected with 486 on request.
func TestMalformedAndOversizedUDP(t *testing.T) {
	peer, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	from := peer.LocalAddr().String()
	e, s := startEngine(t, Account{User: "go1", Domain: from}, "x", WithKeepAlive(0))
	to, err := net.ResolveUDPAddr("udp", e.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	msgs := append(malformed("UDP", from, e.LocalAddr()), oversized("UDP", from, e.LocalAddr())[:65000])
	for _, m := range msgs {
		if _, err := peer.WriteTo([]byte(m), to); err != nil {
			t.Fatalf("send %d bytes: %v", len(m), err)
		}
	}
	// A valid INVITE after them is offered: the engine still serves, and
	// everything before it was handled (one socket, in order).
	if _, err := peer.WriteTo([]byte(rawInvite("UDP", from, e.LocalAddr(), "go1", "good", "", malformedSDP)), to); err != nil {
		t.Fatal(err)
	}
	off := s.wait(t, "offer of the valid invite", 15*time.Second, isOffered).(domain.CallOffered)
	s.none(t, "second offer", isOffered)
	if err := e.Reject(off.ID, 486); err != nil {
		t.Fatal(err)
	}
	// The valid INVITE gets our 486; the two parsable INVITEs with an
	// unusable offer get 488 (never offered); every final response is ACKed.
	want := map[string]string{"good": "SIP/2.0 486", "m5": "SIP/2.0 488", "m6": "SIP/2.0 488"}
	buf := make([]byte, 65535)
	deadline := time.Now().Add(15 * time.Second)
	for len(want) > 0 {
		_ = peer.SetReadDeadline(deadline)
		n, _, err := peer.ReadFrom(buf)
		if err != nil {
			t.Fatalf("responses missing %v: %v", want, err)
		}
		m := string(buf[:n])
		for id, status := range want {
			if strings.Contains(m, "Call-ID: "+id+"\r\n") && strings.HasPrefix(m, "SIP/2.0 ") && !strings.HasPrefix(m, "SIP/2.0 1") {
				if !strings.HasPrefix(m, status) {
					t.Errorf("%s answered %q, want %s", id, strings.SplitN(m, "\r\n", 2)[0], status)
				}
				if _, err := peer.WriteTo([]byte(ackFor(m, "go1", e.LocalAddr())), to); err != nil {
					t.Fatal(err)
				}
				delete(want, id)
			}
		}
	}
	s.none(t, "second offer", isOffered)
}

// TestMalformedAndOversizedTCP: the same over a TCP connection, plus a
// Content-Length announcing a gigabyte: the engine drops what it cannot
// parse without waiting for or buffering it, and a valid INVITE on a new
// connection from the registrar's host is offered.
func TestMalformedAndOversizedTCP(t *testing.T) {
	reg, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	e, s := startEngine(t, Account{User: "go1", Domain: reg.Addr().String(), Transport: TransportTCP}, "x", WithKeepAlive(0))
	send := func(msgs ...string) net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", e.LocalAddr(), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_ = c.SetWriteDeadline(time.Now().Add(15 * time.Second))
		for _, m := range msgs {
			if _, err := c.Write([]byte(m)); err != nil {
				// The engine may close a connection that sent garbage.
				t.Logf("write after %d bytes: %v", len(m), err)
				break
			}
		}
		return c
	}
	from := "127.0.0.1:9"
	for _, m := range malformed("TCP", from, e.LocalAddr()) {
		send(m)
	}
	send(oversized("TCP", from, e.LocalAddr()))
	send(rawInvite("TCP", from, e.LocalAddr(), "go1", "huge", "Content-Type: application/sdp\r\nContent-Length: 1000000000\r\n", malformedSDP))

	c := send(rawInvite("TCP", from, e.LocalAddr(), "go1", "good", "", malformedSDP))
	off := s.wait(t, "offer of the valid invite", 15*time.Second, isOffered).(domain.CallOffered)
	s.none(t, "second offer", isOffered)
	if err := e.Reject(off.ID, 486); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	r := bufio.NewReader(c)
	var res strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("no 486 on the connection: %v", err)
		}
		if strings.HasPrefix(line, "SIP/2.0 ") {
			res.Reset()
		}
		res.WriteString(line)
		if line == "\r\n" && strings.HasPrefix(res.String(), "SIP/2.0 486") {
			break
		}
	}
	if _, err := c.Write([]byte(ackFor(res.String(), "go1", e.LocalAddr()))); err != nil {
		t.Fatal(err)
	}
	s.none(t, "second offer", isOffered)
}
