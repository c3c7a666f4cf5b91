package demopbx

import "errors"

// Sentinel errors of the demo PBX.
var (
	// ErrNotRegistered is returned by CallAgent while no agent is
	// registered.
	ErrNotRegistered = errors.New("no agent registered with the demo pbx")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("demo pbx closed")
	// ErrUnknownCall is returned for a call the PBX does not know.
	ErrUnknownCall = errors.New("unknown demo call")
	// ErrUnknownContact is returned by CallAgent for a number that is not
	// a sample contact.
	ErrUnknownContact = errors.New("not a sample contact")
)
