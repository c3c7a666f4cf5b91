package sip

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Option configures an Engine.
type Option func(*Engine)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithBindHost sets the local address SIP and RTP bind to (default
// "0.0.0.0"; tests use "127.0.0.1").
func WithBindHost(host string) Option { return func(e *Engine) { e.bindHost = host } }

// WithRegisterTimeout bounds one REGISTER transaction (default 10 s).
func WithRegisterTimeout(d time.Duration) Option { return func(e *Engine) { e.regTimeout = d } }

// WithRetryBackoff sets the first and the longest wait between failed
// registration attempts (default 2 s and 5 min); each wait gets up to 20 %
// jitter.
func WithRetryBackoff(first, longest time.Duration) Option {
	return func(e *Engine) { e.backoffMin, e.backoffMax = first, longest }
}

// WithKeepAlive sets the NAT keep-alive interval while registered (default
// 25 s; 0 turns it off): an OPTIONS request to the registrar on UDP, a
// double CRLF on the TCP/TLS connection (RFC 5626). A keep-alive that
// fails triggers an immediate re-registration (which may fail over).
func WithKeepAlive(d time.Duration) Option { return func(e *Engine) { e.keepAlive = d } }

// WithTransferTimeout bounds the wait for the final NOTIFY of a transfer
// (default 30 s).
func WithTransferTimeout(d time.Duration) Option { return func(e *Engine) { e.transferTimeout = d } }

// Engine is the SIP adapter for one account. It implements
// domain.Telephony and domain.AudioSource.
type Engine struct {
	acct     Account
	codecs   []media.Codec
	password func() (string, error)
	log      *slog.Logger
	onDTMF   func(id domain.CallID, digit string)
	tlsConf  *tls.Config // client side: system roots + CA file; nil without TLS

	bindHost        string
	mediaExternalIP net.IP // from STUN; nil: the local address
	regTimeout      time.Duration
	backoffMin      time.Duration
	backoffMax      time.Duration
	transferTimeout time.Duration
	keepAlive       time.Duration

	sinkMu sync.Mutex
	sink   domain.EventSink

	mu          sync.Mutex
	started     bool
	closed      bool
	ctx         context.Context
	cancel      context.CancelFunc
	ua          *sipgo.UserAgent
	dg          *diago.Diago
	client      *sipgo.Client
	localPort   int
	contactHost string
	trusted     map[string]bool // ip:port of registrar and outbound proxy
	calls       map[domain.CallID]*call
	byCallID    map[string]*call // SIP Call-ID -> call
	reg         *registrar
	setupTime   durations
	wg          sync.WaitGroup
}

// New checks the account and returns an engine; Start brings it up.
// password is called whenever the password is needed (registration and
// authenticated requests); it is never stored.
func New(acct Account, password func() (string, error), opts ...Option) (*Engine, error) {
	codecs, err := acct.validate()
	if err != nil {
		return nil, err
	}
	if password == nil {
		return nil, fmt.Errorf("%w: no password source", ErrInvalidAccount)
	}
	var tlsConf *tls.Config
	if acct.Transport == TransportTLS || acct.CAFile != "" {
		if tlsConf, err = clientTLSConfig(acct.CAFile); err != nil {
			return nil, err
		}
	}
	if acct.Expiry == 0 {
		acct.Expiry = 300 * time.Second
	}
	e := &Engine{
		acct: acct, codecs: codecs, password: password, log: slog.Default(), tlsConf: tlsConf,
		bindHost: "0.0.0.0", regTimeout: 10 * time.Second,
		backoffMin: 2 * time.Second, backoffMax: 5 * time.Minute, transferTimeout: 30 * time.Second,
		keepAlive: 25 * time.Second,
		calls:     map[domain.CallID]*call{}, byCallID: map[string]*call{},
	}
	for _, o := range opts {
		o(e)
	}
	e.log = e.log.With("component", "sip")
	return e, nil
}

// Attach sets the sink events are posted to (the agent, constructed after
// its ports). Events before Attach are dropped and logged.
func (e *Engine) Attach(sink domain.EventSink) {
	e.sinkMu.Lock()
	e.sink = sink
	e.sinkMu.Unlock()
}

func (e *Engine) post(in domain.Input) {
	e.sinkMu.Lock()
	s := e.sink
	e.sinkMu.Unlock()
	if s == nil {
		e.log.Warn("event dropped: no sink attached", "event", fmt.Sprintf("%T", in))
		return
	}
	if err := s.Post(in); err != nil {
		e.log.Debug("event not delivered", "event", fmt.Sprintf("%T", in), "error", err)
	}
}

// Start binds the SIP port and starts serving. It does not register: the
// core calls Register at sign-in. ctx bounds the engine's life (Close
// ends it too).
func (e *Engine) Start(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		return errors.New("sip engine already started")
	}
	trusted, err := e.resolveTrusted()
	if err != nil {
		return err
	}
	e.trusted = trusted
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		if lastErr = e.listen(ctx); lastErr == nil {
			break
		}
		e.log.Debug("sip listen failed, retrying", "attempt", attempt, "error", lastErr)
	}
	if lastErr != nil {
		return fmt.Errorf("sip listen: %w", lastErr)
	}
	e.started = true
	e.reg = newRegistrar(e)
	e.wg.Add(1)
	go func() { defer e.wg.Done(); e.reg.run(e.ctx) }()
	return nil
}

