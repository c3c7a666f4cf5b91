package ui

import "errors"

// Errors of the desk.
var (
	// errNotWebURL refuses to open a CRM record link that is not http(s).
	errNotWebURL = errors.New("the record link is not a web address")
	// ErrNotAvailable is returned by fakes and adapters for a capability
	// this installation does not have.
	ErrNotAvailable = errors.New("not available")
)
