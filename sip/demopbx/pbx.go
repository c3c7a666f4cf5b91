package demopbx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Options configure a PBX. The zero value is a working demo.
type Options struct {
	// Host is the loopback address to bind (default 127.0.0.1).
	Host string
	// User is the agent's SIP user (default "agent").
	User string
	// Password is the agent's digest password (default: random, see
	// PBX.Password).
	Password string
	// AnswerDelay is how long colleagues and called-back customers ring
	// before they answer (default 400 ms).
	AnswerDelay time.Duration
	// NoAnswerAfter is how long the no-answer number rings before it
	// gives up with 480 (default 20 s).
	NoAnswerAfter time.Duration
	// CustomerEvery makes the customer line call the agent this often
	// while it is registered and not already on a customer call (0 = only
	// on demand).
	CustomerEvery time.Duration
	// Logger is the logger (default slog.Default()).
	Logger *slog.Logger
}

// LegKind says what a PBX call leg simulates. Values are never renumbered.
type LegKind uint8

// Leg kinds.
const (
	LegUnknown   LegKind = 0
	LegCustomer  LegKind = 1 // the customer line calling the agent
	LegColleague LegKind = 2 // the agent calling 201-204
	LegEcho      LegKind = 3 // the agent calling *43
	LegCallback  LegKind = 4 // the agent calling a sample contact
)

func (k LegKind) String() string {
	switch k {
	case LegUnknown:
		return "unknown"
	case LegCustomer:
		return "customer"
	case LegColleague:
		return "colleague"
	case LegEcho:
		return "echo"
	case LegCallback:
		return "callback"
	}
	return "leg(" + strconv.Itoa(int(k)) + ")"
}

// Call is a snapshot of one live PBX call leg.
type Call struct {
	CallID    string // the SIP Call-ID
	Kind      LegKind
	Number    string // the customer's number, or the extension called
	Connected bool
}

// Transfer records a completed transfer: who ended up with the customer.
type Transfer struct {
	Customer string // the transferred party's number
	To       string // the extension (or number) that took the call
	Attended bool
	At       time.Time
}

// PBX is the running demo PBX.
type PBX struct {
	opts   Options
	log    *slog.Logger
	auth   *diago.DigestAuthServer
	ua     *sipgo.UserAgent
	dg     *diago.Diago
	host   string
	port   int
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	dialogMu sync.Mutex // serialises re-INVITE and ACK handling (see middleware)

	mu        sync.Mutex
	closed    bool
	contact   *sip.Uri // the agent's registered contact
	expires   time.Time
	legs      map[string]*leg
	transfers []Transfer
}

type leg struct {
	callID      string
	kind        LegKind
	number      string
	connected   bool
	transferred bool
	cli         *diago.DialogClientSession
	srv         *diago.DialogServerSession
	kill        chan struct{}
	killOnce    sync.Once
}

func (l *leg) end() { l.killOnce.Do(func() { close(l.kill) }) }

// Start binds a free UDP port on opts.Host and serves until ctx ends or
// Close is called.
func Start(ctx context.Context, opts Options) (*PBX, error) {
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if ip := net.ParseIP(opts.Host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("demo pbx: host %q is not a loopback address", opts.Host)
	}
	if opts.User == "" {
		opts.User = "agent"
	}
	if opts.Password == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("demo pbx: password: %w", err)
		}
		opts.Password = hex.EncodeToString(b)
	}
	if opts.AnswerDelay <= 0 {
		opts.AnswerDelay = 400 * time.Millisecond
	}
	if opts.NoAnswerAfter <= 0 {
		opts.NoAnswerAfter = 20 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	p := &PBX{opts: opts, log: opts.Logger.With("component", "demopbx"), auth: diago.NewDigestServer(),
		host: opts.Host, legs: map[string]*leg{}}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = p.listen(ctx); err == nil {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("demo pbx: listen: %w", err)
	}
	if opts.CustomerEvery > 0 {
		p.wg.Add(1)
		go func() { defer p.wg.Done(); p.customerLoop() }()
	}
	return p, nil
}

func (p *PBX) listen(parent context.Context) error {
	u, err := net.ListenPacket("udp", net.JoinHostPort(p.host, "0"))
	if err != nil {
		return err
	}
	port := u.LocalAddr().(*net.UDPAddr).Port
	_ = u.Close()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("softphone-demo-pbx"), sipgo.WithUserAgentHostname(p.host))
	if err != nil {
		return err
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		_ = ua.Close()
		return err
	}
	srv.OnRegister(p.handleRegister)
	ctx, cancel := context.WithCancel(parent)
	dg := diago.NewDiago(ua,
		diago.WithServer(srv),
		diago.WithLogger(p.log.With("lib", "diago")),
		diago.WithTransport(diago.Transport{Transport: "udp", BindHost: p.host, BindPort: port}),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: []media.Codec{media.CodecAudioUlaw, media.CodecAudioAlaw, media.CodecTelephoneEvent8000}}),
		diago.WithServerRequestMiddleware(p.middleware),
	)
	if err := dg.ServeBackground(ctx, p.serve); err != nil {
		cancel()
		_ = ua.Close()
		return err
	}
	// sipgo reports listening before the socket is in its pool.
	time.Sleep(50 * time.Millisecond)
	p.ua, p.dg, p.port, p.ctx, p.cancel = ua, dg, port, ctx, cancel
	return nil
}

