// Package keyring is test support: it starts a private Secret Service (a
// D-Bus session bus from dbus-daemon plus gnome-keyring-daemon, unlocked
// with a test password) in a temporary HOME, so tests of package secrets run
// against a real keyring without touching the developer's own.
//
// godbus caches the session bus connection for the whole process, so tests
// that talk to the private keyring run in a child process: the test calls
// Start, then RunInChild, which re-executes the test binary for that one
// test with the private DBUS_SESSION_BUS_ADDRESS; in the child, InChild
// reports true and the test does the real work.
//
// When dbus-daemon or gnome-keyring-daemon is missing the tests are skipped
// with a message saying what to install, except when CI=true: then they
// fail, so CI cannot silently lose the coverage.
//
// It imports only the standard library and testing, and must never be
// imported by non-test code.
//
// # Concurrency contract
//
// Start and RunInChild are called from the test goroutine; every process
// they start is stopped in t.Cleanup.
package keyring
