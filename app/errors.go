package app

import "errors"

// Sentinel errors.
var (
	// ErrNoAccount is returned by Build when Demo is off and no SIP
	// account is configured.
	ErrNoAccount = errors.New("no phone account is configured")
)
