// Package app is the composition root: Build constructs every adapter
// (store, sip engine or the demo PBX, the CRM, the control API, the
// desktop single-instance socket), the agent actor over them, and wires each
// adapter's events back to the actor. cmd/softphone calls Build and then
// runs the UI (or, headless, nothing more) over the returned App.
//
// It is the one package besides cmd that knows every concrete type; no
// package imports it except cmd and its own tests. It holds no state of
// its own beyond the handles it built and closes them in reverse order.
//
// The CRM: with no external CRM configured (Config.Salesforce and
// Config.Webhook nil), the agent's Directory port is the local CRM
// (crm/local over the signed-in agent's store profile, seeded with
// demopbx.Contacts() in demo mode), giving caller ID and in-app screen
// pops through Config.OnScreenPop (never a browser); call logs stay in the
// store's history (the call logger has no CRM target). With one external
// CRM configured (App.Connector: Salesforce, or the generic webhook whose
// signing secret and bearer token come from the OS keyring), the
// Directory port is crm.Directory over the agent's session of that
// connector (caller lookup at the CRM, falling back to the store's contact
// cache), resumed at the agent's sign-in (Salesforce from the keyring, or
// App.SignInCRM for its browser sign-in; the webhook has no interactive
// sign-in and always resumes); the call logger queues one outbox entry
// per log for the connector's name, and the crm/outbox worker runs for
// the app's lifetime: woken when a log is durable (CallLogSaved), flushed
// at the agent's sign-out before a shared PC signs out of the CRM.
//
// Not wired yet (TODO for the lead): the audio engine (package audio);
// App.Agent runs with the Media port nil, which the core reports in plain
// words (no audio) instead of pretending.
//
// # Concurrency contract
//
// Build and Close are called once each from cmd's main goroutine. The
// fields of App are set by Build and never change; the objects they
// point to are safe for concurrent use as their own packages document.
package app
