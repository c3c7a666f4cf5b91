package kamailio

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestStart starts kamailio, checks that it answers on its port and that an
// unauthenticated REGISTER is challenged (digest auth is on).
func TestStart(t *testing.T) {
	s := Start(t, Options{})
	if err := s.ping(); err != nil {
		t.Fatalf("ping: %v", err)
	}
	c, err := net.Dial("udp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	reg := "REGISTER sip:" + s.Addr + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bK-t1;rport\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:go1@127.0.0.1>;tag=a\r\nTo: <sip:go1@127.0.0.1>\r\nCall-ID: t1\r\n" +
		"CSeq: 1 REGISTER\r\nContact: <sip:go1@" + local + ">\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(reg)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("no answer to REGISTER: %v", err)
	}
	if got := string(buf[:n]); !strings.HasPrefix(got, "SIP/2.0 401") || !strings.Contains(got, "WWW-Authenticate: Digest") {
		t.Fatalf("REGISTER without credentials was not challenged:\n%s", got)
	}
	if s.Contacts("go1") != "" {
		t.Fatal("go1 registered without credentials")
	}
}

func TestFreePort(t *testing.T) {
	p, err := FreePort()
	if err != nil || p <= 0 {
		t.Fatalf("FreePort = %d, %v", p, err)
	}
}
