package sip

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Registration is done with sipgo requests of our own, not diago's
// Register: v0.31.0 panics on an unreachable registrar (nil response), and
// reads the granted expiry only from an Expires header.

type regCmd uint8

const (
	regCmdRegister regCmd = iota + 1
	regCmdUnregister
	regCmdRefresh
	regCmdShutdown
)

type registrar struct {
	e    *Engine
	cmds chan regCmd
	done chan struct{}

	callID string
	cseq   uint32
	tag    string

	mu      sync.Mutex
	state   domain.RegState
	target  int // index into targets: the registrar in use
	targets []string
}

// active is the registrar in use ("host:port").
func (r *registrar) active() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.targets[r.target]
}

// failOver switches to the other registrar when the failure is one
// another registrar could fix (no answer, network, 5xx; not credentials).
func (r *registrar) failOver(err error) bool {
	if len(r.targets) < 2 {
		return false
	}
	var re *regError
	if errors.As(err, &re) && re.Code < 500 && re.Code != 408 {
		return false
	}
	r.mu.Lock()
	r.target = (r.target + 1) % len(r.targets)
	to := r.targets[r.target]
	r.mu.Unlock()
	r.e.log.Warn("registrar failover", "to", to, "error", err)
	return true
}

func newRegistrar(e *Engine) *registrar {
	r := &registrar{
		e: e, cmds: make(chan regCmd, 8), done: make(chan struct{}),
		callID: sip.GenerateTagN(24), tag: sip.GenerateTagN(12), cseq: 1,
		targets: []string{e.acct.registrar()},
	}
	if e.acct.SecondaryRegistrar != "" {
		r.targets = append(r.targets, withPort(e.acct.SecondaryRegistrar))
	}
	return r
}

// State is the last registration state reported.
func (r *registrar) State() domain.RegState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state
}

func (r *registrar) send(c regCmd) error {
	select {
	case r.cmds <- c:
		return nil
	case <-r.done:
		return ErrNotStarted
	default:
		return ErrBusy
	}
}

// shutdown unregisters if registered and stops the loop (bounded).
func (r *registrar) shutdown() {
	select {
	case r.cmds <- regCmdShutdown:
	case <-r.done:
		return
	case <-time.After(time.Second):
	}
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
	}
}

func (r *registrar) report(st domain.RegState, reason string) {
	r.mu.Lock()
	changed := r.state != st
	r.state = st
	r.mu.Unlock()
	if changed || st == domain.RegFailed {
		r.e.post(domain.RegistrationChanged{State: st, Reason: reason})
	}
}

// run is the registration loop: one goroutine for the engine's life.
func (r *registrar) run(ctx context.Context) {
	defer close(r.done)
	want := false
	registered := false
	failures := 0
	var timer <-chan time.Time
	attempt := func() {
		if !registered {
			r.report(domain.RegRegistering, "")
		}
		granted, err := r.register(ctx, r.e.acct.Expiry)
		if err != nil && r.failOver(err) {
			granted, err = r.register(ctx, r.e.acct.Expiry)
		}
		if err != nil {
			registered = false
			failures++
			wait := backoff(failures, r.e.backoffMin, r.e.backoffMax)
			r.e.log.Warn("registration failed", "error", err, "attempt", failures, "retry_in", wait.Round(time.Millisecond))
			r.report(domain.RegFailed, reason(err))
			timer = time.After(wait)
			return
		}
		registered, failures = true, 0
		r.report(domain.RegRegistered, "")
		timer = time.After(refreshIn(granted))
	}
	var keepAlive <-chan time.Time
	if r.e.keepAlive > 0 {
		t := time.NewTicker(r.e.keepAlive)
		defer t.Stop()
		keepAlive = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-keepAlive:
			if want && registered {
				if err := r.keepAlive(ctx); err != nil {
					r.e.log.Warn("keep-alive failed, registering again", "error", err)
					attempt()
				}
			}
		case <-timer:
			timer = nil
			if want {
				attempt()
			}
		case c := <-r.cmds:
			switch c {
			case regCmdRegister, regCmdRefresh:
				if c == regCmdRefresh && !want {
					continue
				}
				want = true
				attempt()
			case regCmdUnregister, regCmdShutdown:
				want, timer = false, nil
				if registered {
					uctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					if _, err := r.register(uctx, 0); err != nil {
						r.e.log.Warn("unregister failed", "error", err)
					}
					cancel()
				}
				registered = false
				r.report(domain.RegUnregistered, "")
				if c == regCmdShutdown {
					return
				}
			}
		}
	}
}

