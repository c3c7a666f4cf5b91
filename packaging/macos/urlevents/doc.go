// Package urlevents receives the tel:, sip:, sips: and callto: links macOS
// delivers to a running app as Apple Events (kInternetEventClass /
// kAEGetURL): LaunchServices never starts a second process with the link
// as an argument, and Fyne 2.7 and GLFW 3.3 install no handler for the
// event (fyne-io/fyne#5812). On other systems links arrive as command-line
// arguments (package desktop) and Start returns errors.ErrUnsupported.
//
// The darwin implementation is Objective-C through cgo; it cannot be
// compiled on the Linux build hosts (no Apple SDK) and is verified only on
// a Mac (packaging/README.md lists the checks: cold start and warm start).
//
// It imports only the standard library; never agent, ui or desktop.
//
// # Concurrency contract
//
// Start is called once, on the main goroutine, before the Fyne app runs
// (so the handler is in place when a cold start delivers its link). The
// handler runs on the main thread and never blocks: links are queued
// without loss and handed, in order, to the callback on one goroutine of
// this package, which may block (it should hand the link to the core, as
// desktop.AgentHandler does).
package urlevents
