package sip

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/diago/media/sdp"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// call is one call leg. Its goroutine (inbound: diago's handler; outbound:
// the one Dial starts) owns the dialog for the call's whole life; port
// methods hand it work through cmds.
type call struct {
	id      domain.CallID
	inbound bool
	cmds    chan func()
	done    chan struct{} // closed when the call goroutine returns

	mu           sync.Mutex
	srv          *diago.DialogServerSession
	cli          *diago.DialogClientSession
	sipCallID    string
	media        *callMedia
	localEnd     bool // we ended it: no CallEnded event
	remoteHeld   bool // the far end holds us (its last SDP: sendonly or inactive)
	localHeld    bool // we hold the far end (our last hold re-INVITE succeeded)
	cancelInvite context.CancelFunc
	answered     bool
	answering    bool // our 200 to the INVITE is out, its ACK not yet through diago
	// up is closed once the core knows the call as answered (CallAnswered
	// posted, or the replacing dialog took over): what the far end says in
	// the dialog is reported after that, never before.
	up chan struct{}
	// reinvite is full while an INVITE transaction inside the dialog is in
	// progress, ours (hold, resume) or the far end's: RFC 3261 14.1 forbids
	// starting another, and 14.2 answers a crossing one 491.
	reinvite   chan struct{}
	sdpVersion uint64       // o= version of our last SDP (encrypted calls)
	ownAckCSeq uint32       // CSeq of a re-INVITE we answered ourselves
	remote     domain.Party // the far end's identity as last reported to the core
	callerGone bool         // inbound: the caller cancelled before the answer
	// closing is set by whoever sends the call's last message (the final
	// response of an unanswered inbound call, or BYE): the call goroutine
	// (reject, redirect, hangup) or end (engine shutdown). The other one
	// leaves the dialog alone: two goroutines on one dialog race.
	closing bool
}

// missedLinger is how long an inbound call the caller cancelled stays
// known after it ended, so an Answer racing the CANCEL is a no-op (the
// core learns the missed call from the CallEnded already posted) rather
// than an "unknown call" failure.
const missedLinger = time.Minute

func newCall(id domain.CallID, inbound bool) *call {
	return &call{id: id, inbound: inbound, cmds: make(chan func(), 16), done: make(chan struct{}), up: make(chan struct{}),
		reinvite: make(chan struct{}, 1)}
}

// do queues f on the call goroutine.
func (c *call) do(f func()) error {
	select {
	case <-c.done:
		return ErrUnknownCall
	default:
	}
	select {
	case c.cmds <- f:
		return nil
	default:
		return ErrBusy
	}
}

// testAfterAnswer, when a test sets it (before starting an engine), runs
// after an inbound call's answer completes and before the call counts as
// answered: it widens the window in which the far end's first in-dialog
// request can arrive.
var testAfterAnswer func()

// endedLocally reports whether we ended the call (Hangup, Close).
func (c *call) endedLocally() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.localEnd
}

// end hangs the call up from outside (engine shutdown, or a replacing
// dialog took its place). A call its own goroutine is already ending (a
// reject, redirect or hangup in flight, or a final response waiting for
// its ACK) is left to it: a second final response or BYE would race that
// goroutine on the same dialog.
func (c *call) end() {
	c.mu.Lock()
	ending := c.closing
	c.closing = true
	c.localEnd = true
	cancel := c.cancelInvite
	srv, cli := c.srv, c.cli
	answered := c.answered
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	ctx, done := context.WithTimeout(context.Background(), 3*time.Second)
	defer done()
	switch {
	case ending:
	case cli != nil && answered:
		_ = cli.Hangup(ctx)
	case srv != nil && answered:
		_ = srv.Hangup(ctx)
	case srv != nil:
		_ = srv.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
	}
	select {
	case <-c.done:
	case <-time.After(3 * time.Second):
	}
}

func (e *Engine) addCall(c *call) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.started || e.closed {
		return ErrNotStarted
	}
	if _, ok := e.calls[c.id]; ok {
		return fmt.Errorf("%w: duplicate call id", ErrCallState)
	}
	e.calls[c.id] = c
	if c.sipCallID != "" {
		e.byCallID[c.sipCallID] = c
	}
	return nil
}

func (e *Engine) setSIPCallID(c *call, id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c.mu.Lock()
	old := c.sipCallID
	c.sipCallID = id
	c.mu.Unlock()
	if old != id && e.byCallID[old] == c {
		delete(e.byCallID, old) // a redial's new dialog
	}
	e.byCallID[id] = c
}

