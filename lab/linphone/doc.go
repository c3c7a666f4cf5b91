// Package linphone is test support: it starts linphonec (liblinphone's
// console phone, Debian package linphone-cli) as a second kind of remote
// phone next to lab/baresip, on free ports on 127.0.0.1, with a private
// HOME (its SQLite database) and a rendered linphonerc.
//
// linphonec reads commands from stdin and busy-loops at EOF, so the phone
// keeps a pipe to its stdin open for its whole life; Command writes one
// line ("call sip:...", "answer", "terminate"). Its console output is kept
// and WaitOutput waits for a line such as "connected".
//
// Sound goes through ALSA's "default" device. Give the phone a lab/pulse
// Server's Env so that is a private pulseaudio: its microphone is then the
// daemon's 700 Hz "mic" sink monitor, so tests can detect linphone's audio.
//
// When linphonec is missing the tests are skipped with a message saying
// what to install, except when CI=true: then they fail.
//
// It imports only the standard library and testing, and must never be
// imported by non-test code.
//
// # Concurrency contract
//
// Start is called from the test goroutine; Command, WaitOutput and Log may
// be called from any goroutine. The process is stopped in t.Cleanup.
package linphone
