package crm

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// MaxResponseBody bounds every CRM response read into memory.
const MaxResponseBody = 64 << 20

// Send performs one request for the connector named crmName and reads the
// whole body (at most MaxResponseBody). Transport failures come back
// classified by TransportError; an HTTP status is not an error here.
func Send(c *http.Client, crmName string, req *http.Request, write bool) ([]byte, int, http.Header, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, 0, nil, TransportError(crmName, err, write)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	if err != nil {
		return nil, resp.StatusCode, resp.Header, TransportError(crmName, err, write)
	}
	return body, resp.StatusCode, resp.Header, nil
}

// TransportError classifies a failure below HTTP: KindOffline when the
// connection never opened (dial or DNS failure: nothing was sent),
// KindAmbiguous for a write that may have reached the CRM (reset,
// timeout, truncated answer), KindTransient for a read. The request URL
// is dropped from the message because a lookup's query holds the number.
func TransportError(crmName string, err error, write bool) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	kind, msg := KindTransient, "network error"
	var op *net.OpError
	var dns *net.DNSError
	switch {
	case errors.As(err, &op) && op.Op == "dial", errors.As(err, &dns):
		kind, msg = KindOffline, "the CRM cannot be reached"
	case write:
		kind, msg = KindAmbiguous, "no answer after the request was sent; it will be checked before any retry"
	}
	return &Error{CRM: crmName, Kind: kind, Message: msg, Err: err}
}

// RetryAfter reads a Retry-After header (delay seconds or an HTTP date)
// relative to now; zero when absent or unreadable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	ra := h.Get("Retry-After")
	if ra == "" {
		return 0
	}
	if n, err := strconv.Atoi(ra); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(ra); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// StatusError is the default classification of an HTTP error status
// shared by the REST connectors (crm-apis.md §1.2): 401 AuthExpired, 429
// RateLimited with the Retry-After delay, 408 and 5xx Transient (a 5xx or
// 408 answer to a write is Ambiguous: a proxy or the CRM may have
// committed before it failed), anything else Permanent. Connectors override Kind where their
// CRM's code says more (a unique-key conflict, a stale reference).
func StatusError(crmName string, status int, h http.Header, write bool, code, msg string) *Error {
	e := &Error{CRM: crmName, Kind: KindPermanent, Status: status, Code: code, Message: msg}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	switch {
	case status == http.StatusUnauthorized:
		e.Kind = KindAuthExpired
	case status == http.StatusTooManyRequests:
		e.Kind = KindRateLimited
		e.RetryAfter = RetryAfter(h, time.Now())
	case status >= 500 || status == http.StatusRequestTimeout:
		e.Kind = KindTransient
		if write {
			e.Kind = KindAmbiguous
		}
		e.RetryAfter = RetryAfter(h, time.Now())
	}
	return e
}
