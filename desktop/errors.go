package desktop

import "errors"

// Sentinel errors.
var (
	// ErrAlreadyRunning is returned by Listen when another instance is
	// serving the socket.
	ErrAlreadyRunning = errors.New("softphone is already running")
	// ErrNotRunning is returned by Send when no instance is running.
	ErrNotRunning = errors.New("softphone is not running")
	// ErrNotAnswering is returned by Send and Listen when an instance
	// seems to run (its socket takes connections, or does not refuse
	// them) but does not answer in time: it is not provably gone, so a
	// launch must neither start a second app nor take its socket over.
	ErrNotAnswering = errors.New("another softphone seems to be running but is not answering")
	// ErrUsage is returned by ParseArgs for a malformed command line.
	ErrUsage = errors.New("usage: softphone [call NUMBER | answer | hangup | status | tel:/sip:/sips:/callto: link]")
	// ErrNotImplemented is returned where an OS has no implementation.
	ErrNotImplemented = errors.New("not implemented on this operating system")
)
