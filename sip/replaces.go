package sip

import (
	"context"
	"strings"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo/sip"
)

// Being the target of an attended transfer (RFC 3891): the transferee
// sends an INVITE with a Replaces header naming one of our connected
// dialogs. diago v0.31.0 has no handling for it (it would ring as a new
// call); we answer it at once, hang up the replaced dialog and let the new
// dialog carry on under the same domain call ID, so the core sees one
// continuing call. The audio engine re-attaches when the old streams end.
// The core learns the party now connected (P-Asserted-Identity,
// Remote-Party-ID or From of the replacing INVITE) as RemotePartyChanged.

// replacesID is a parsed Replaces header value.
type replacesID struct {
	callID, toTag, fromTag string
	earlyOnly              bool
}

// parseReplaces parses "callid;to-tag=x;from-tag=y[;early-only]".
func parseReplaces(v string) (replacesID, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > maxHeaderValue {
		return replacesID{}, false
	}
	parts := strings.Split(v, ";")
	r := replacesID{callID: strings.TrimSpace(parts[0])}
	for _, p := range parts[1:] {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "to-tag":
			r.toTag = val
		case "from-tag":
			r.fromTag = val
		case "early-only":
			r.earlyOnly = true
		}
	}
	if r.callID == "" || r.toTag == "" || r.fromTag == "" {
		return replacesID{}, false
	}
	return r, true
}

// tags returns a call's local and remote dialog tags.
func (c *call) tags() (local, remote string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.cli != nil && c.cli.InviteResponse != nil:
		local, _ = c.cli.InviteRequest.From().Params.Get("tag")
		remote, _ = c.cli.InviteResponse.To().Params.Get("tag")
	case c.srv != nil && c.srv.InviteResponse != nil:
		local, _ = c.srv.InviteResponse.To().Params.Get("tag")
		remote, _ = c.srv.InviteRequest.From().Params.Get("tag")
	default:
		return "", "", false
	}
	return local, remote, local != "" && remote != ""
}

// replaced returns the connected call a Replaces header names, or why
// none matches. The to-tag is the dialog's local tag at the recipient (us),
// the from-tag its remote tag (RFC 3891 section 3).
func (e *Engine) replaced(v string) (*call, string) {
	r, ok := parseReplaces(v)
	if !ok {
		return nil, "malformed replaces header"
	}
	c := e.callBySIPID(r.callID)
	if c == nil {
		return nil, "no such dialog"
	}
	local, remote, ok := c.tags()
	if !ok || local != r.toTag || remote != r.fromTag {
		return nil, "dialog tags do not match"
	}
	c.mu.Lock()
	answered := c.answered
	c.mu.Unlock()
	if !answered || r.earlyOnly {
		// We only replace confirmed dialogs; an early-only request for a
		// confirmed one must fail (RFC 3891 3, 486 there; 481 is as clear).
		return nil, "dialog not in the state asked for"
	}
	return c, ""
}

// serveReplacing answers an INVITE with Replaces and hands the replaced
// call's ID over to the new dialog. It blocks for the call's life.
func (e *Engine) serveReplacing(d *diago.DialogServerSession, replaces string) {
	old, why := e.replaced(replaces)
	if old == nil {
		e.log.Info("invite with replaces refused", "reason", why)
		_ = d.Respond(sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil)
		return
	}
	log := e.log.With("call_id", string(old.id), "dir", "in")
	nc := newCall(old.id, old.inbound)
	nc.srv = d
	nc.sipCallID = callIDOf(d.InviteRequest)
	if err := d.AnswerOptions(diago.AnswerOptions{
		Codecs:        e.answerCodecs(d.InviteRequest),
		OnMediaUpdate: func(*diago.DialogMedia) { e.mediaUpdated(nc) },
	}); err != nil {
		log.Warn("answer of a replacing invite failed", "error", err)
		return
	}
	nc.answered = true
	if !e.handOver(old, nc) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.Hangup(ctx)
		cancel()
		return
	}
	e.wg.Add(1)
	defer e.wg.Done()
	defer close(nc.done)
	defer e.removeCall(nc)
	if err := e.attachMedia(nc, &d.DialogMedia); err != nil {
		log.Warn("no media on replacing call", "error", err)
	}
	close(nc.up) // the core knows this call as answered already
	log.Info("call replaced by a transferred party")
	old.mu.Lock()
	nc.remote = old.remote
	old.mu.Unlock()
	// The party now connected is the one in the replacing INVITE.
	e.remoteChanged(nc, callerOf(d.InviteRequest))
	old.end() // BYE on the replaced dialog; its goroutine posts nothing
	e.callLoop(nc, d.Context(), d, log)
}

// handOver puts nc in old's place under the same domain call ID and marks
// old as ended by us. It fails when the engine closed or old already ended.
func (e *Engine) handOver(old, nc *call) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.started || e.closed || e.calls[old.id] != old {
		return false
	}
	old.mu.Lock()
	old.localEnd = true
	oldSID := old.sipCallID
	old.mu.Unlock()
	e.calls[old.id] = nc
	if e.byCallID[oldSID] == old {
		delete(e.byCallID, oldSID)
	}
	e.byCallID[nc.sipCallID] = nc
	return true
}