func (e *Engine) removeCall(c *call) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.calls[c.id] == c {
		delete(e.calls, c.id) // not when a replacing dialog took the id over
	}
	c.mu.Lock()
	sid := c.sipCallID
	c.mu.Unlock()
	if e.byCallID[sid] == c {
		delete(e.byCallID, sid)
	}
}

func (e *Engine) call(id domain.CallID) (*call, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.started || e.closed {
		return nil, ErrNotStarted
	}
	c := e.calls[id]
	if c == nil {
		return nil, ErrUnknownCall
	}
	return c, nil
}

func (e *Engine) callBySIPID(id string) *call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.byCallID[id]
}

// ---- outbound ----

// Dial places a call to target (as normalised by domain.NormalizeDialString)
// in the account's domain. Progress comes as CallProgress, CallAnswered,
// CallFailed and CallEnded events.
func (e *Engine) Dial(id domain.CallID, target string) error {
	if err := e.running(); err != nil {
		return err
	}
	uri, err := targetURI(target, e.acct.Domain)
	if err != nil {
		return err
	}
	c := newCall(id, false)
	if err := e.addCall(c); err != nil {
		return err
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(c.done)
		defer e.removeCall(c)
		e.runOutbound(c, uri)
	}()
	return nil
}

func (e *Engine) runOutbound(c *call, uri sip.Uri) {
	log := e.log.With("call_id", string(c.id), "dir", "out")
	pw, err := e.password()
	if err != nil {
		e.post(domain.CallFailed{ID: c.id, Cause: domain.CauseUnavailable, Reason: "password unavailable"})
		return
	}
	progressed := false
	start := time.Now()
	d, err := e.invite(c, uri, pw, false, &progressed)
	if re := dialogResponse(err); re != nil && e.acct.SRTP == SRTPOptional && refusesSRTP(re.StatusCode) && !c.endedLocally() {
		// Our RTP/SAVP offer was refused: a phone without SRTP. Optional
		// means the call goes ahead unencrypted, so call again offering
		// plain RTP/AVP (a new dialog; the agent sees one call).
		log.Info("the phone refused encryption: calling again without (srtp optional)", "code", re.StatusCode)
		d.Close()
		start = time.Now()
		d, err = e.invite(c, uri, pw, true, &progressed)
	}
	if d != nil {
		defer d.Close()
	}
	if err != nil {
		if c.endedLocally() {
			log.Debug("outbound call cancelled")
			if d != nil {
				e.byeCrossed200(d)
			}
			return
		}
		if re := dialogResponse(err); re != nil {
			cause := domain.CauseFromSIP(re.StatusCode)
			log.Info("outbound call failed", "code", re.StatusCode)
			e.post(domain.CallFailed{ID: c.id, Cause: cause, Reason: fmt.Sprintf("%d %s", re.StatusCode, re.Reason)})
			return
		}
		log.Info("outbound call failed", "error", err)
		e.post(domain.CallFailed{ID: c.id, Cause: domain.CauseNetwork, Reason: err.Error()})
		return
	}
	e.setupTime.record(time.Since(start))
	if e.acct.SRTP == SRTPRequired && len(sdesKeys(d.InviteResponse.Body())) == 0 {
		log.Warn("answered without encryption: hanging up (srtp required)")
		hctx, hcancel := context.WithTimeout(e.ctx, 5*time.Second)
		_ = d.Hangup(hctx)
		hcancel()
		e.post(domain.CallFailed{ID: c.id, Cause: domain.CauseFailed, Reason: "the other side does not support encrypted calls"})
		return
	}
	c.mu.Lock()
	c.answered = true
	c.cancelInvite = nil
	c.mu.Unlock()
	if err := e.attachMedia(c, &d.DialogMedia); err != nil {
		log.Warn("no media on answered call", "error", err)
	}
	e.postAnswered(c)
	e.callLoop(c, d.Context(), d, log)
}