// Addr is the PBX's SIP address, "host:port": the agent account's domain
// and registrar.
func (p *PBX) Addr() string { return net.JoinHostPort(p.host, strconv.Itoa(p.port)) }

// User is the agent's SIP user.
func (p *PBX) User() string { return p.opts.User }

// Password is the agent's digest password.
func (p *PBX) Password() string { return p.opts.Password }

// Registered reports whether the agent is registered now.
func (p *PBX) Registered() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.contact != nil && time.Now().Before(p.expires)
}

// Calls returns the live call legs.
func (p *PBX) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Call, 0, len(p.legs))
	for _, l := range p.legs {
		out = append(out, Call{CallID: l.callID, Kind: l.kind, Number: l.number, Connected: l.connected})
	}
	return out
}

// Transfers returns the transfers completed so far, oldest first.
func (p *PBX) Transfers() []Transfer {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Transfer(nil), p.transfers...)
}

// Hangup ends a live leg from the PBX side (the customer or colleague
// hangs up).
func (p *PBX) Hangup(callID string) error {
	p.mu.Lock()
	l := p.legs[callID]
	p.mu.Unlock()
	if l == nil {
		return ErrUnknownCall
	}
	l.end()
	return nil
}

// Close ends every call and stops the PBX.
func (p *PBX) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	for _, l := range p.legs {
		l.end()
	}
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	p.auth.Close()
	return p.ua.Close()
}

func (p *PBX) addLeg(l *leg) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.legs[l.callID] = l
	return true
}

func (p *PBX) removeLeg(l *leg) {
	p.mu.Lock()
	if p.legs[l.callID] == l {
		delete(p.legs, l.callID)
	}
	p.mu.Unlock()
}

// ---- registrar ----

func (p *PBX) handleRegister(req *sip.Request, tx sip.ServerTransaction) {
	respond := func(res *sip.Response) {
		if err := tx.Respond(res); err != nil {
			p.log.Debug("register response not sent", "error", err)
		}
	}
	to := req.To()
	if to == nil || to.Address.User != p.opts.User {
		respond(sip.NewResponseFromRequest(req, sip.StatusNotFound, "Not Found", nil))
		return
	}
	res, err := p.auth.AuthorizeRequest(req, diago.DigestAuth{Username: p.opts.User, Password: p.opts.Password, Realm: "demo"})
	if err != nil || res.StatusCode != sip.StatusOK {
		if err != nil {
			p.log.Info("register refused", "reason", err)
		}
		respond(res)
		return
	}
	contact := req.Contact()
	if contact == nil {
		respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad Request", nil))
		return
	}
	expiry := 300
	if h := req.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil {
			expiry = n
		}
	}
	if v, ok := contact.Params.Get("expires"); ok {
		if n, err := strconv.Atoi(v); err == nil {
			expiry = n
		}
	}
	expiry = min(max(expiry, 0), 3600)
	p.mu.Lock()
	if expiry == 0 {
		p.contact = nil
	} else {
		addr := *contact.Address.Clone()
		p.contact = &addr
		p.expires = time.Now().Add(time.Duration(expiry) * time.Second)
	}
	p.mu.Unlock()
	ok := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	if expiry > 0 {
		c := contact.Clone()
		c.Params = sip.NewParams()
		c.Params.Add("expires", strconv.Itoa(expiry))
		ok.AppendHeader(c)
	}
	ok.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expiry)))
	p.log.Debug("agent registration", "expires", expiry)
	respond(ok)
}

// ---- the agent calls the PBX ----