// resolveTrusted resolves the registrar and outbound proxy addresses an
// inbound INVITE may come from.
func (e *Engine) resolveTrusted() (map[string]bool, error) {
	out := map[string]bool{}
	for _, hp := range []string{e.acct.registrar(), e.acct.SecondaryRegistrar, e.acct.OutboundProxy} {
		if hp == "" {
			continue
		}
		h, p, _ := net.SplitHostPort(withPort(hp))
		ips, err := net.LookupHost(h)
		if err != nil {
			// Not fatal: registration reports the DNS error; until it
			// resolves no INVITE is trusted.
			e.log.Warn("cannot resolve registrar or proxy", "host", h, "error", err)
			continue
		}
		for _, ip := range ips {
			out[net.JoinHostPort(ip, p)] = true
		}
	}
	return out, nil
}

func (e *Engine) listen(parent context.Context) error {
	port, err := freePort(e.bindHost, e.acct.transport())
	if err != nil {
		return err
	}
	host, _ := splitHostPort(e.acct.Domain)
	uaOpts := []sipgo.UserAgentOption{sipgo.WithUserAgent(e.acct.User), sipgo.WithUserAgentHostname(host)}
	if e.tlsConf != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(e.tlsConf))
	}
	setLibraryLogger(e.log.With("lib", "sipgo").Handler()) // before the UA makes its transports
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		return err
	}
	tr := diago.Transport{Transport: e.acct.transport(), BindHost: e.bindHost, BindPort: port}
	if e.acct.Transport == TransportTLS {
		lc, err := listenerTLSConfig(e.tlsConf)
		if err != nil {
			_ = ua.Close()
			return err
		}
		// sip: URIs with transport=tls: diago's sips: contact breaks
		// far-end re-INVITEs (diago notes).
		tr.TLSConf, tr.TLSURINoSIPS = lc, true
	}
	if e.acct.SRTP == SRTPOptional || e.acct.SRTP == SRTPRequired {
		tr.MediaSRTP = 1 // SDES
	}
	ctx, cancel := context.WithCancel(parent)
	if e.acct.STUNServer != "" {
		ip, err := stunMappedIP(e.bindHost, e.acct.STUNServer, 3*time.Second)
		if err != nil {
			// Not fatal: calls still work where no NAT is in the way.
			e.log.Warn("stun failed: advertising the local address", "error", err)
		} else {
			tr.MediaExternalIP, e.mediaExternalIP = ip, ip
			e.log.Info("stun mapped address for media", "ip", ip.String())
		}
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(slog.New(redacting(e.log.With("lib", "sipgo").Handler()))))
	if err != nil {
		cancel()
		_ = ua.Close()
		return err
	}
	srv.OnRequest(sip.UPDATE, e.serveUpdate) // diago has no UPDATE handler
	dg := diago.NewDiago(ua,
		diago.WithServer(srv),
		diago.WithLogger(slog.New(redacting(e.log.With("lib", "diago").Handler()))),
		diago.WithTransport(tr),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: e.codecs}),
		diago.WithServerRequestMiddleware(e.middleware),
	)
	if err := dg.ServeBackground(ctx, e.serveInbound); err != nil {
		cancel()
		_ = ua.Close()
		return err
	}
	contactHost := e.bindHost
	if ip := net.ParseIP(contactHost); ip == nil || ip.IsUnspecified() {
		contactHost = localIPFor(e.acct.registrar())
	}
	copts := []sipgo.ClientOption{sipgo.WithClientNAT(), sipgo.WithClientHostname(contactHost),
		sipgo.WithClientLogger(slog.New(redacting(e.log.With("lib", "sipgo").Handler())))}
	if e.acct.transport() == "udp" {
		// Requests leave from the listening socket, so replies and NAT
		// bindings come back to it. A TCP/TLS dial cannot bind the
		// listening port (EADDRINUSE): it uses an ephemeral one.
		copts = append(copts, sipgo.WithClientConnectionAddr(net.JoinHostPort(contactHost, strconv.Itoa(port))))
	}
	client, err := sipgo.NewClient(ua, copts...)
	if err != nil {
		cancel()
		_ = ua.Close()
		return err
	}
	// sipgo reports "listening" before the UDP listener is in its
	// connection pool (diago notes, startup race): let it settle.
	time.Sleep(50 * time.Millisecond)
	e.ctx, e.cancel, e.ua, e.dg, e.client, e.localPort = ctx, cancel, ua, dg, client, port
	e.contactHost = contactHost
	return nil
}

