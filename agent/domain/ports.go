package domain

// Ports are implemented by the adapters and driven by the actor. Every
// method must return quickly (enqueue the work, or start a goroutine) because
// it runs on the actor's goroutine; progress and results come back later as
// Inputs posted to the EventSink the adapter was given. A synchronous error
// means the request was refused outright; the actor turns it into an
// EffectFailed input.

// EventSink is what adapters post events to (the actor's inbox).
type EventSink interface {
	// Post delivers an event. It blocks only while the inbox is full
	// (backpressure) and returns an error once the agent has stopped.
	Post(in Input) error
}

// Telephony is implemented by package sip.
type Telephony interface {
	Register() error
	Unregister() error
	Dial(id CallID, target string) error
	Answer(id CallID) error
	Reject(id CallID, code int) error
	Redirect(id CallID, target string) error
	Hangup(id CallID) error
	Hold(id CallID, on bool) error
	SendDTMF(id CallID, digits string) error
	TransferBlind(id CallID, target string) error
	TransferAttended(id CallID, to CallID) error
}

// Media is implemented by package audio (joined to sip's per-call PCM).
type Media interface {
	SetRinger(mode RingerMode)
	SetRingback(id CallID)
	SetAudioRoute(calls []CallID)
	SetMute(on bool)
	Record(key string, calls []CallID, action RecordAction) error
	PlayAnnouncement(id CallID, name string) error
}

// CallLogger is implemented by package store: it commits the log and its
// CRM outbox entries durably, then posts CallLogSaved (or CallLogFailed).
type CallLogger interface {
	SaveCallLog(log CallLog) error
}

// Directory is implemented by package crm: caller lookup (posting
// CallerMatched) and screen pops.
type Directory interface {
	Lookup(key, number string) error
	ScreenPop(key string, rec CRMRecord) error
	ScreenPopNew(key, number string) error
}
