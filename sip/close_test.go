package sip

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

// TestCloseWhileRejectAwaitsAck: the agent rejects a call and the app
// closes the engine before the caller's ACK came (the reject's final
// response is still in its transaction). Close must not answer the call a
// second time (a 503 after the 486, racing the call goroutine on the same
// dialog: a data race under -race); the caller sees one final response.
func TestCloseWhileRejectAwaitsAck(t *testing.T) {
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
	if _, err := peer.WriteTo([]byte(rawInvite("UDP", from, e.LocalAddr(), "go1", "rej", "", malformedSDP)), to); err != nil {
		t.Fatal(err)
	}
	off := s.wait(t, "offer", 15*time.Second, isOffered).(domain.CallOffered)
	if err := e.Reject(off.ID, 486); err != nil {
		t.Fatal(err)
	}
	// finals reads final responses to our INVITE until the deadline.
	buf := make([]byte, 65535)
	finals := func(until time.Time) []string {
		var out []string
		for {
			_ = peer.SetReadDeadline(until)
			n, _, err := peer.ReadFrom(buf)
			if err != nil {
				return out
			}
			m := string(buf[:n])
			if strings.HasPrefix(m, "SIP/2.0 ") && !strings.HasPrefix(m, "SIP/2.0 1") && strings.Contains(m, "Call-ID: rej\r\n") {
				out = append(out, strings.SplitN(m, "\r\n", 2)[0])
				return out
			}
		}
	}
	if got := finals(time.Now().Add(15 * time.Second)); len(got) != 1 || got[0] != "SIP/2.0 486 Busy Here" {
		t.Fatalf("final responses %q, want 486", got)
	}
	// No ACK yet: the reject is still waiting for it when we close.
	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("close hangs")
	}
	// Whatever came meanwhile (486 retransmissions): never another code.
	for _, f := range finals(time.Now().Add(200 * time.Millisecond)) {
		if f != "SIP/2.0 486 Busy Here" {
			t.Errorf("second final response %q after the reject", f)
		}
	}
}
