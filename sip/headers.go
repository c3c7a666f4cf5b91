package sip

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/emiago/sipgo/sip"
)

// maxHeaderValue bounds the identity headers we parse (a peer may send
// anything).
const maxHeaderValue = 1024

// parseAddress parses a name-addr or addr-spec ("Name" <sip:u@h>;tag=x)
// and returns the display name and URI.
func parseAddress(v string) (string, sip.Uri, bool) {
	v = strings.TrimSpace(v)
	if v == "" || len(v) > maxHeaderValue {
		return "", sip.Uri{}, false
	}
	// History-Info and Diversion may carry several comma-separated entries;
	// the first is the original.
	if i := firstComma(v); i >= 0 {
		v = v[:i]
	}
	var u sip.Uri
	params := sip.NewParams()
	name, err := sip.ParseAddressValue(v, &u, &params)
	if err != nil {
		return "", sip.Uri{}, false
	}
	return unquoteDisplayName(name), u, true
}

// quoteDisplayName makes a display name the inside of a quoted-string
// (RFC 3261 25.1; sipgo writes it between quotes as it is): a backslash
// or a double quote gets a backslash before it.
func quoteDisplayName(name string) string {
	if !strings.ContainsAny(name, `"\`) {
		return name
	}
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)
}

// unquoteDisplayName is the text of a display name as a parser kept it:
// without the surrounding quotes, each quoted-pair (backslash and a
// character) read as the character.
func unquoteDisplayName(name string) string {
	name = strings.TrimSpace(name)
	if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
		name = name[1 : len(name)-1]
	} else {
		name = strings.Trim(name, `"`)
	}
	if !strings.Contains(name, `\`) {
		return name
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '\\' && i+1 < len(name) {
			i++
		}
		b.WriteByte(name[i])
	}
	return b.String()
}

// firstComma finds a comma outside quotes and angle brackets.
func firstComma(s string) int {
	quoted, angle := false, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++ // a quoted-pair: the next character is text
			}
		case '"':
			quoted = !quoted
		case '<':
			if !quoted {
				angle = true
			}
		case '>':
			if !quoted {
				angle = false
			}
		case ',':
			if !quoted && !angle {
				return i
			}
		}
	}
	return -1
}

// uriNumber is the number or user of a sip:, sips: or tel: URI.
func uriNumber(u sip.Uri) string {
	if strings.EqualFold(u.Scheme, "tel") {
		// sipgo v1.7 keeps a tel: URI's text unparsed (only String shows
		// it): the number is what follows "tel:" up to the parameters.
		n := u.User
		if n == "" {
			n = u.Host
		}
		if n == "" {
			_, n, _ = strings.Cut(u.String(), ":")
		}
		if i := strings.IndexByte(n, ';'); i >= 0 {
			n = n[:i]
		}
		return n
	}
	return u.User
}

// callerOf returns the caller's identity: P-Asserted-Identity first (the
// network asserted it), then Remote-Party-ID, then From. The display name
// falls back to the next header's when the chosen one has none.
func callerOf(req *sip.Request) domain.Party {
	var p domain.Party
	for _, name := range []string{"P-Asserted-Identity", "Remote-Party-ID"} {
		h := req.GetHeader(name)
		if h == nil {
			continue
		}
		dn, u, ok := parseAddress(h.Value())
		if !ok || uriNumber(u) == "" {
			continue
		}
		p = domain.Party{Number: uriNumber(u), Name: dn}
		break
	}
	if from := req.From(); from != nil {
		if p.Number == "" {
			p.Number = from.Address.User
		}
		if p.Name == "" {
			p.Name = unquoteDisplayName(from.DisplayName)
		}
	}
	if strings.EqualFold(p.Number, "anonymous") {
		p.Number = ""
	}
	return p
}

// assertedOf returns the identity a request asserts in P-Asserted-Identity
// or Remote-Party-ID (not From, which never changes within a dialog), and
// whether it carries one.
func assertedOf(req *sip.Request) (domain.Party, bool) {
	for _, name := range []string{"P-Asserted-Identity", "Remote-Party-ID"} {
		h := req.GetHeader(name)
		if h == nil {
			continue
		}
		dn, u, ok := parseAddress(h.Value())
		if !ok || (uriNumber(u) == "" && dn == "") {
			continue
		}
		p := domain.Party{Number: uriNumber(u), Name: dn}
		if strings.EqualFold(p.Number, "anonymous") {
			p.Number = ""
		}
		return p, p.Number != "" || p.Name != ""
	}
	return domain.Party{}, false
}

// dialedOf returns the number the caller dialled: the first Diversion or
// History-Info entry (the original target before forwarding), else To.
func dialedOf(req *sip.Request) string {
	if h := req.GetHeader("Diversion"); h != nil {
		if _, u, ok := parseAddress(h.Value()); ok && uriNumber(u) != "" {
			return uriNumber(u)
		}
	}
	if h := req.GetHeader("History-Info"); h != nil {
		if _, u, ok := parseAddress(h.Value()); ok && uriNumber(u) != "" {
			return uriNumber(u)
		}
	}
	if to := req.To(); to != nil {
		return to.Address.User
	}
	return ""
}

// targetURI turns a normalised dial target (digits, a SIP user, or a sip:
// or sips: URI, see domain.NormalizeDialString) into a request URI in the
// account's domain.
func targetURI(target, domainHostPort string) (sip.Uri, error) {
	t, err := domain.NormalizeDialString(target)
	if err != nil {
		return sip.Uri{}, fmt.Errorf("%w: %w", ErrBadTarget, err)
	}
	lower := strings.ToLower(t)
	if strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:") {
		var u sip.Uri
		if err := sip.ParseUri(t, &u); err != nil || u.Host == "" {
			return sip.Uri{}, fmt.Errorf("%w: %q", ErrBadTarget, t)
		}
		u.User = escapeUser(u.User)
		return u, nil
	}
	host, port := splitHostPort(domainHostPort)
	return sip.Uri{Scheme: "sip", User: escapeUser(t), Host: host, Port: port}, nil
}

// escapeUser escapes '#' in a URI's user part (RFC 3261 25.1 does not
// allow it there, and parsers take it as the start of a fragment): a
// feature code such as "*72#1001" is sent as "*72%231001".
func escapeUser(u string) string {
	return strings.ReplaceAll(u, "#", "%23")
}

// splitHostPort splits "host[:port]"; port 0 when absent.
func splitHostPort(hp string) (string, int) {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return hp, 0
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

// sdpHeld reports whether an SDP offer puts us on hold: the audio stream is
// sendonly or inactive, or the connection address is 0.0.0.0 (RFC 2543).
func sdpHeld(body []byte) bool {
	s := strings.ToLower(string(body))
	if strings.Contains(s, "a=sendonly") || strings.Contains(s, "a=inactive") {
		return true
	}
	return strings.Contains(s, "c=in ip4 0.0.0.0")
}

// identityUpdate reports the far end's new identity when an in-dialog
// request (re-INVITE, UPDATE) asserts one that differs from what the core
// was last told: the far end was transferred on its side.
func (e *Engine) identityUpdate(c *call, req *sip.Request) {
	p, ok := assertedOf(req)
	if !ok {
		return
	}
	e.remoteChanged(c, p)
}

// remoteChanged posts RemotePartyChanged when p is not the identity last
// reported for c. The party is not logged (phone numbers stay out of logs).
func (e *Engine) remoteChanged(c *call, p domain.Party) {
	c.mu.Lock()
	same := c.remote == p
	c.remote = p
	answered := c.answered
	c.mu.Unlock()
	if same || !answered {
		return
	}
	e.log.Info("remote party changed", "call_id", string(c.id))
	e.post(domain.RemotePartyChanged{ID: c.id, Party: p})
}

// serveUpdate is the server's UPDATE handler (diago v0.31.0 registers
// none, so sipgo would answer 405). An UPDATE without a body in one of our
// dialogs is a connected-identity update or a session refresh (RFC 3311,
// PBXs announce a transfer on their side this way): the asserted identity
// is taken and the UPDATE answered 200. An SDP offer in an UPDATE is
// refused with 488 (the session stays as it was); outside a dialog, 481.
func (e *Engine) serveUpdate(req *sip.Request, tx sip.ServerTransaction) {
	c := e.callBySIPID(callIDOf(req))
	if c == nil || !c.waitConfirmed(5*time.Second) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		return
	}
	if len(req.Body()) > 0 {
		e.log.Info("update with a session offer refused", "call_id", string(c.id))
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil))
		return
	}
	e.identityUpdate(c, req)
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	if ct := c.localContact(); ct != nil {
		res.AppendHeader(ct)
	}
	_ = tx.Respond(res)
}

// waitConfirmed reports whether the call is answered and the core knows
// it, waiting up to d while our answer is on its way: the far end may send
// UPDATE or INFO right after its ACK, before diago has handed the answered
// dialog back to us (that UPDATE got 481, and a digit reached the core
// before the call's CallAnswered).
func (c *call) waitConfirmed(d time.Duration) bool {
	select {
	case <-c.up:
		return true
	default:
	}
	c.mu.Lock()
	pending := c.answering || c.answered
	c.mu.Unlock()
	if !pending {
		return false // still ringing, or an early dialog
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.up:
		return true
	case <-c.done:
		return false
	case <-t.C:
		return false
	}
}
