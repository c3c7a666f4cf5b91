package sip

import (
	"crypto/md5"
	"encoding/hex"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// digestRegistrar is a registrar on 127.0.0.1 that challenges every
// REGISTER (digest MD5, realm "lab") and accepts only the digest of
// authUser with password; it records what each accepted REGISTER said.
type digestRegistrar struct {
	addr     string
	authUser string
	password string

	mu       sync.Mutex
	accepted []regSeen
	wake     chan struct{}
}

// regSeen is one accepted REGISTER.
type regSeen struct {
	fromUser string
	expires  string
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// digestParam returns a parameter of a Digest Authorization value.
func digestParam(v, name string) string {
	for _, part := range strings.Split(strings.TrimPrefix(v, "Digest "), ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(k, name) {
			return strings.Trim(val, `"`)
		}
	}
	return ""
}

func startDigestRegistrar(t *testing.T, authUser, password string) *digestRegistrar {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("registrar"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	r := &digestRegistrar{authUser: authUser, password: password, wake: make(chan struct{}, 1)}
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		h := req.GetHeader("Authorization")
		if h == nil {
			res := sip.NewResponseFromRequest(req, sip.StatusUnauthorized, "Unauthorized", nil)
			res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="lab", nonce="n0nce", algorithm=MD5`))
			_ = tx.Respond(res)
			return
		}
		v := h.Value()
		user, uri := digestParam(v, "username"), digestParam(v, "uri")
		want := md5hex(md5hex(user+":lab:"+r.password) + ":n0nce:" + md5hex("REGISTER:"+uri))
		if user != r.authUser || digestParam(v, "response") != want {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
			return
		}
		seen := regSeen{}
		if f := req.From(); f != nil {
			seen.fromUser = f.Address.User
		}
		if e := req.GetHeader("Expires"); e != nil {
			seen.expires = e.Value()
		}
		r.mu.Lock()
		r.accepted = append(r.accepted, seen)
		r.mu.Unlock()
		select {
		case r.wake <- struct{}{}:
		default:
		}
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(sip.NewHeader("Expires", seen.expires))
		_ = tx.Respond(res)
	})
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = l.LocalAddr().String()
	go func() { _ = srv.ServeUDP(l) }()
	t.Cleanup(func() { _ = l.Close(); _ = ua.Close() })
	return r
}

// waitAccepted waits until n REGISTERs were accepted and returns them.
func (r *digestRegistrar) waitAccepted(t *testing.T, n int, within time.Duration) []regSeen {
	t.Helper()
	deadline := time.After(within)
	for {
		r.mu.Lock()
		got := append([]regSeen(nil), r.accepted...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.wake:
		case <-deadline:
			t.Fatalf("%d REGISTERs accepted within %v, want %d: %+v", len(got), within, n, got)
		}
	}
}

func (r *digestRegistrar) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.accepted)
}

// TestAuthUserReregisterAndUnregisterOnClose: the digest uses the auth
// user while From carries the user; Reregister (network change, resume)
// registers again at once, long before the refresh is due; Close
// unregisters (Expires: 0).
func TestAuthUserReregisterAndUnregisterOnClose(t *testing.T) {
	reg := startDigestRegistrar(t, "auth-go1", "s3cret")
	e, s := startEngine(t, Account{User: "go1", AuthUser: "auth-go1", Domain: reg.addr, Expiry: time.Hour}, "s3cret",
		WithKeepAlive(0))
	if err := e.Reregister(); err != nil {
		t.Fatal(err)
	}
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "registered", 10*time.Second, isReg(domain.RegRegistered))
	first := reg.waitAccepted(t, 1, 10*time.Second)
	// Reregister before Register asked for nothing: one REGISTER only.
	if len(first) != 1 || first[0].fromUser != "go1" || first[0].expires != "3600" {
		t.Fatalf("accepted %+v, want one REGISTER from go1 for 3600 s", first)
	}
	if err := e.Reregister(); err != nil {
		t.Fatal(err)
	}
	got := reg.waitAccepted(t, 2, 10*time.Second) // the refresh is due in 45 min
	if got[1].expires != "3600" {
		t.Errorf("re-registration %+v", got[1])
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	got = reg.waitAccepted(t, 3, 10*time.Second)
	if got[2].expires != "0" {
		t.Errorf("no unregister on close: %+v", got)
	}
	if n := reg.count(); n != 3 {
		t.Errorf("%d REGISTERs, want 3", n)
	}
}

// TestAuthUserWrongIsRefused: the same registrar refuses the account when
// the digest is made with the wrong auth user (User instead of AuthUser),
// so the test above cannot pass by accident.
func TestAuthUserWrongIsRefused(t *testing.T) {
	reg := startDigestRegistrar(t, "auth-go1", "s3cret")
	e, s := startEngine(t, Account{User: "go1", Domain: reg.addr}, "s3cret", WithKeepAlive(0))
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	ev := s.wait(t, "failure", 10*time.Second, isReg(domain.RegFailed)).(domain.RegistrationChanged)
	if !strings.HasPrefix(ev.Reason, "wrong user name or password") {
		t.Errorf("reason %q", ev.Reason)
	}
	if reg.count() != 0 {
		t.Error("registered with the wrong auth user")
	}
}
