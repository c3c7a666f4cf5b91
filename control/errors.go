package control

import "errors"

// Sentinel errors.
var (
	// ErrNotLoopback is returned by Listen for a non-loopback address.
	ErrNotLoopback = errors.New("control api must listen on a loopback address")
	// ErrNoToken is returned by New without a token.
	ErrNoToken = errors.New("control api needs a token")
	// ErrBadOrigin is returned by New for a malformed allowed origin.
	ErrBadOrigin = errors.New("invalid allowed origin")
)