// refreshIn is when to refresh a registration granted for d: at 3/4 of it,
// but at least 5 s before it runs out and never sooner than 1 s.
func refreshIn(d time.Duration) time.Duration {
	r := d * 3 / 4
	if d-r < 5*time.Second {
		r = d - 5*time.Second
	}
	if r < time.Second {
		r = time.Second
	}
	return r
}

// backoff is the wait after n consecutive failures: first doubling up to
// longest, plus up to 20 % jitter so many phones do not retry in step.
func backoff(n int, first, longest time.Duration) time.Duration {
	d := first
	for i := 1; i < n && d < longest; i++ {
		d *= 2
	}
	if d > longest {
		d = longest
	}
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

// regError is a registrar's final answer other than 2xx.
type regError struct {
	Code   int
	Reason string
	Authed bool // the request carried credentials
}

func (e *regError) Error() string {
	return fmt.Sprintf("registrar answered %d %s", e.Code, e.Reason)
}

// register sends one REGISTER (expires 0 unregisters) with digest
// authentication and returns the granted expiry.
func (r *registrar) register(ctx context.Context, expiry time.Duration) (time.Duration, error) {
	e := r.e
	pw, err := e.password()
	if err != nil {
		return 0, fmt.Errorf("read password: %w", err)
	}
	host, port := splitHostPort(e.acct.Domain)
	recipient := sip.Uri{Scheme: "sip", Host: host, Port: port}
	req := sip.NewRequest(sip.REGISTER, recipient)
	req.SetTransport(strings.ToUpper(e.acct.transport()))
	aor := e.aor()
	from := &sip.FromHeader{DisplayName: quoteDisplayName(e.acct.DisplayName), Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.tag)
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	cid := sip.CallIDHeader(r.callID)
	req.AppendHeader(&cid)
	r.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	contact := &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: e.acct.User, Host: e.contactHost, Port: e.localPort,
		UriParams: sip.NewParams()}, Params: sip.NewParams()}
	contact.Address.UriParams.Add("transport", e.acct.transport())
	req.AppendHeader(contact)
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expiry/time.Second))))
	for _, h := range e.routeHeaders() {
		req.AppendHeader(h)
	}
	if e.acct.OutboundProxy == "" {
		req.SetDestination(r.active())
	}

	tctx, cancel := context.WithTimeout(ctx, e.regTimeout)
	defer cancel()
	res, err := e.client.Do(tctx, req)
	if err != nil {
		return 0, err
	}
	authed := false
	if res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired {
		authed = true
		res, err = e.client.DoDigestAuth(tctx, req, res, sipgo.DigestAuth{Username: e.acct.authUser(), Password: pw})
		if err != nil {
			return 0, err
		}
		if c := req.CSeq(); c != nil {
			r.cseq = c.SeqNo
		}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return 0, &regError{Code: res.StatusCode, Reason: res.Reason, Authed: authed}
	}
	return grantedExpiry(res, contact.Address, expiry), nil
}