func (p *PBX) serve(d *diago.DialogServerSession) {
	p.wg.Add(1)
	defer p.wg.Done()
	user := d.InviteRequest.Recipient.User
	ctx := d.Context()
	var kind LegKind
	switch {
	case user == ExtEcho:
		kind = LegEcho
	case colleagues[user] != "":
		kind = LegColleague
	case user == ExtBusy:
		_ = d.Respond(sip.StatusBusyHere, "Busy Here", nil)
		return
	case user == ExtNoAnswer:
		_ = d.Trying()
		_ = d.Ringing()
		select {
		case <-time.After(p.opts.NoAnswerAfter):
			_ = d.Respond(sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", nil)
		case <-ctx.Done(): // cancelled
		case <-p.ctx.Done():
		}
		return
	default:
		if _, ok := contactByNumber(user); !ok {
			_ = d.Respond(sip.StatusNotFound, "Not Found", nil)
			return
		}
		kind = LegCallback
	}
	l := &leg{callID: d.InviteRequest.CallID().Value(), kind: kind, number: user, srv: d, kill: make(chan struct{})}
	if !p.addLeg(l) {
		_ = d.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return
	}
	defer p.removeLeg(l)
	_ = d.Trying()
	if kind != LegEcho {
		_ = d.Ringing()
		select {
		case <-time.After(p.opts.AnswerDelay):
		case <-ctx.Done():
			return
		case <-l.kill:
			_ = d.Respond(sip.StatusBusyHere, "Busy Here", nil)
			return
		}
	}
	if err := d.Answer(); err != nil {
		p.log.Info("answer failed", "kind", kind, "error", err)
		return
	}
	p.connected(l)
	go func() { _ = d.Echo() }()
	select {
	case <-ctx.Done():
	case <-l.kill:
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.Hangup(hctx)
		cancel()
	}
}

func (p *PBX) connected(l *leg) {
	p.mu.Lock()
	l.connected = true
	p.mu.Unlock()
}

// ---- the customer line calls the agent ----

// CallAgent makes the customer line call the agent with the caller ID of
// the sample contact number (E.164; "" picks one at random). It returns
// the SIP Call-ID of the new call once the INVITE is on its way; the call
// rings until the agent answers or rejects it, or two minutes pass.
func (p *PBX) CallAgent(number string) (string, error) {
	var c Contact
	if number == "" {
		all := Contacts()
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(all))))
		if err != nil {
			return "", err
		}
		c = all[n.Int64()]
	} else {
		var ok bool
		if c, ok = contactByNumber(number); !ok {
			return "", fmt.Errorf("%w: %q", ErrUnknownContact, number)
		}
	}
	p.mu.Lock()
	closed, contact := p.closed, p.contact
	registered := contact != nil && time.Now().Before(p.expires)
	p.mu.Unlock()
	if closed {
		return "", ErrClosed
	}
	if !registered {
		return "", ErrNotRegistered
	}
	d, err := p.dg.NewDialog(*contact.Clone(), diago.NewDialogOptions{Transport: "udp"})
	if err != nil {
		return "", fmt.Errorf("demo pbx: new dialog: %w", err)
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		_ = d.Close()
		return "", err
	}
	l := &leg{callID: hex.EncodeToString(b) + "@demo", kind: LegCustomer, number: c.Number, cli: d, kill: make(chan struct{})}
	if !p.addLeg(l) {
		_ = d.Close()
		return "", ErrClosed
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer p.removeLeg(l)
		defer d.Close()
		p.runCustomer(l, c)
	}()
	return l.callID, nil
}

func (p *PBX) runCustomer(l *leg, c Contact) {
	d := l.cli
	from := &sip.FromHeader{DisplayName: c.Name, Address: sip.Uri{Scheme: "sip", User: c.Number, Host: p.host, Port: p.port}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Minute)
	defer cancel()
	go func() {
		select {
		case <-l.kill: // the customer gives up while ringing
			cancel()
		case <-ctx.Done():
		}
	}()
	cid := sip.CallIDHeader(l.callID)
	err := d.Invite(ctx, diago.InviteClientOptions{Headers: []sip.Header{from, &cid}})
	if err == nil {
		// Connected before the ACK leaves: the agent may send REFER as
		// soon as it has it.
		p.connected(l)
		err = d.Ack(ctx)
	}
	if err != nil {
		p.log.Info("customer call not answered", "error", err)
		return
	}
	go func() { _ = d.Echo() }()
	select {
	case <-d.Context().Done():
	case <-l.kill:
		hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.Hangup(hctx)
		hcancel()
	case <-p.ctx.Done():
	}
}

func (p *PBX) customerLoop() {
	t := time.NewTicker(p.opts.CustomerEvery)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
		}
		busy := false
		for _, c := range p.Calls() {
			busy = busy || c.Kind == LegCustomer
		}
		if busy || !p.Registered() {
			continue
		}
		if _, err := p.CallAgent(""); err != nil {
			p.log.Info("customer line could not call", "error", err)
		}
	}
}

// ---- transfers ----

func (p *PBX) middleware(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		switch {
		case req.Method == sip.REFER:
			p.handleRefer(req, tx)
			return
		case req.Method == sip.ACK, req.Method == sip.INVITE && req.To() != nil && req.To().Params.Has("tag"):
			// diago v0.31.0 handles a re-INVITE and the ACK of the
			// previous one on two goroutines that touch the same media
			// session without a lock (a data race under -race when the
			// agent holds and resumes quickly). Neither handler waits
			// for the other, so running them one at a time is safe.
			p.dialogMu.Lock()
			defer p.dialogMu.Unlock()
		}
		next(req, tx)
	}
}

