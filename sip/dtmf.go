package sip

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/emiago/sipgo/sip"
)

// DTMFMode is how an account sends DTMF. Values are persisted: never
// renumber.
type DTMFMode uint8

// DTMFMode values.
const (
	DTMFUnknown DTMFMode = 0 // RFC 4733
	DTMFRFC4733 DTMFMode = 1 // telephone-event RTP packets
	DTMFInfo    DTMFMode = 2 // SIP INFO (application/dtmf-relay), for PBXs without RFC 4733
)

func (m DTMFMode) String() string {
	switch m {
	case DTMFUnknown:
		return "unknown"
	case DTMFRFC4733:
		return "rfc4733"
	case DTMFInfo:
		return "info"
	}
	return "dtmf(" + strconv.Itoa(int(m)) + ")"
}

// WithDTMFHandler sets a function told about every DTMF digit the far end
// sends (RFC 4733 events seen while Rx is read, and SIP INFO), besides the
// domain.DTMFReceived event posted to the sink. It is called on a network
// goroutine and must return quickly. Most callers need only the event.
func WithDTMFHandler(f func(id domain.CallID, digit string)) Option {
	return func(e *Engine) { e.onDTMF = f }
}

// dtmfReceived reports a digit the far end keyed: a DTMFReceived event
// (and the WithDTMFHandler function). The digit itself is never logged: it
// may be part of a PIN.
func (e *Engine) dtmfReceived(id domain.CallID, digit string) {
	e.log.Debug("dtmf received", "call_id", string(id))
	if e.onDTMF != nil {
		e.onDTMF(id, digit)
	}
	e.post(domain.DTMFReceived{ID: id, Digit: digit})
}

// infoDigits sends digits as in-dialog SIP INFO requests, one per digit,
// each waiting for its final response.
func (e *Engine) infoDigits(c *call, digits string) error {
	c.mu.Lock()
	cli, srv := c.cli, c.srv
	c.mu.Unlock()
	for _, d := range digits {
		req := sip.NewRequest(sip.INFO, sip.Uri{})
		req.AppendHeader(sip.NewHeader("Content-Type", "application/dtmf-relay"))
		req.SetBody([]byte("Signal=" + string(d) + "\r\nDuration=160\r\n"))
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		var res *sip.Response
		var err error
		if cli != nil {
			req.Recipient = cli.RemoteContact().Address
			res, err = cli.DialogClientSession.Do(ctx, req)
		} else {
			req.Recipient = srv.RemoteContact().Address
			res, err = srv.DialogServerSession.Do(ctx, req)
		}
		cancel()
		if err != nil {
			return fmt.Errorf("info dtmf: %w", err)
		}
		if !res.IsSuccess() {
			return fmt.Errorf("info dtmf refused: %d %s", res.StatusCode, res.Reason)
		}
	}
	return nil
}

// readInfo handles an in-dialog INFO: DTMF bodies are reported and
// answered 200, other bodies 415. diago v0.31.0 answers every INFO 406, so
// the far end's INFO DTMF would be lost.
func (e *Engine) readInfo(c *call, req *sip.Request, tx sip.ServerTransaction) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(strings.TrimSpace(h.Value()))
		if i := strings.IndexByte(ct, ';'); i >= 0 {
			ct = strings.TrimSpace(ct[:i])
		}
	}
	var digit string
	switch ct {
	case "application/dtmf-relay":
		for _, line := range strings.Split(string(req.Body()), "\n") {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				digit = normDigit(strings.TrimSpace(v))
			}
		}
	case "application/dtmf":
		digit = normDigit(strings.TrimSpace(string(req.Body())))
	case "":
		// An empty INFO is a keep-alive probe.
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
		return
	default:
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusUnsupportedMediaType, "Unsupported Media Type", nil))
		return
	}
	if digit == "" {
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusBadRequest, "Bad DTMF", nil))
		return
	}
	// A digit keyed right after the ACK of our answer follows the call's
	// CallAnswered (in an early dialog it is reported at once).
	c.waitConfirmed(5 * time.Second)
	// Report the digit before answering: the sender waits for our 200
	// before its next INFO, which sipgo may handle on another goroutine, so
	// reporting after the 200 could reorder digits.
	e.dtmfReceived(c.id, digit)
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
}

// normDigit maps a DTMF signal (a symbol, or RFC 4733 event number 0-15
// as some phones send) to the symbol, or "" when it is none.
func normDigit(s string) string {
	const symbols = "0123456789*#ABCD"
	if len(s) == 1 && strings.Contains(symbols, strings.ToUpper(s)) {
		return strings.ToUpper(s)
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 10 && n < 16 {
		return symbols[n : n+1]
	}
	return ""
}

// eventDigit is the symbol of an RFC 4733 event number, or "".
func eventDigit(ev byte) string {
	const symbols = "0123456789*#ABCD"
	if int(ev) < len(symbols) {
		return symbols[ev : ev+1]
	}
	return ""
}
