package domain

import "io"

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

// CallAudio is one connected call's decoded audio, in standard-library types
// only, so package audio never imports diago and the core never touches a
// sample. Both streams are 16-bit signed little-endian mono PCM at
// SampleRate, in frames of FrameSize samples (20 ms).
type CallAudio struct {
	SampleRate int       // 8000 (G.711), 16000 (G.722) or 48000 (Opus)
	FrameSize  int       // samples per frame (SampleRate / 50)
	Rx         io.Reader // far-end audio, decoded, paced by the network
	Tx         io.Writer // near-end audio to encode and send: at once, held to real time only when written ahead of it
}

// CallStats are a call's RTP statistics for the quality indicator.
type CallStats struct {
	Codec           string
	PacketsSent     uint64
	PacketsReceived uint64
	PacketsLost     int64   // from sequence numbers (and RTCP receiver reports)
	Jitter          float64 // milliseconds, RFC 3550 interarrival jitter
	RTT             float64 // milliseconds, from RTCP; 0 when unknown
}

// AudioSource is implemented by package sip and consumed by package audio:
// the PCM streams and statistics of a connected call. CallAudio fails when
// the call is unknown or has no media yet.
type AudioSource interface {
	CallAudio(id CallID) (CallAudio, error)
	CallStats(id CallID) (CallStats, error)
}
