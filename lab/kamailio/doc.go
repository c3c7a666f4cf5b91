// Package kamailio is test support: it starts a real kamailio registrar and
// proxy on a free loopback port, with the project's own configuration
// (kamailio.cfg.tmpl, digest authentication against a fixed set of test
// users) rendered into the test's temporary directory, and stops it when
// the test ends.
//
// When kamailio is not installed the test is skipped with a message saying
// what to install, except when CI=true: then it fails, so CI cannot
// silently lose the coverage.
//
// It imports only the standard library and testing, and must never be
// imported by non-test code.
//
// # Concurrency contract
//
// Start is called from the test goroutine; the methods of a Server are safe
// for concurrent use. The process group is stopped in t.Cleanup.
package kamailio