// grantedExpiry reads the expiry the registrar granted to our contact: the
// contact's expires parameter, else the Expires header, else what we asked.
func grantedExpiry(res *sip.Response, ours sip.Uri, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		for _, part := range splitContacts(h.Value()) {
			var u sip.Uri
			params := sip.NewParams()
			if _, err := sip.ParseAddressValue(part, &u, &params); err != nil {
				continue
			}
			if u.User != ours.User || u.Host != ours.Host || u.Port != ours.Port {
				continue
			}
			if v, ok := params.Get("expires"); ok {
				if n, err := strconv.Atoi(v); err == nil && n > 0 {
					return time.Duration(n) * time.Second
				}
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}

func splitContacts(v string) []string {
	var out []string
	for {
		i := firstComma(v)
		if i < 0 {
			return append(out, strings.TrimSpace(v))
		}
		out = append(out, strings.TrimSpace(v[:i]))
		v = v[i+1:]
	}
}

// reason is the plain-words failure reason for the core.
func reason(err error) string {
	var re *regError
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var unk x509.UnknownAuthorityError
	var host x509.HostnameError
	switch {
	case errors.As(err, &re):
		switch {
		case re.Code == 401 || re.Code == 407:
			if re.Authed {
				return "wrong user name or password"
			}
			return fmt.Sprintf("registrar refused authentication (%d)", re.Code)
		case re.Code == 403:
			return "wrong user name or password (403 Forbidden)"
		case re.Code == 404:
			return "unknown user (404 Not Found)"
		case re.Code == 408:
			return "registrar timeout (408)"
		case re.Code == 423:
			return "registration interval too short (423)"
		case re.Code >= 500:
			return fmt.Sprintf("registrar unavailable (%d %s)", re.Code, re.Reason)
		}
		return fmt.Sprintf("registrar refused (%d %s)", re.Code, re.Reason)
	case errors.As(err, &dnsErr):
		return "dns error: cannot resolve " + dnsErr.Name
	case errors.As(err, &certErr), errors.As(err, &unk), errors.As(err, &host):
		return "tls error: server certificate not trusted"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "registrar unreachable (connection refused)"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, sip.ErrTransactionTimeout):
		return "timeout: no answer from the registrar"
	case strings.Contains(err.Error(), "read password"):
		return "password unavailable: " + err.Error()
	}
	return "network error: " + err.Error()
}

// Register starts (or restarts at once) registration; the result comes
// as RegistrationChanged events. Failed attempts are retried with
// back-off until Unregister.
func (e *Engine) Register() error {
	if err := e.running(); err != nil {
		return err
	}
	return e.reg.send(regCmdRegister)
}

// Unregister removes the registration (Expires 0) and stops refreshing.
func (e *Engine) Unregister() error {
	if err := e.running(); err != nil {
		return err
	}
	return e.reg.send(regCmdUnregister)
}

// Reregister refreshes the registration at once if it is wanted: call it
// after a network change or a resume from sleep (cmd wires the OS
// notifications).
func (e *Engine) Reregister() error {
	if err := e.running(); err != nil {
		return err
	}
	return e.reg.send(regCmdRefresh)
}

// keepAlive keeps the NAT binding to the registrar (or outbound proxy)
// open: a double CRLF on the TCP/TLS connection (RFC 5626 4.4.1), an
// OPTIONS request on UDP. An error means the path is gone.
func (r *registrar) keepAlive(ctx context.Context) error {
	e := r.e
	dest := r.active()
	if e.acct.OutboundProxy != "" {
		dest = withPort(e.acct.OutboundProxy)
	}
	if e.acct.Transport == TransportTCP || e.acct.Transport == TransportTLS {
		addr, err := net.ResolveTCPAddr("tcp", dest)
		if err != nil {
			return err
		}
		conn, err := e.ua.TransportLayer().GetConnection(e.acct.transport(), addr.String())
		if err != nil {
			return fmt.Errorf("no connection to %s: %w", dest, err)
		}
		w, ok := conn.(io.Writer)
		if !ok {
			return fmt.Errorf("connection to %s cannot write raw bytes", dest)
		}
		_, err = w.Write([]byte("\r\n\r\n"))
		return err
	}
	host, port := splitHostPort(dest)
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: host, Port: port})
	req.SetTransport(strings.ToUpper(e.acct.transport()))
	from := &sip.FromHeader{Address: e.aor(), Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", Host: host, Port: port}, Params: sip.NewParams()})
	req.SetDestination(dest)
	tctx, cancel := context.WithTimeout(ctx, e.regTimeout)
	defer cancel()
	res, err := e.client.Do(tctx, req)
	if err != nil {
		return err
	}
	// Any answer (even 404 or 405) proves the path is open.
	_ = res
	return nil
}
