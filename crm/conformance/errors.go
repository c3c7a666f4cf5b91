package conformance

import "errors"

// Sentinel errors.
var (
	// ErrNotChild means a child-only function (ChildKeyring) was called
	// outside the child process Main starts for KilledMidDrain.
	ErrNotChild = errors.New("conformance: not in a re-executed child process")
)
