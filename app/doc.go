// Package app is the composition root: Build constructs every adapter
// (store, sip engine or the demo PBX, the control API, the desktop
// single-instance socket), the agent actor over them, and wires each
// adapter's events back to the actor. cmd/softphone calls Build and then
// runs the UI (or, headless, nothing more) over the returned App.
//
// It is the one package besides cmd that knows every concrete type; no
// package imports it except cmd and its own tests. It holds no state of
// its own beyond the handles it built and closes them in reverse order.
//
// Not wired yet (TODO for the lead): the audio engine (package audio) and
// the CRM (crm.Directory over crm/local in demo mode, the crm/outbox
// worker). Their packages are still changing; App.Agent runs with
// Media and Directory ports nil until then, which the core reports in
// plain words (no audio, no CRM lookup) instead of pretending.
//
// # Concurrency contract
//
// Build and Close are called once each from cmd's main goroutine. The
// fields of App are set by Build and never change; the objects they
// point to are safe for concurrent use as their own packages document.
package app
