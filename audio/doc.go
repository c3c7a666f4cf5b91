// Package audio is the media adapter: the only package that uses PortAudio
// (cgo), and the home of the cgo binding to Debian's libspeexdsp.
// It implements domain.Media (ringer, ringback, routing calls' PCM to the
// headset with conference mix-minus, mute, recording, announcements) in
// Engine, over a Driver (PortAudio in the app, audiotest.Driver in tests)
// and the calls' PCM from a domain.AudioSource (package sip).
//
// # Signal path
//
//	microphone callback -> Ring -> resample to 16 kHz -> echo canceller, noise
//	suppression, AGC (speexdsp; at 8 kHz between 2:1 filters when every
//	call in the headset is narrowband, G.711) -> mute -> mix-minus -> per
//	call: resample to the call's rate -> short queue -> writer goroutine ->
//	CallAudio.Tx
//	CallAudio.Rx -> reader goroutine -> JitterBuffer (20-200 ms, concealment) ->
//	resample to 16 kHz (drift-following) -> mix (+ tones, announcements) ->
//	resample to the device rate -> Ring -> speaker callback
//
// Everything between the devices and the calls runs at 16 kHz in 20 ms
// frames, clocked by the microphone (or by the wall clock when no
// microphone can be opened). The device streams are mono, 48 kHz (44.1 kHz
// if refused), two streams (a full-duplex PortAudio stream spins a core
// through ALSA's pulse plugin), each with 20 ms buffers, one mix frame per
// callback: through ALSA and the pulse plugin a stream's CPU follows its
// callback rate (a 10 ms speaker buffer cost about 1 % of a core more;
// paFramesPerBufferUnspecified and a 16 kHz device rate do not help, see
// BenchmarkRealStreams). Resamplers between rates of a small integer
// ratio (48/16, 16/8 kHz, 44.1/16 kHz) run an exact polyphase filter while
// no drift is corrected. Recordings are 16 kHz stereo WAV files, agent left
// and far ends right.
//
// The jitter buffer orders frames by RTP timestamp when CallAudio.Rx
// implements FrameReader (else by arrival order), waits for a missing frame
// while it holds less than its target delay, conceals lost ones, and keeps
// the delay at the target under clock drift (the target follows the
// arrival jitter around the drift's trend).
//
// # Devices
//
// Devices are chosen by DeviceID (host API + name), the zero DeviceID
// meaning the system default. A chosen device that cannot be opened falls
// back to the default with a DeviceFallback event; a stream whose callbacks
// stop (device unplugged, sound server gone) is reported with DeviceLost and
// reopened. PortAudio only sees new devices after a re-initialisation,
// which needs every stream closed, so the engine rescans when its streams
// close (at most every 30 s: a scan costs about half a second of CPU through
// ALSA and the pulse plugin), after a device failed, and on Refresh (at
// once if idle, else when the streams close). Headset streams
// are open only while something needs them (a routed call, a tone, the
// check) and closed two seconds after.
//
// # Wiring (cmd/softphone)
//
//	drv, err := audio.NewPortAudio() // ErrNotImplemented without cgo or with -tags noportaudio
//	media := audio.New(drv, tel, // tel: the sip engine, a domain.AudioSource
//		audio.WithLogger(log),
//		audio.WithSettings(saved),              // the agent's Settings, e.g. from the store as JSON
//		audio.WithRecordingsDir(profileRecDir), // the agent's profile recordings directory
//		audio.WithAnnouncementsDir(annDir),
//		audio.WithEventHandler(onAudioEvent))   // DeviceFallback etc. to the UI (fyne.Do)
//	ag := agent.New(agent.Ports{Telephony: tel, Media: media, ...}) // app wraps tel to call PlayDTMF after each SendDTMF
//	media.Attach(ag) // RecordingStarted/Failed, AnnouncementDone
//	media.SetRecordingsDir(dir) // at each sign-in: the agent's profile directory ("" at sign-out)
//	defer media.Close(); defer drv.Close()
//
// The settings screen uses Devices (after the first DevicesChanged event),
// Refresh, Settings, ApplySettings and Check; the meters use MicMeter
// (any microphone, with or without a call: polling opens it, it closes two
// seconds after the last poll) or, during a call, LevelsChanged events or
// Levels; the "test" buttons use TestDevice (the ringtone or the test tone
// on any output device, before it is saved) with TestLevel as its meter.
// PlayTone(ToneBusy) is for the app to call when a dial ends busy (the
// core has no effect for it).
//
// # Concurrency contract
//
// The domain.Media methods, ApplySettings, Refresh, PlayTone, PlayDTMF and
// SetMute may be called from any goroutine and never block: they queue work
// for the engine's loop goroutine, which owns every stream, call leg,
// recording and tone. Devices, Levels and Settings may be called from any
// goroutine and return at once, and so do MicMeter and TestLevel; Stats waits for the
// loop (diagnostics and tests only). Check blocks for its duration and
// TestDevice while its device opens: neither may run on the agent's or the
// UI's goroutine. The device callbacks touch only Ring buffers and
// atomics: they never allocate, lock, log or block. PortAudio is
// initialised and its devices enumerated through the project's chosen
// binding, github.com/gordonklaus/portaudio; the real-time stream path
// alone goes through our thin cgo shim (portaudio.go, pa_shim.c) over the
// same libportaudio, because that binding calls the stream callback through
// reflection (allocating on every buffer) and fails Go's checkptr under
// -race.
// CallAudio readers and writers are only called from per-call goroutines,
// never from a callback; the queue in front of a call's writer holds at most
// 80 ms and drops the oldest frame rather than accumulating delay. Events
// (see Event) and the agent's inputs are delivered in order from one engine
// goroutine through an unbounded queue.
//
// It must not import agent (only agent/domain), ui, sip, store or crm.
package audio