func (p *PBX) handleRefer(req *sip.Request, tx sip.ServerTransaction) {
	respond := func(code int, reason string) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, reason, nil))
	}
	var callID string
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	p.mu.Lock()
	l := p.legs[callID]
	p.mu.Unlock()
	// A REFER inside a dialog we know means the dialog is established,
	// even if our side has not finished its bookkeeping.
	if l == nil {
		respond(sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	h := req.GetHeader("Refer-To")
	if h == nil {
		respond(sip.StatusBadRequest, "Bad Request")
		return
	}
	var target sip.Uri
	if _, err := sip.ParseAddressValue(h.Value(), &target, nil); err != nil {
		respond(sip.StatusBadRequest, "Bad Request")
		return
	}
	replaces := ""
	if target.Headers != nil {
		for _, k := range []string{"Replaces", "replaces"} {
			if v, ok := target.Headers.Get(k); ok {
				replaces = v
			}
		}
	}
	respond(sip.StatusAccepted, "Accepted")
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.transfer(l, target.User, replaces)
	}()
}

// transfer carries out a REFER received on leg l and reports its progress
// with NOTIFY.
func (p *PBX) transfer(l *leg, user, replaces string) {
	p.notify(l, 100, "Trying", false)
	if replaces != "" {
		p.attended(l, replaces)
		return
	}
	switch {
	case colleagues[user] != "", contactIs(user):
		select {
		case <-time.After(p.opts.AnswerDelay):
		case <-p.ctx.Done():
			return
		}
		p.completed(l, user, false, nil)
	case user == ExtBusy:
		p.notify(l, 486, "Busy Here", true)
	case user == ExtNoAnswer:
		select {
		case <-time.After(p.opts.NoAnswerAfter):
		case <-p.ctx.Done():
			return
		}
		p.notify(l, 480, "Temporarily Unavailable", true)
	default:
		p.notify(l, 404, "Not Found", true)
	}
}

func contactIs(n string) bool { _, ok := contactByNumber(n); return ok }

func (p *PBX) attended(l *leg, replaces string) {
	v, err := url.QueryUnescape(replaces)
	if err != nil {
		p.notify(l, 400, "Bad Request", true)
		return
	}
	callID, _, _ := strings.Cut(v, ";")
	p.mu.Lock()
	k := p.legs[callID]
	ok := k != nil && k.connected && k != l
	p.mu.Unlock()
	if !ok {
		p.notify(l, 481, "Call/Transaction Does Not Exist", true)
		return
	}
	p.completed(l, k.number, true, k)
}

// completed records the transfer, reports success and, for an attended
// transfer, ends the replaced consult dialog if the agent has not.
func (p *PBX) completed(l *leg, to string, attended bool, replaced *leg) {
	p.mu.Lock()
	l.transferred = true
	if replaced != nil {
		replaced.transferred = true
	}
	p.transfers = append(p.transfers, Transfer{Customer: l.number, To: to, Attended: attended, At: time.Now()})
	p.mu.Unlock()
	p.log.Info("transfer completed", "attended", attended)
	p.notify(l, 200, "OK", true)
	if replaced == nil {
		return
	}
	select {
	case <-time.After(3 * time.Second):
		replaced.end() // the colleague's phone drops the replaced dialog
	case <-p.ctx.Done():
	}
}

// notify sends a REFER progress NOTIFY (RFC 3515) within leg l's dialog.
func (p *PBX) notify(l *leg, code int, reason string, final bool) {
	var contact *sip.ContactHeader
	var do func(context.Context, *sip.Request) (*sip.Response, error)
	switch {
	case l.cli != nil:
		contact, do = l.cli.RemoteContact(), l.cli.Do
	case l.srv != nil:
		contact, do = l.srv.RemoteContact(), l.srv.Do
	}
	if contact == nil {
		return
	}
	req := sip.NewRequest(sip.NOTIFY, *contact.Address.Clone())
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	state := "active;expires=60"
	if final {
		state = "terminated;reason=noresource"
	}
	req.AppendHeader(sip.NewHeader("Subscription-State", state))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte(fmt.Sprintf("SIP/2.0 %d %s", code, reason)))
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	res, err := do(ctx, req)
	switch {
	case err != nil && !errors.Is(err, context.Canceled):
		p.log.Info("transfer notify not delivered", "code", code, "error", err)
	case err == nil && res.StatusCode >= 300:
		p.log.Info("transfer notify refused", "code", code, "status", res.StatusCode)
	}
}
