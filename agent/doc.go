// Package agent is the core of the softphone: one goroutine (the actor) owns
// all agent and call state, feeds every input through domain.Step, carries
// out the returned effects through the ports (telephony, media, call log,
// directory) and publishes what changed to watchers.
//
// # Concurrency contract
//
//   - Commands (Dial, Answer, SetStatus, ...) may be called from any
//     goroutine, including the UI goroutine: they never block. They enqueue the
//     command and return; the outcome arrives as a Notify. When the inbox is
//     full they return ErrBusy, which is a bug to report, not a state to
//     handle.
//   - Adapters deliver events with Post, which blocks only while the inbox is
//     full (backpressure) and fails with ErrStopped after Run returns.
//   - Port methods are called on the actor goroutine and must return quickly.
//   - Watch delivers a full snapshot first and then ordered deltas, each
//     watcher on its own goroutine with its own unbounded queue: a slow
//     watcher delays only itself, and nothing is ever dropped.
//
// The package imports only the standard library and agent/domain; a test
// fails the build if it reaches any adapter library (fyne, diago/sipgo,
// portaudio, go-keyring, bbolt, net/http).
package agent
