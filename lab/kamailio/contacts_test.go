package kamailio

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestContactsNumericUser registers the numeric user 1000 with digest
// credentials and finds its contact through Contacts (kamcmd must get the
// user as a string: a bare 1000 is sent as a number and the lookup fails).
func TestContactsNumericUser(t *testing.T) {
	s := Start(t, Options{})
	c, err := net.Dial("udp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	local := c.LocalAddr().String()
	const user, pw = "1000", "pw1000"
	uri := "sip:" + s.Addr
	register := func(cseq int, auth string) string {
		t.Helper()
		msg := "REGISTER " + uri + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + fmt.Sprintf(";branch=z9hG4bK-n%d;rport\r\n", cseq) +
			"Max-Forwards: 70\r\nFrom: <sip:" + user + "@127.0.0.1>;tag=n\r\nTo: <sip:" + user + "@127.0.0.1>\r\nCall-ID: numeric-1\r\n" +
			fmt.Sprintf("CSeq: %d REGISTER\r\n", cseq) + "Contact: <sip:" + user + "@" + local + ">\r\nExpires: 60\r\n" + auth +
			"Content-Length: 0\r\n\r\n"
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("no answer to REGISTER: %v", err)
			}
			if got := string(buf[:n]); !strings.HasPrefix(got, "SIP/2.0 1") {
				return got
			}
		}
	}
	challenge := register(1, "")
	if !strings.HasPrefix(challenge, "SIP/2.0 401") {
		t.Fatalf("REGISTER without credentials:\n%s", challenge)
	}
	param := func(name string) string {
		m := regexp.MustCompile(`(?i)` + name + `="?([^",\r]+)"?`).FindStringSubmatch(challenge)
		if m == nil {
			return ""
		}
		return m[1]
	}
	realm, nonce, qop := param("realm"), param("nonce"), param("qop")
	md := func(s string) string { h := md5.Sum([]byte(s)); return hex.EncodeToString(h[:]) }
	ha1, ha2 := md(user+":"+realm+":"+pw), md("REGISTER:"+uri)
	auth := fmt.Sprintf(`Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5`, user, realm, nonce, uri)
	if strings.Contains(qop, "auth") {
		const nc, cnonce = "00000001", "0a4f113b"
		auth += fmt.Sprintf(`, qop=auth, nc=%s, cnonce="%s", response="%s"`, nc, cnonce, md(ha1+":"+nonce+":"+nc+":"+cnonce+":auth:"+ha2))
	} else {
		auth += fmt.Sprintf(`, response="%s"`, md(ha1+":"+nonce+":"+ha2))
	}
	if got := register(2, auth+"\r\n"); !strings.HasPrefix(got, "SIP/2.0 200") {
		t.Fatalf("REGISTER with credentials:\n%s\nkamailio log:\n%s", got, s.Log())
	}
	if got := s.WaitRegistered(t, user, 20*time.Second); !strings.Contains(got, local) {
		t.Fatalf("contact of %s: %q, want %s", user, got, local)
	}
	if s.Contacts("1001") != "" {
		t.Fatal("1001 has a contact without registering")
	}
}