// invite makes one INVITE transaction of an outbound call and ACKs a 2xx.
// plain offers RTP/AVP without crypto whatever the account's SRTP mode.
// It returns the dialog whenever one was made (the caller closes it), and
// the dialog error of a refusal (dialogResponse). Commands posted to the
// call while it rings run here; the call loop takes over after.
func (e *Engine) invite(c *call, uri sip.Uri, pw string, plain bool, progressed *bool) (*diago.DialogClientSession, error) {
	d, err := e.dg.NewDialog(uri, diago.NewDialogOptions{Transport: e.acct.transport()})
	if err != nil {
		return nil, err
	}
	if plain {
		ms, err := e.plainMediaSession()
		if err != nil {
			return d, err
		}
		d.InitMediaSession(ms, nil, nil) // diago's Invite keeps a session set before
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	c.mu.Lock()
	c.cli = d
	c.cancelInvite = cancel
	stopped := c.localEnd
	c.mu.Unlock()
	if stopped {
		return d, context.Canceled
	}
	idSet := false
	if cid := d.InviteRequest.CallID(); cid != nil {
		e.setSIPCallID(c, cid.Value())
		idSet = true
	}
	aor := e.aor()
	from := &sip.FromHeader{DisplayName: quoteDisplayName(e.acct.DisplayName), Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	headers := append([]sip.Header{from}, e.routeHeaders()...)
	// Drain commands queued while dialling (Hangup cancels through ctx).
	go func() {
		for {
			select {
			case f := <-c.cmds:
				f()
			case <-ctx.Done():
				return
			}
		}
	}()
	err = d.Invite(ctx, diago.InviteClientOptions{
		Username: e.acct.authUser(), Password: pw, Headers: headers,
		OnResponse: func(res *sip.Response) error {
			if !idSet {
				// The Call-ID is only set when the INVITE is sent.
				if cid := d.InviteRequest.CallID(); cid != nil {
					e.setSIPCallID(c, cid.Value())
					idSet = true
				}
			}
			if (res.StatusCode == 180 || res.StatusCode == 183) && !*progressed {
				*progressed = true
				e.post(domain.CallProgress{ID: c.id, EarlyMedia: res.StatusCode == 183 && len(res.Body()) > 0})
			}
			return nil
		},
		OnMediaUpdate: func(m *diago.DialogMedia) { e.mediaUpdated(c) },
	})
	if err == nil {
		err = d.Ack(ctx)
	}
	if cid := d.InviteRequest.CallID(); cid != nil && !idSet {
		e.setSIPCallID(c, cid.Value())
	}
	return d, err
}

// refusesSRTP reports whether a final response to our RTP/SAVP offer says
// the phone cannot take it (RFC 3261 488 Not Acceptable Here, 606 Not
// Acceptable, 415 Unsupported Media Type).
func refusesSRTP(code int) bool { return code == 488 || code == 606 || code == 415 }

// plainMediaSession is the media diago would set up for a call, offering
// RTP/AVP without SDES keys.
func (e *Engine) plainMediaSession() (*media.MediaSession, error) {
	ip := net.ParseIP(e.bindHost)
	if ip == nil || ip.IsUnspecified() {
		var err error
		if ip, _, err = sip.ResolveInterfacesIP("ip4", nil); err != nil {
			return nil, err
		}
	}
	ms := &media.MediaSession{
		Codecs:     slices.Clone(e.codecs),
		Laddr:      net.UDPAddr{IP: ip},
		ExternalIP: e.mediaExternalIP,
		Mode:       sdp.ModeSendrecv,
	}
	if err := ms.Init(); err != nil {
		return nil, err
	}
	return ms, nil
}

// ---- inbound ----

// middleware sees every request before diago: it refuses ghost INVITEs,
// tracks re-INVITE holds from the far end and handles REFER and INFO
// itself.
func (e *Engine) middleware(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		switch req.Method {
		case sip.INVITE:
			to := req.To()
			if to == nil || !to.Params.Has("tag") {
				if h := req.GetHeader("Replaces"); h != nil {
					// RFC 3891: a dialog of ours is being replaced (we are
					// the transfer target). Knowing the dialog's Call-ID
					// and both tags is the credential: the transferee
					// comes straight from its own address.
					if _, why := e.replaced(h.Value()); why != "" {
						e.log.Info("invite with replaces refused", "reason", why)
						_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
						return
					}
					if req.Recipient.User != e.acct.User {
						_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
						return
					}
					break
				}
				if reason := e.refuseInvite(req); reason != "" {
					e.log.Warn("inbound invite refused", "reason", reason, "source", req.Source())
					_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
					return
				}
				if e.acct.SRTP == SRTPRequired && len(sdesKeys(req.Body())) == 0 {
					e.log.Info("unencrypted inbound call refused (srtp required)")
					_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Encryption Required", nil))
					return
				}
			} else if c := e.callBySIPID(callIDOf(req)); c != nil {
				e.serveReinvite(c, req, tx, next)
				return
			}
		case sip.ACK:
			if c := e.callBySIPID(callIDOf(req)); c != nil && c.ownAck(req) {
				return
			}
		case sip.INFO:
			if c := e.callBySIPID(callIDOf(req)); c != nil {
				e.readInfo(c, req, tx)
				return
			}
		case sip.REFER:
			// We do not let the far end transfer the agent's calls: refuse
			// cleanly and keep the call.
			if c := e.callBySIPID(callIDOf(req)); c != nil {
				e.log.Info("refer from the far end refused", "call_id", string(c.id))
				_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Transfer Not Allowed", nil))
				return
			}
		}
		next(req, tx)
	}
}

// serveReinvite handles the far end's re-INVITE in one of our dialogs.
// While our own re-INVITE is out it is refused 491 Request Pending (RFC
// 3261 14.2: the far end tries again later, and so do we if it refused
// ours the same way). Its hold state is reported once it is answered, so
// the agent's reaction (a hold of our own) never crosses it.
func (e *Engine) serveReinvite(c *call, req *sip.Request, tx sip.ServerTransaction, next sipgo.RequestHandler) {
	select {
	case c.reinvite <- struct{}{}:
	default:
		e.log.Info("re-invite crossed ours: request pending", "call_id", string(c.id))
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusRequestPending, "Request Pending", nil))
		return
	}
	e.identityUpdate(c, req)
	changed, held := false, false
	if len(req.Body()) > 0 {
		held = sdpHeld(req.Body())
		c.mu.Lock()
		changed = c.remoteHeld != held
		c.remoteHeld = held
		c.mu.Unlock()
	}
	if c.encrypted() {
		e.answerReinvite(c, req, tx) // diago would drop the srtp
	} else {
		next(req, tx)
	}
	<-c.reinvite
	if changed {
		e.post(domain.RemoteHold{ID: c.id, On: held})
	}
}

