// Package sipp is test support: it runs a real sipp (Debian package
// sip-tester) with a scenario written by the test into its temporary
// directory, on a free loopback port, for what real phones will not do on
// demand (answer busy, never answer, 404, 503, race a CANCEL with a 200,
// hold from the far end, send REFER or malformed messages).
//
// When sipp is missing the test is skipped with a message saying what to
// install, except when CI=true: then it fails.
//
// It imports only the standard library and testing, and must never be
// imported by non-test code.
//
// # Concurrency contract
//
// Start is called from the test goroutine; Wait and Log are safe for
// concurrent use. The process is stopped in t.Cleanup.
package sipp
