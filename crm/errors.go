package crm

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Classify with errors.Is.
var (
	// ErrSignInRequired means the agent has no usable CRM session (never
	// signed in, signed out, or the refresh token was revoked): an
	// interactive sign-in is needed. Queued logs are kept meanwhile.
	ErrSignInRequired = errors.New("crm sign-in required")
	// ErrUnsupported means the connector cannot do the operation.
	ErrUnsupported = errors.New("operation not supported by this crm")
	// ErrNoSession means the Directory has no signed-in session.
	ErrNoSession = errors.New("no crm session")
	// ErrInvalidNumber means a phone number could not be parsed.
	ErrInvalidNumber = errors.New("invalid phone number")
	// ErrWrongAgent means a log of one agent was handed to another agent's
	// session; it is never sent.
	ErrWrongAgent = errors.New("call log belongs to another agent")
	// ErrSignInCancelled means the browser sign-in was abandoned, refused
	// or timed out.
	ErrSignInCancelled = errors.New("crm sign-in did not complete")
)

// Kind classifies a CRM failure by what the outbox worker must do about
// it. The numbers are persisted in logs and status; never renumber.
type Kind uint8

// Kind values.
const (
	KindUnknown Kind = 0
	// KindTransient: retry with exponential back-off and jitter (5xx,
	// UNABLE_TO_LOCK_ROW, a read that failed on the network).
	KindTransient Kind = 1
	// KindRateLimited: pause the CRM until RetryAfter (or a long default).
	KindRateLimited Kind = 2
	// KindAuthExpired: the access token expired; refresh once and replay.
	KindAuthExpired Kind = 3
	// KindAuthRevoked: the refresh token is gone; the agent must sign in.
	KindAuthRevoked Kind = 4
	// KindAlreadyExists: the CRM already has the record; success.
	KindAlreadyExists Kind = 5
	// KindPermanent: the CRM refused the data (validation, permission,
	// configuration); dead-letter with the CRM's message.
	KindPermanent Kind = 6
	// KindAmbiguous: the request may have been applied (connection lost
	// after sending, timeout, unreadable answer); replay only through the
	// idempotent path (read first, upsert).
	KindAmbiguous Kind = 7
	// KindOffline: the request never left (no route, connection refused,
	// DNS): pause until the CRM answers again.
	KindOffline Kind = 8
	// KindStaleReference: a referenced record (WhoId/WhatId) was deleted
	// or merged; log unassociated.
	KindStaleReference Kind = 9
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindUnknown:
		return "unknown"
	case KindTransient:
		return "transient"
	case KindRateLimited:
		return "rate-limited"
	case KindAuthExpired:
		return "auth-expired"
	case KindAuthRevoked:
		return "auth-revoked"
	case KindAlreadyExists:
		return "already-exists"
	case KindPermanent:
		return "permanent"
	case KindAmbiguous:
		return "ambiguous"
	case KindOffline:
		return "offline"
	case KindStaleReference:
		return "stale-reference"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error is a classified CRM failure. Connectors return it (wrapped or not)
// and never sleep or retry on their own, except the one refresh-and-replay
// after an expired session.
type Error struct {
	CRM        string        // connector name, "salesforce"
	Kind       Kind          // what the outbox does
	Status     int           // HTTP status, 0 when none
	Code       string        // the CRM's code: INVALID_SESSION_ID, invalid_grant ...
	Message    string        // the CRM's message, shown to the agent for dead letters
	Fields     []string      // fields the CRM blamed
	RetryAfter time.Duration // from Retry-After; 0 means use the policy default
	ExistingID string        // the existing record for KindAlreadyExists
	Err        error         // underlying cause (network error ...)
}

// Error formats the failure without any payload.
func (e *Error) Error() string {
	s := e.CRM + ": " + e.Kind.String()
	if e.Status != 0 {
		s += fmt.Sprintf(" (http %d)", e.Status)
	}
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// KindOf classifies any error: a *Error gives its Kind, ErrSignInRequired
// is KindAuthRevoked, a cancelled context KindTransient, anything else
// KindTransient. nil is KindUnknown.
func KindOf(err error) Kind {
	if err == nil {
		return KindUnknown
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, ErrSignInRequired) {
		return KindAuthRevoked
	}
	if errors.Is(err, ErrWrongAgent) || errors.Is(err, ErrUnsupported) {
		return KindPermanent
	}
	if errors.Is(err, context.Canceled) {
		return KindTransient
	}
	return KindTransient
}

// RetryAfterOf returns the RetryAfter of a *Error in err, or zero.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// MessageOf returns the CRM's own message when err carries one, else the
// error text: the text shown to the agent next to a dead letter.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		if e.Code != "" {
			return e.Code + ": " + e.Message
		}
		return e.Message
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