// localIPFor returns the local address used to reach hostport.
func localIPFor(hostport string) string {
	c, err := net.Dial("udp", withPort(hostport))
	if err != nil {
		return "127.0.0.1"
	}
	defer c.Close()
	h, _, _ := net.SplitHostPort(c.LocalAddr().String())
	return h
}

// freePort picks a port that is free for network on host now.
func freePort(host, network string) (int, error) {
	if host == "" {
		host = "0.0.0.0"
	}
	if network == "tcp" || network == "tls" {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return 0, err
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	u, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer u.Close()
	return u.LocalAddr().(*net.UDPAddr).Port, nil
}

// LocalAddr is the SIP address the engine listens on ("host:port").
func (e *Engine) LocalAddr() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return net.JoinHostPort(e.contactHost, strconv.Itoa(e.localPort))
}

// Close unregisters (bounded to a few seconds), hangs up every call and
// stops the engine. It is safe to call more than once.
func (e *Engine) Close() error {
	e.mu.Lock()
	if !e.started || e.closed {
		e.closed = true
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	calls := make([]*call, 0, len(e.calls))
	for _, c := range e.calls {
		calls = append(calls, c)
	}
	reg := e.reg
	e.mu.Unlock()

	for _, c := range calls {
		c.end()
	}
	reg.shutdown()
	e.cancel()
	// Closing the user agent terminates every transaction, so a call
	// goroutine still waiting in one (a final response whose ACK never
	// comes waits 32 s, Timer H) returns before we wait for it.
	err := e.ua.Close()
	e.wg.Wait()
	return err
}

// running returns ErrNotStarted unless the engine is serving.
func (e *Engine) running() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.started || e.closed {
		return ErrNotStarted
	}
	return nil
}

// aor is the account's address of record.
func (e *Engine) aor() sip.Uri {
	h, p := splitHostPort(e.acct.Domain)
	return sip.Uri{Scheme: "sip", User: e.acct.User, Host: h, Port: p}
}

// routeHeaders returns the Route header for the outbound proxy, or for
// the secondary registrar while registered through it, if any.
func (e *Engine) routeHeaders() []sip.Header {
	via := e.acct.OutboundProxy
	if via == "" && e.reg != nil {
		if a := e.reg.active(); a != e.acct.registrar() {
			via = a
		}
	}
	if via == "" {
		return nil
	}
	return []sip.Header{sip.NewHeader("Route", "<sip:"+withPort(via)+";lr>")}
}
