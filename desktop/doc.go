// Package desktop is the softphone's integration with the desktop session:
//
//   - single instance: the first instance listens on a per-user local
//     socket (Listen); a second launch hands its arguments to it (Send) and
//     exits; a plain second launch (VerbShow) raises the running window
//     (Instance.OnShow), or, with no window (-headless), gets its status.
//     Only an instance provably gone (no socket, or nobody listening on
//     it) is "not running"; one that takes the connection but does not
//     answer is ErrNotAnswering, and no launch starts beside it or takes
//     its socket over.
//     The socket is a Unix domain socket on every OS (Windows 10 1803 and
//     later support AF_UNIX), in a 0700 per-user directory
//     ($XDG_RUNTIME_DIR/softphone on Linux, the user cache directory
//     elsewhere) with mode 0600;
//   - tel:, sip:, sips: and callto: links and the command-line verbs
//     "call NUMBER", "answer", "hangup" and "status" (ParseArgs), carried
//     out against the core by AgentHandler, with an optional confirmation
//     before a link dials;
//   - start at login (Autostart): an XDG autostart .desktop file on Linux,
//     a LaunchAgent plist on macOS, the HKCU Run key on Windows;
//   - resume from sleep and network changes (Watcher), which trigger a
//     re-registration. Linux and macOS: the wall clock jumps ahead of the
//     monotonic clock, which stops while the machine sleeps; Windows: the
//     monotonic clock keeps running through sleep there, so resume is seen
//     as a ticker that fired far too late; every OS: network changes are
//     seen by polling net.Interfaces and their addresses.
//
// OS notifications and raising the window belong to the UI (Fyne).
//
// It imports agent and agent/domain only; never ui, sip, audio, crm, store
// or secrets.
//
// # Concurrency contract
//
// Listen serves each connection on its own goroutine and calls the
// Handler from there; the Handler must be safe for concurrent use
// (AgentHandler is: it only enqueues commands and reads snapshots).
// Watcher runs one goroutine and calls its callbacks from it. Autostart
// methods do file or registry I/O and are called off the UI goroutine.
package desktop