func callIDOf(req *sip.Request) string {
	if h := req.CallID(); h != nil {
		return h.Value()
	}
	return ""
}

// refuseInvite returns why a new INVITE must not ring, or "".
func (e *Engine) refuseInvite(req *sip.Request) string {
	if !e.acct.AllowDirectCalls {
		src := req.Source()
		host, port, err := net.SplitHostPort(src)
		if err != nil {
			return "no source address"
		}
		if strings.EqualFold(req.Transport(), "udp") {
			if !e.trusted[net.JoinHostPort(host, port)] {
				return "not from the registrar or outbound proxy"
			}
		} else if !e.trustedHost(host) {
			// A stream's source port is ephemeral when the proxy opens
			// a new connection to us: only the host can be checked.
			return "not from the registrar or outbound proxy host"
		}
	}
	if req.Recipient.User != e.acct.User {
		return "request-uri user is not this account"
	}
	return ""
}

// serveInbound is diago's handler for a new INVITE that passed the
// middleware. It blocks for the call's life: diago hangs up when it
// returns.
func (e *Engine) serveInbound(d *diago.DialogServerSession) {
	if h := d.InviteRequest.GetHeader("Replaces"); h != nil {
		e.serveReplacing(d, h.Value())
		return
	}
	if !e.checkOffer(d.InviteRequest, func(code int, reason string) error { return d.Respond(code, reason, nil) }) {
		return // 488: no codec in common, never rings
	}
	c := newCall(domain.NewCallID(), true)
	c.srv = d
	c.sipCallID = callIDOf(d.InviteRequest)
	log := e.log.With("call_id", string(c.id), "dir", "in")
	if err := e.addCall(c); err != nil {
		_ = d.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil)
		return
	}
	e.wg.Add(1)
	defer e.wg.Done()
	defer close(c.done)
	defer func() {
		if c.gone() {
			time.AfterFunc(missedLinger, func() { e.removeCall(c) })
			return
		}
		e.removeCall(c)
	}()

	_ = d.Trying()
	if err := d.Ringing(); err != nil {
		log.Warn("cannot send ringing", "error", err)
		return
	}
	remote := callerOf(d.InviteRequest)
	c.mu.Lock()
	c.remote = remote
	c.mu.Unlock()
	e.post(domain.CallOffered{ID: c.id, Remote: remote, DialedNumber: dialedOf(d.InviteRequest)})
	ctx := d.Context()
	for {
		select {
		case f := <-c.cmds:
			f()
			c.mu.Lock()
			answered, local := c.answered, c.localEnd
			c.mu.Unlock()
			if local {
				return
			}
			if answered {
				if err := e.attachMedia(c, &d.DialogMedia); err != nil {
					log.Warn("no media on answered call", "error", err)
				}
				e.postAnswered(c)
				e.callLoop(c, ctx, d, log)
				return
			}
		case <-ctx.Done():
			log.Info("caller hung up before answer")
			c.mu.Lock()
			c.callerGone = true
			c.mu.Unlock()
			e.post(domain.CallEnded{ID: c.id, Cause: domain.CauseMissed, Reason: "caller hung up"})
			return
		}
	}
}

