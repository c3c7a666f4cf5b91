// Package pulse is test support: it starts a private PulseAudio daemon with
// null sinks (no sound hardware) in a temporary directory with its own
// socket, so the real PortAudio path (PortAudio -> ALSA -> the pulse plugin
// -> our daemon) can be tested headless. It never touches the user's
// default daemon: the client configuration it hands out disables autospawn
// and names our socket.
//
// The daemon has these devices:
//
//   - sink "headset" (the default sink) and its monitor, where tests read
//     what our speaker stream played;
//   - sink "ringer", a second output for the ringer;
//   - sink "mic", fed by a 700 Hz sine; its monitor "mic.monitor" is the
//     default source, so the default microphone carries a known tone.
//
// The ALSA configuration written by Start (an asoundrc under a fixed
// per-user directory, read through XDG_CONFIG_HOME) makes "default" the pulse
// plugin and adds the PCMs "lab_headset", "lab_ringer" and "lab_mic" bound to
// those pulse devices, so PortAudio lists them as separate devices. The file
// has the same content for every daemon (the daemon is found through
// PULSE_SERVER), because alsa-lib reads its configuration once per process.
//
// When pulseaudio is missing the tests are skipped with a message saying
// what to install, except when CI=true: then they fail.
//
// It imports only the standard library and testing, and must never be
// imported by non-test code.
//
// # Concurrency contract
//
// Start, Setenv, Kill and Restart are called from the test goroutine; Record
// may be called from any goroutine. Every process is stopped in t.Cleanup.
// Setenv changes the test process environment, so tests using it must not
// run in parallel.
package pulse
