package sip

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
)

// TestTLSRegisterAndCall: over TLS to kamailio with the lab CA as the
// account's CA file: registration, a call to baresip through the proxy
// (baresip's tone in our received audio), and a call from baresip relayed
// to our TLS contact.
func TestTLSRegisterAndCall(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{TLS: true})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr, ToneHz: 440})
	e, s := startEngine(t, Account{User: "go1", Domain: k.Addr, OutboundProxy: k.TLSAddr,
		Transport: TransportTLS, CAFile: k.CAFile}, "go1-pw")
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "registered", 15*time.Second, isReg(domain.RegRegistered))
	if c := k.WaitRegistered(t, "go1", 5*time.Second); !strings.Contains(c, "transport=tls") {
		t.Errorf("contact %q is not a tls one", c)
	}
	id := domain.NewCallID()
	if err := e.Dial(id, "alice"); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answer", 15*time.Second, isAnswered(id))
	if _, err := alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ca, err := e.CallAudio(id)
	if err != nil {
		t.Fatal(err)
	}
	if sh := baresip.ToneShare(readPCM(t, ca.Rx, time.Second), 8000, 440); sh < 0.6 {
		t.Errorf("440 Hz share = %.2f", sh)
	}
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// Inbound over TLS: kamailio relays alice's call to our tls contact.
	if _, err := alice.Command("dial", "sip:go1@"+k.Addr); err != nil {
		t.Fatal(err)
	}
	off := s.wait(t, "offer", 15*time.Second, isOffered).(domain.CallOffered)
	if err := e.Answer(off.ID); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answered", 10*time.Second, isAnswered(off.ID))
	if _, err := alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := e.Hangup(off.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestTLSUntrustedAndBadCA: without the lab CA the registrar's
// certificate is refused (never skipped) with a plain reason; a CA file
// that is missing or holds no certificate is refused by New.
func TestTLSUntrustedAndBadCA(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{TLS: true})
	e, s := startEngine(t, Account{User: "go1", Domain: k.Addr, OutboundProxy: k.TLSAddr, Transport: TransportTLS}, "go1-pw")
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	ev := s.wait(t, "failure", 15*time.Second, isReg(domain.RegFailed)).(domain.RegistrationChanged)
	if !strings.HasPrefix(ev.Reason, "tls error") {
		t.Errorf("reason %q, want a tls error", ev.Reason)
	}
	if c := k.Contacts("go1"); c != "" {
		t.Errorf("registered through an untrusted connection: %q", c)
	}

	garbage := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{garbage, filepath.Join(t.TempDir(), "missing.pem")} {
		_, err := New(Account{User: "go1", Domain: k.Addr, Transport: TransportTLS, CAFile: f}, pw("x"))
		if !errors.Is(err, ErrInvalidAccount) {
			t.Errorf("ca file %s: %v", f, err)
		}
	}
}