// postAnswered tells the core the call is answered, then lets the far
// end's in-dialog news that waited for it through (waitConfirmed).
func (e *Engine) postAnswered(c *call) {
	e.post(domain.CallAnswered{ID: c.id})
	close(c.up)
}

// sessionOps are the operations of an answered dialog.
type sessionOps interface {
	Hold(ctx context.Context) error
	Unhold(ctx context.Context) error
	Hangup(ctx context.Context) error
}

// callLoop runs an answered call's commands until it ends.
func (e *Engine) callLoop(c *call, ctx context.Context, d sessionOps, log interface {
	Info(string, ...any)
}) {
	for {
		select {
		case f := <-c.cmds:
			f()
			c.mu.Lock()
			local := c.localEnd
			c.mu.Unlock()
			if local {
				return
			}
		case <-e.ctx.Done():
			return // engine closed: Close has hung up (or tried to)
		case <-ctx.Done():
			c.mu.Lock()
			local := c.localEnd
			c.mu.Unlock()
			if !local {
				log.Info("call ended by the far end")
				e.post(domain.CallEnded{ID: c.id, Cause: domain.CauseRemoteHangup})
			}
			return
		}
	}
}

// Answer answers an offered call.
func (e *Engine) Answer(id domain.CallID) error {
	c, err := e.call(id)
	if err != nil {
		return err
	}
	if !c.inbound {
		return fmt.Errorf("%w: answer an outbound call", ErrCallState)
	}
	err = c.do(func() {
		c.mu.Lock()
		d, answered := c.srv, c.answered
		c.mu.Unlock()
		if answered || d.Context().Err() != nil {
			// Already answered, or the caller cancelled just before: the
			// call goroutine reports the missed call.
			return
		}
		c.mu.Lock()
		c.answering = true
		c.mu.Unlock()
		err := d.AnswerOptions(diago.AnswerOptions{
			Codecs:        e.answerCodecs(d.InviteRequest),
			OnMediaUpdate: func(*diago.DialogMedia) { e.mediaUpdated(c) },
		})
		if err != nil {
			c.mu.Lock()
			c.localEnd, c.answering = true, false
			c.mu.Unlock()
			if errors.Is(err, sip.ErrTransactionCanceled) || d.Context().Err() != nil {
				// The CANCEL won the race with our 200 (the caller got
				// 487): a missed call, never a connected one.
				e.log.Info("caller cancelled while the call was answered", "call_id", string(id))
				e.post(domain.CallEnded{ID: id, Cause: domain.CauseMissed, Reason: "caller hung up"})
				return
			}
			e.log.Warn("answer failed", "call_id", string(id), "error", err)
			e.post(domain.CallFailed{ID: id, Cause: domain.CauseNetwork, Reason: "answer failed: " + err.Error()})
			return
		}
		if testAfterAnswer != nil {
			testAfterAnswer()
		}
		c.mu.Lock()
		c.answered, c.answering = true, false
		c.mu.Unlock()
	})
	if errors.Is(err, ErrUnknownCall) && c.gone() {
		return nil // the caller cancelled first: CallEnded (missed) is posted
	}
	return err
}

// gone reports whether an inbound call ended because the caller cancelled
// before it was answered.
func (c *call) gone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.callerGone
}

// Reject refuses an offered call with code (486 Busy Here, 603 Decline,
// 480 Temporarily Unavailable).
func (e *Engine) Reject(id domain.CallID, code int) error {
	if code < 400 || code > 699 {
		return fmt.Errorf("%w: reject code %d", ErrCallState, code)
	}
	return e.respondOffered(id, "reject", func(d *diago.DialogServerSession) error {
		return d.Respond(code, statusText(code), nil)
	})
}

