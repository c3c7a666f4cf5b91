package sip

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/kamailio"
)

func TestRegisterAgainstKamailio(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	e, s := startEngine(t, Account{User: "go1", Domain: k.Addr, Expiry: 60 * time.Second}, "go1-pw")
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "registering", 10*time.Second, isReg(domain.RegRegistering))
	s.wait(t, "registered", 10*time.Second, isReg(domain.RegRegistered))
	contact := k.WaitRegistered(t, "go1", 5*time.Second)
	if !strings.Contains(contact, e.LocalAddr()) {
		t.Errorf("kamailio contact %q does not point at %s", contact, e.LocalAddr())
	}
	if err := e.Unregister(); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "unregistered", 10*time.Second, isReg(domain.RegUnregistered))
	k.WaitUnregistered(t, "go1", 5*time.Second)
}

func TestRegisterRefreshesBeforeExpiry(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{MinExpires: 2})
	e, s := startEngine(t, Account{User: "go2", Domain: k.Addr, Expiry: 6 * time.Second}, "go2-pw")
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "registered", 10*time.Second, isReg(domain.RegRegistered))
	// A 6 s registration is refreshed after ~1 s (5 s before it runs out):
	// still registered well after the first one would have expired.
	time.Sleep(8 * time.Second)
	if k.Contacts("go2") == "" {
		t.Fatal("registration expired: not refreshed")
	}
	s.none(t, "failure", isReg(domain.RegFailed))
}

func TestRegisterWrongPassword(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	e, s := startEngine(t, Account{User: "go1", Domain: k.Addr}, "not-the-password")
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	ev := s.wait(t, "failure", 10*time.Second, isReg(domain.RegFailed)).(domain.RegistrationChanged)
	if ev.Reason != "wrong user name or password" {
		t.Errorf("reason = %q", ev.Reason)
	}
	// It keeps retrying with back-off and reports each failure.
	s.wait(t, "second failure", 10*time.Second, isReg(domain.RegFailed))
	if k.Contacts("go1") != "" {
		t.Error("registered with a wrong password")
	}
}

func TestRegisterUnknownUser(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	e, s := startEngine(t, Account{User: "nobody", Domain: k.Addr}, "x")
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	ev := s.wait(t, "failure", 10*time.Second, isReg(domain.RegFailed)).(domain.RegistrationChanged)
	// kamailio challenges unknown users like wrong passwords (no user
	// enumeration), so this is all a registrar lets us say.
	if ev.Reason != "wrong user name or password" {
		t.Errorf("reason = %q", ev.Reason)
	}
}

// TestRegisterUnreachable is the diago Register-panic workaround: a
// registrar that never answers (UDP) and one that refuses (TCP) give a
// failure with a reason, no panic, and retries.
func TestRegisterUnreachable(t *testing.T) {
	// A UDP socket that reads and never answers.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, _, err := silent.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	e, s := startEngine(t, Account{User: "go1", Domain: silent.LocalAddr().String()}, "go1-pw",
		WithRegisterTimeout(time.Second))
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	ev := s.wait(t, "failure", 10*time.Second, isReg(domain.RegFailed)).(domain.RegistrationChanged)
	if !strings.HasPrefix(ev.Reason, "timeout") {
		t.Errorf("reason = %q", ev.Reason)
	}
	s.wait(t, "retry failure", 10*time.Second, isReg(domain.RegFailed))

	// TCP to a closed port: connection refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	e2, s2 := startEngine(t, Account{User: "go1", Domain: closed, Transport: TransportTCP}, "go1-pw",
		WithRegisterTimeout(time.Second))
	if err := e2.Register(); err != nil {
		t.Fatal(err)
	}
	ev = s2.wait(t, "failure", 10*time.Second, isReg(domain.RegFailed)).(domain.RegistrationChanged)
	if !strings.Contains(ev.Reason, "refused") && !strings.HasPrefix(ev.Reason, "timeout") && !strings.HasPrefix(ev.Reason, "network") {
		t.Errorf("reason = %q", ev.Reason)
	}
}

func TestRegisterDNSError(t *testing.T) {
	e, s := startEngine(t, Account{User: "go1", Domain: "no-such-host.invalid"}, "x")
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	ev := s.wait(t, "failure", 15*time.Second, isReg(domain.RegFailed)).(domain.RegistrationChanged)
	if !strings.HasPrefix(ev.Reason, "dns error") {
		t.Errorf("reason = %q", ev.Reason)
	}
}

func TestReasonAndBackoff(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{&regError{Code: 401, Authed: true}, "wrong user name or password"},
		{&regError{Code: 403}, "wrong user name or password (403 Forbidden)"},
		{&regError{Code: 404}, "unknown user (404 Not Found)"},
		{&regError{Code: 503, Reason: "Service Unavailable"}, "registrar unavailable (503 Service Unavailable)"},
		{&net.DNSError{Name: "pbx.example"}, "dns error: cannot resolve pbx.example"},
	}
	for _, c := range cases {
		if got := reason(c.err); got != c.want {
			t.Errorf("reason(%v) = %q, want %q", c.err, got, c.want)
		}
	}
	if got := reason(errors.New("boom")); got != "network error: boom" {
		t.Errorf("reason = %q", got)
	}
	for n := 1; n < 12; n++ {
		d := backoff(n, time.Second, time.Minute)
		lo := time.Second << (n - 1)
		if lo > time.Minute {
			lo = time.Minute
		}
		if d < lo || d > lo+lo/5 {
			t.Errorf("backoff(%d) = %v, want %v..%v", n, d, lo, lo+lo/5)
		}
	}
	if refreshIn(60*time.Second) != 45*time.Second || refreshIn(6*time.Second) != time.Second {
		t.Errorf("refreshIn = %v, %v", refreshIn(60*time.Second), refreshIn(6*time.Second))
	}
}

func TestNewValidates(t *testing.T) {
	for _, a := range []Account{
		{Domain: "pbx"},
		{User: "a"},
		{User: "a b", Domain: "pbx"},
		{User: "a", Domain: "pbx", Registrar: "pbx:99999"},
		{User: "a", Domain: "pbx", Codecs: []string{"G729"}},
		{User: "a", Domain: "pbx", Transport: 9},
		{User: "a", Domain: "pbx", DTMF: 7},
		{User: "a", Domain: "pbx", SecondaryRegistrar: "pbx:0"},
		{User: "a", Domain: "pbx", SRTP: SRTPRequired},
	} {
		if _, err := New(a, pw("x")); err == nil {
			t.Errorf("New(%+v) accepted", a)
		}
	}
	if _, err := New(Account{User: "a", Domain: "pbx"}, nil); !errors.Is(err, ErrInvalidAccount) {
		t.Errorf("nil password source: %v", err)
	}
	e, err := New(Account{User: "a", Domain: "pbx"}, pw("x"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Register(); !errors.Is(err, ErrNotStarted) {
		t.Errorf("Register before Start = %v", err)
	}
}
