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
// The desk's CRM entry points: SSOName and SignInSSO sign an agent in to
// the desk with their CRM identity (the connector signs a placeholder in,
// the agent ID comes from the CRM user, the tokens move under that agent
// in the keyring), DeviceSignIn and SignInDeviceCode do the same (or the
// signed-in agent's CRM sign-in) through Dynamics 365's device code flow,
// and SearchCRM searches the external CRM by number or by name for the
// desk's finder. PreShiftCheck, MicLevel, EchoTestNumber and EchoCheck
// (the echo test call, dialled by the desk through the core, measured once
// connected: bursts heard back, round trip) serve the desk's pre-shift
// check over the audio engine.
//
// Audio: the agent's Media port is the audio engine (package audio) over
// PortAudio (or Config.AudioDriver) and the SIP engine's calls, with the
// Telephony port wrapped for DTMF feedback. Build opens neither: the
// engine starts at the first thing that needs sound (a ringing or dialled
// call, a tone, App.Audio for the desk's meters and tests, AudioDevices
// for its device lists, the pre-shift check) and PortAudio is initialised
// at the engine's first device scan, on the engine's goroutine. An idle
// desk thus runs no audio goroutine and has not loaded the sound
// system's plugin libraries. With Config.NoAudio there is no engine:
// App.Audio and App.AudioErr return an error wrapping ErrAudioOff and the
// core reports in plain words that calls have no sound. When PortAudio
// cannot be initialised, the device lists return that error (wrapping
// ErrAudioOff; so does AudioErr from then on), the engine reports the
// devices unavailable and calls connect without sound; Build never fails
// for it. At an agent's sign-in the engine takes (or, not started yet,
// will start with) the agent's audio settings from the store profile's
// settings document (the desktop's ui.Settings field names: Microphone,
// Speaker, Ringer as AudioDeviceKey text, EchoCancel, NoiseSuppression,
// AutoGain; SaveAudioSettings merges them in) and records into the
// profile's RecordingsDir; at sign-out it returns to Config.AudioSettings
// and refuses recordings. A dial that ends busy plays the busy tone (the
// core has no effect for it). Device, level and recording events go to
// Config.OnAudioEvent.
//
// # Concurrency contract
//
// Build and Close are called once each from cmd's main goroutine. The
// fields of App are set by Build and never change; the objects they
// point to are safe for concurrent use as their own packages document.
// The audio methods (Audio, AudioDevices, AudioSettings, AudioErr,
// ApplyAudioSettings) are safe from any goroutine; the engine is started
// once, under a lock, by whichever needs it first.
package app