// Redirect sends an offered call to target with 302 Moved Temporarily.
func (e *Engine) Redirect(id domain.CallID, target string) error {
	uri, err := targetURI(target, e.acct.Domain)
	if err != nil {
		return err
	}
	return e.respondOffered(id, "redirect", func(d *diago.DialogServerSession) error {
		contact := &sip.ContactHeader{Address: uri, Params: sip.NewParams()}
		return d.Respond(sip.StatusMovedTemporarily, "Moved Temporarily", nil, contact)
	})
}

// respondOffered sends the final response of an inbound call that has not
// been answered (reject, redirect) on the call's goroutine; an answered call
// is left alone. what names the operation in errors and logs.
func (e *Engine) respondOffered(id domain.CallID, what string, respond func(*diago.DialogServerSession) error) error {
	c, err := e.call(id)
	if err != nil {
		return err
	}
	if !c.inbound {
		return fmt.Errorf("%w: %s an outbound call", ErrCallState, what)
	}
	err = c.do(func() {
		c.mu.Lock()
		d, answered, closing := c.srv, c.answered, c.closing
		c.localEnd = !answered || c.localEnd
		c.closing = !answered || closing
		c.mu.Unlock()
		if answered || closing {
			return
		}
		if err := respond(d); err != nil {
			e.log.Warn(what+" failed", "call_id", string(id), "error", err)
		}
	})
	if errors.Is(err, ErrUnknownCall) && c.gone() {
		return nil // the caller cancelled first: nothing left to refuse
	}
	return err
}

// Hangup ends a call: cancels an outbound call still ringing, rejects an
// offered one (486), sends BYE on a connected one.
func (e *Engine) Hangup(id domain.CallID) error {
	c, err := e.call(id)
	if err != nil {
		return nil // already gone: hanging up twice is harmless
	}
	c.mu.Lock()
	cancel, answered := c.cancelInvite, c.answered
	if !c.inbound && !answered {
		c.localEnd = true
	}
	c.mu.Unlock()
	if !c.inbound && !answered {
		if cancel != nil {
			cancel() // diago sends CANCEL
		}
		return nil
	}
	// Commands queued before (hold, DTMF) run first, in order.
	err = c.do(func() {
		ctx, done := context.WithTimeout(e.ctx, 10*time.Second)
		defer done()
		c.mu.Lock()
		c.localEnd = true
		srv, cli, answered, closing := c.srv, c.cli, c.answered, c.closing
		c.closing = true
		c.mu.Unlock()
		var herr error
		switch {
		case closing:
		case cli != nil:
			herr = cli.Hangup(ctx)
		case srv != nil && answered:
			herr = srv.Hangup(ctx)
		case srv != nil:
			herr = srv.Respond(sip.StatusBusyHere, "Busy Here", nil)
		}
		if herr != nil {
			e.log.Info("hangup", "call_id", string(id), "error", herr)
		}
	})
	if errors.Is(err, ErrUnknownCall) {
		return nil // ended meanwhile: hanging up twice is harmless
	}
	return err
}

