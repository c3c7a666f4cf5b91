package sip

import "errors"

// Sentinel errors of the adapter.
var (
	// ErrInvalidAccount is returned by New for an account that cannot work
	// (missing user or domain, bad address, unknown codec).
	ErrInvalidAccount = errors.New("invalid sip account")
	// ErrUnsupported is returned by New for settings this build does not
	// implement (an unknown codec name, DTLS-SRTP).
	ErrUnsupported = errors.New("not supported yet")
	// ErrNotStarted is returned by port methods before Start or after Close.
	ErrNotStarted = errors.New("sip engine not started")
	// ErrUnknownCall is returned for a call ID the engine does not know.
	ErrUnknownCall = errors.New("unknown call")
	// ErrCallState is returned when an operation does not fit the call's
	// state (answering an outbound call, holding a ringing one).
	ErrCallState = errors.New("operation not possible in this call state")
	// ErrBusy is returned when a call's command queue is full.
	ErrBusy = errors.New("call busy with earlier commands")
	// ErrNoMedia is returned by CallAudio before the call has media.
	ErrNoMedia = errors.New("call has no media yet")
	// ErrBadTarget is returned for a dial or transfer target that cannot
	// become a SIP URI.
	ErrBadTarget = errors.New("invalid target")
	// ErrCodec is returned when a codec cannot encode or decode (a
	// library failure or a malformed frame).
	ErrCodec = errors.New("codec error")
	// ErrNoCommonCodec means an SDP offer has no audio codec the account
	// allows; the INVITE is answered 488 Not Acceptable Here.
	ErrNoCommonCodec = errors.New("no common audio codec")
)
