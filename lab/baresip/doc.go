// Package baresip is test support: it starts a real baresip 1.0 phone on
// free loopback ports, with its configuration rendered into the test's
// temporary directory. The phone answers automatically (or not), plays a
// sine tone from a WAV file made with sox as its microphone, discards what
// it would play (ALSA null device) and records both directions of every
// call to WAV files (sndfile module). Tests drive it over its ctrl_tcp
// socket (Command) and wait for its events (WaitEvent).
//
// It also holds the audio checks the SIP tests share: Goertzel tone
// detection (ToneShare) and a WAV reader.
//
// When baresip or sox is missing the test is skipped with a message saying
// what to install, except when CI=true: then it fails.
//
// It imports only the standard library and testing, and must never be
// imported by non-test code.
//
// # Concurrency contract
//
// Start is called from the test goroutine; the methods of a Phone are safe
// for concurrent use. The process is stopped in t.Cleanup.
package baresip