// Hold puts a connected call on hold (re-INVITE sendonly) or resumes it.
// A refused re-INVITE is reported as HoldFailed.
func (e *Engine) Hold(id domain.CallID, on bool) error {
	c, err := e.call(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	answered := c.answered
	c.mu.Unlock()
	if !answered {
		return fmt.Errorf("%w: hold before answer", ErrCallState)
	}
	return c.do(func() {
		ctx, done := context.WithTimeout(e.ctx, 15*time.Second)
		defer done()
		var err error
		for attempt := 1; ; attempt++ {
			err = e.holdOnce(ctx, c, on)
			if re := dialogResponse(err); re == nil || re.StatusCode != sip.StatusRequestPending || attempt == 3 {
				break
			}
			// Our own re-INVITE crossed the far end's (RFC 3261 14.1):
			// try again after a random wait, longer when we own the
			// Call-ID. (diago's re-INVITE retries a 491 by itself.)
			wait := glareWait(!c.inbound)
			e.log.Info("hold re-invite crossed the far end's: trying again", "call_id", string(id), "after", wait)
			select {
			case <-time.After(wait):
				continue
			case <-ctx.Done():
			}
			err = ctx.Err()
			break
		}
		if err != nil {
			e.log.Warn("hold re-invite failed", "call_id", string(id), "on", on, "error", err)
			e.post(domain.HoldFailed{ID: id, On: on, Reason: holdReason(err)})
			return
		}
		c.mu.Lock()
		c.localHeld = on
		c.mu.Unlock()
	})
}

// holdOnce sends one hold or resume re-INVITE, once no other INVITE
// transaction of the dialog is in progress.
func (e *Engine) holdOnce(ctx context.Context, c *call, on bool) error {
	select {
	case c.reinvite <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.reinvite }()
	c.mu.Lock()
	mutual := on && c.remoteHeld
	c.mu.Unlock()
	switch {
	case c.encrypted() || e.acct.Transport == TransportTLS || e.mediaExternalIP != nil || mutual:
		// diago's hold re-INVITE on a TLS call dials a new TLS
		// connection whose handshake fails, on an encrypted call it
		// drops the keys, it advertises the local address instead of
		// the STUN-mapped one, and it only ever offers sendonly: ours
		// goes out on the dialog's connection with our original SDP,
		// inactive when the far end holds us too.
		return e.ownHold(ctx, c, on)
	case on:
		return c.session().Hold(ctx)
	default:
		return c.session().Unhold(ctx)
	}
}

// glareWait is how long to wait before sending a re-INVITE again after a
// 491 (RFC 3261 14.1): 2.1 to 4 s when we generated the dialog's Call-ID
// (we placed the call), else up to 2 s, in 10 ms steps.
func glareWait(ownCallID bool) time.Duration {
	if ownCallID {
		return 2100*time.Millisecond + time.Duration(rand.IntN(191))*10*time.Millisecond
	}
	return time.Duration(rand.IntN(201)) * 10 * time.Millisecond
}

// dialogResponse returns the final response carried by a sipgo dialog
// error (sipgo returns it both as a value and as a pointer), or nil.
func dialogResponse(err error) *sip.Response {
	var v sipgo.ErrDialogResponse
	if errors.As(err, &v) && v.Res != nil {
		return v.Res
	}
	var p *sipgo.ErrDialogResponse
	if errors.As(err, &p) && p != nil && p.Res != nil {
		return p.Res
	}
	return nil
}

// byeCrossed200 ends a call whose 200 OK crossed our CANCEL: sipgo keeps
// that final response, and the far end is connected until we ACK and BYE.
func (e *Engine) byeCrossed200(d *diago.DialogClientSession) {
	res := d.InviteResponse
	if res == nil || !res.IsSuccess() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.DialogClientSession.Ack(ctx); err != nil {
		e.log.Warn("ack of a 200 that crossed our cancel failed", "error", err)
		return
	}
	if err := d.DialogClientSession.Bye(ctx); err != nil {
		e.log.Warn("bye of a 200 that crossed our cancel failed", "error", err)
	}
}

func holdReason(err error) string {
	if re := dialogResponse(err); re != nil {
		return fmt.Sprintf("the other side refused (%d %s)", re.StatusCode, re.Reason)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer from the other side"
	}
	return err.Error()
}

// session returns the answered dialog's operations.
func (c *call) session() sessionOps {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cli != nil {
		return c.cli
	}
	return c.srv
}

// SendDTMF sends digits as RFC 4733 telephone events, or as SIP INFO
// requests when the account says so (Account.DTMF).
func (e *Engine) SendDTMF(id domain.CallID, digits string) error {
	if !domain.ValidDTMF(digits) {
		return fmt.Errorf("%w: dtmf %q", ErrBadTarget, digits)
	}
	c, err := e.call(id)
	if err != nil {
		return err
	}
	if e.acct.DTMF == DTMFInfo {
		c.mu.Lock()
		answered := c.answered
		c.mu.Unlock()
		if !answered {
			return fmt.Errorf("%w: dtmf before answer", ErrCallState)
		}
		return c.do(func() {
			if err := e.infoDigits(c, strings.ToUpper(digits)); err != nil {
				e.log.Warn("dtmf failed", "call_id", string(id), "error", err)
			}
		})
	}
	c.mu.Lock()
	m := c.media
	c.mu.Unlock()
	if m == nil {
		return ErrNoMedia
	}
	return c.do(func() {
		if err := m.sendDTMF(strings.ToUpper(digits)); err != nil {
			e.log.Warn("dtmf failed", "call_id", string(id), "error", err)
		}
	})
}

// ---- transfer ----

// TransferBlind transfers a connected call to target with REFER and
// follows the NOTIFY progress; the outcome is a TransferResult event.
func (e *Engine) TransferBlind(id domain.CallID, target string) error {
	uri, err := targetURI(target, e.acct.Domain)
	if err != nil {
		return err
	}
	return e.refer(id, uri)
}

// TransferAttended transfers the held call id to the party of the consult
// call to: REFER to id's far end with Refer-To carrying Replaces for the
// consult dialog, so that party's phone replaces its call with us.
func (e *Engine) TransferAttended(id, to domain.CallID) error {
	k, err := e.call(to)
	if err != nil {
		return err
	}
	k.mu.Lock()
	cli, srv, answered := k.cli, k.srv, k.answered
	k.mu.Unlock()
	if !answered {
		return fmt.Errorf("%w: consult call not connected", ErrCallState)
	}
	var target sip.Uri
	var callID, localTag, remoteTag string
	switch {
	case cli != nil:
		target = *cli.RemoteContact().Address.Clone()
		callID = callIDOf(cli.InviteRequest)
		localTag, _ = cli.InviteRequest.From().Params.Get("tag")
		remoteTag, _ = cli.InviteResponse.To().Params.Get("tag")
	default:
		target = *srv.RemoteContact().Address.Clone()
		callID = callIDOf(srv.InviteRequest)
		localTag, _ = srv.InviteResponse.To().Params.Get("tag")
		remoteTag, _ = srv.InviteRequest.From().Params.Get("tag")
	}
	// Replaces names the dialog from the consulted party's side: to-tag is
	// its local tag (our remote), from-tag ours.
	target.Headers = sip.NewParams()
	target.Headers.Add("Replaces", replacesValue(callID, remoteTag, localTag))
	return e.refer(id, target)
}

// replacesValue is the escaped Replaces URI header value.
func replacesValue(callID, toTag, fromTag string) string {
	esc := func(s string) string {
		r := strings.NewReplacer("%", "%25", ";", "%3B", "=", "%3D", "@", "%40", "?", "%3F", "&", "%26", " ", "%20")
		return r.Replace(s)
	}
	return esc(callID) + "%3Bto-tag%3D" + esc(toTag) + "%3Bfrom-tag%3D" + esc(fromTag)
}

func (e *Engine) refer(id domain.CallID, referTo sip.Uri) error {
	c, err := e.call(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	cli, srv, answered := c.cli, c.srv, c.answered
	c.mu.Unlock()
	if !answered {
		return fmt.Errorf("%w: transfer before answer", ErrCallState)
	}
	var once sync.Once
	result := make(chan struct{})
	report := func(ok bool, why string) {
		once.Do(func() {
			close(result)
			e.post(domain.TransferResult{ID: id, OK: ok, Reason: why})
		})
	}
	onNotify := func(code int) {
		if code >= 200 {
			report(code < 300, notifyReason(code))
		}
	}
	aor := e.aor()
	referredBy := sip.NewHeader("Referred-By", "<"+aor.String()+">")
	return c.do(func() {
		ctx, done := context.WithTimeout(e.ctx, 15*time.Second)
		defer done()
		var err error
		if cli != nil {
			err = cli.ReferOptions(ctx, referTo, diago.ReferClientOptions{Headers: []sip.Header{referredBy}, OnNotify: onNotify})
		} else {
			err = srv.ReferOptions(ctx, referTo, diago.ReferServerOptions{Headers: []sip.Header{referredBy}, OnNotify: onNotify})
		}
		if err != nil {
			report(false, holdReason(err))
			return
		}
		// The REFER was accepted (202); the final NOTIFY says whether the
		// transfer worked. Wait for it without blocking the call loop.
		go func() {
			select {
			case <-result:
			case <-time.After(e.transferTimeout):
				report(false, "no result from the other side")
			case <-e.ctx.Done():
			}
		}()
	})
}

func notifyReason(code int) string {
	if code < 300 {
		return ""
	}
	return fmt.Sprintf("the transfer target answered %d %s", code, statusText(code))
}

func statusText(code int) string {
	switch code {
	case 408:
		return "Request Timeout"
	case 410:
		return "Gone"
	case 480:
		return "Temporarily Unavailable"
	case 484:
		return "Address Incomplete"
	case 485:
		return "Ambiguous"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	case 404:
		return "Not Found"
	case 403:
		return "Forbidden"
	case 500:
		return "Server Internal Error"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Server Time-out"
	case 604:
		return "Does Not Exist Anywhere"
	}
	return "Rejected"
}

// trustedHost reports whether ip is the address of the registrar or the
// outbound proxy (any port).
func (e *Engine) trustedHost(ip string) bool {
	for hp := range e.trusted {
		if h, _, err := net.SplitHostPort(hp); err == nil && h == ip {
			return true
		}
	}
	return false
}
