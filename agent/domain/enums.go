package domain

import "fmt"

// Enum values are persisted (bbolt) and sent to CRMs: numbers are explicit and
// must never be renumbered. The zero value of each is Unknown.

// Presence is the status the agent chose (or the system chose for them, as
// with auto-pause). What the agent is shown is the effective Status, which
// also reflects calls, wrap-up and registration.
type Presence uint8

// Presence values.
const (
	PresenceUnknown    Presence = 0
	PresenceOffline    Presence = 1
	PresenceAvailable  Presence = 2
	PresenceBreak      Presence = 3 // with a reason from Config.BreakReasons
	PresenceDND        Presence = 4 // inbound calls are rejected with 486
	PresenceAutoPaused Presence = 5 // set by the core after missed calls
)

func (p Presence) String() string {
	switch p {
	case PresenceUnknown:
		return "unknown"
	case PresenceOffline:
		return "offline"
	case PresenceAvailable:
		return "available"
	case PresenceBreak:
		return "break"
	case PresenceDND:
		return "dnd"
	case PresenceAutoPaused:
		return "auto-paused"
	}
	return fmt.Sprintf("presence(%d)", uint8(p))
}

// AgentStatus is the effective status shown to the agent and reported to the
// control API.
type AgentStatus uint8

// AgentStatus values.
const (
	StatusUnknown      AgentStatus = 0
	StatusOffline      AgentStatus = 1
	StatusAvailable    AgentStatus = 2
	StatusBreak        AgentStatus = 3
	StatusDND          AgentStatus = 4
	StatusAutoPaused   AgentStatus = 5
	StatusOnCall       AgentStatus = 6
	StatusWrapUp       AgentStatus = 7
	StatusDisconnected AgentStatus = 8 // signed in, registration lost or failed
	StatusConnecting   AgentStatus = 9 // signed in, first registration in progress
)

func (s AgentStatus) String() string {
	switch s {
	case StatusUnknown:
		return "unknown"
	case StatusOffline:
		return "offline"
	case StatusAvailable:
		return "available"
	case StatusBreak:
		return "break"
	case StatusDND:
		return "dnd"
	case StatusAutoPaused:
		return "auto-paused"
	case StatusOnCall:
		return "on-call"
	case StatusWrapUp:
		return "wrap-up"
	case StatusDisconnected:
		return "disconnected"
	case StatusConnecting:
		return "connecting"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// RegState is the SIP registration state as reported by the telephony adapter.
type RegState uint8

// RegState values.
const (
	RegUnknown      RegState = 0
	RegUnregistered RegState = 1
	RegRegistering  RegState = 2
	RegRegistered   RegState = 3
	RegFailed       RegState = 4 // Reason says why; the adapter keeps retrying
)

func (r RegState) String() string {
	switch r {
	case RegUnknown:
		return "unknown"
	case RegUnregistered:
		return "unregistered"
	case RegRegistering:
		return "registering"
	case RegRegistered:
		return "registered"
	case RegFailed:
		return "failed"
	}
	return fmt.Sprintf("reg(%d)", uint8(r))
}

// Direction of a call or interaction.
type Direction uint8

// Direction values.
const (
	DirectionUnknown  Direction = 0
	DirectionInbound  Direction = 1
	DirectionOutbound Direction = 2
)

func (d Direction) String() string {
	switch d {
	case DirectionUnknown:
		return "unknown"
	case DirectionInbound:
		return "inbound"
	case DirectionOutbound:
		return "outbound"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// CallState is the lifecycle of one call leg.
type CallState uint8

// CallState values.
const (
	CallStateUnknown CallState = 0
	CallStateOffered CallState = 1 // inbound, ringing here, not yet answered
	CallStateDialing CallState = 2 // outbound, no provisional response yet
	CallStateRinging CallState = 3 // outbound, the far end is ringing (180/183)
	CallStateActive  CallState = 4 // connected and not held by us
	CallStateHeld    CallState = 5 // connected, held by us
	CallStateEnded   CallState = 6 // only ever seen in a leg record
)

func (c CallState) String() string {
	switch c {
	case CallStateUnknown:
		return "unknown"
	case CallStateOffered:
		return "offered"
	case CallStateDialing:
		return "dialing"
	case CallStateRinging:
		return "ringing"
	case CallStateActive:
		return "active"
	case CallStateHeld:
		return "held"
	case CallStateEnded:
		return "ended"
	}
	return fmt.Sprintf("callstate(%d)", uint8(c))
}

// Connected reports whether the leg has been answered and not ended.
func (c CallState) Connected() bool { return c == CallStateActive || c == CallStateHeld }

// CallRole tells a customer leg from a consult leg.
type CallRole uint8

// CallRole values.
const (
	RoleUnknown CallRole = 0
	RolePrimary CallRole = 1 // the customer call, or a party merged into a conference
	RoleConsult CallRole = 2 // placed by the agent while ConsultFor is held
)

func (r CallRole) String() string {
	switch r {
	case RoleUnknown:
		return "unknown"
	case RolePrimary:
		return "primary"
	case RoleConsult:
		return "consult"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// TransferKind is a transfer in progress on a call.
type TransferKind uint8

// TransferKind values.
const (
	TransferNone      TransferKind = 0
	TransferBlind     TransferKind = 1
	TransferAttended  TransferKind = 2
	TransferLeaveConf TransferKind = 3 // agent leaves a two-party conference, joining the others
)

func (t TransferKind) String() string {
	switch t {
	case TransferNone:
		return "none"
	case TransferBlind:
		return "blind"
	case TransferAttended:
		return "attended"
	case TransferLeaveConf:
		return "leave-conference"
	}
	return fmt.Sprintf("transfer(%d)", uint8(t))
}

// EndCause says why a call leg ended. Message gives the agent-facing text.
type EndCause uint8

// EndCause values.
const (
	CauseUnknown       EndCause = 0
	CauseLocalHangup   EndCause = 1
	CauseRemoteHangup  EndCause = 2
	CauseBusy          EndCause = 3  // 486, 600
	CauseNoAnswer      EndCause = 4  // 408, 480, or our dial timeout
	CauseInvalidNumber EndCause = 5  // 404, 484, 485, or unparseable input
	CauseUnavailable   EndCause = 6  // 503, not registered, no route
	CauseDeclined      EndCause = 7  // 603
	CauseNetwork       EndCause = 8  // transport error, timeout without response
	CauseCancelled     EndCause = 9  // the agent hung up an outbound call before answer
	CauseRejected      EndCause = 10 // the agent rejected an inbound call
	CauseRedirected    EndCause = 11 // the agent redirected a ringing call
	CauseMissed        EndCause = 12 // the caller hung up before the agent answered
	CauseRingTimeout   EndCause = 13 // nobody answered within Config.RingTimeout
	CauseTransferred   EndCause = 14
	CauseLinesBusy     EndCause = 15 // rejected automatically: every line in use
	CauseDND           EndCause = 16 // rejected automatically: do not disturb
	CauseFailed        EndCause = 17 // any other failure; Reason has the detail
)

func (c EndCause) String() string {
	switch c {
	case CauseUnknown:
		return "unknown"
	case CauseLocalHangup:
		return "local-hangup"
	case CauseRemoteHangup:
		return "remote-hangup"
	case CauseBusy:
		return "busy"
	case CauseNoAnswer:
		return "no-answer"
	case CauseInvalidNumber:
		return "invalid-number"
	case CauseUnavailable:
		return "unavailable"
	case CauseDeclined:
		return "declined"
	case CauseNetwork:
		return "network"
	case CauseCancelled:
		return "cancelled"
	case CauseRejected:
		return "rejected"
	case CauseRedirected:
		return "redirected"
	case CauseMissed:
		return "missed"
	case CauseRingTimeout:
		return "ring-timeout"
	case CauseTransferred:
		return "transferred"
	case CauseLinesBusy:
		return "lines-busy"
	case CauseDND:
		return "dnd"
	case CauseFailed:
		return "failed"
	}
	return fmt.Sprintf("cause(%d)", uint8(c))
}

// Message is the short plain-language text the agent sees for a cause.
func (c EndCause) Message() string {
	switch c {
	case CauseLocalHangup:
		return "Call ended"
	case CauseRemoteHangup:
		return "The other party hung up"
	case CauseBusy:
		return "The number is busy"
	case CauseNoAnswer:
		return "No answer"
	case CauseInvalidNumber:
		return "The number does not exist or is incomplete"
	case CauseUnavailable:
		return "The number cannot be reached right now"
	case CauseDeclined:
		return "The call was declined"
	case CauseNetwork:
		return "Network problem: the phone system did not answer"
	case CauseCancelled:
		return "Call cancelled"
	case CauseRejected:
		return "Call rejected"
	case CauseRedirected:
		return "Call redirected"
	case CauseMissed:
		return "Missed call: the caller hung up"
	case CauseRingTimeout:
		return "Missed call: not answered in time"
	case CauseTransferred:
		return "Call transferred"
	case CauseLinesBusy:
		return "Call rejected: all lines in use"
	case CauseDND:
		return "Call rejected: do not disturb"
	case CauseFailed, CauseUnknown:
		return "The call failed"
	}
	return "The call failed"
}

// Failure reports whether the cause is a failed outbound attempt (the
// causes the telephony adapter maps SIP failure codes to).
func (c EndCause) Failure() bool {
	switch c {
	case CauseBusy, CauseNoAnswer, CauseInvalidNumber, CauseUnavailable,
		CauseDeclined, CauseNetwork, CauseFailed:
		return true
	case CauseUnknown, CauseLocalHangup, CauseRemoteHangup, CauseCancelled,
		CauseRejected, CauseRedirected, CauseMissed, CauseRingTimeout,
		CauseTransferred, CauseLinesBusy, CauseDND:
		return false
	}
	return false
}

// CauseFromSIP maps a final SIP response code to a cause, as the telephony
// adapter reports failed calls.
func CauseFromSIP(code int) EndCause {
	switch code {
	case 486, 600:
		return CauseBusy
	case 408, 480:
		return CauseNoAnswer
	case 404, 484, 485, 604:
		return CauseInvalidNumber
	case 502, 503, 504:
		return CauseUnavailable
	case 603:
		return CauseDeclined
	case 487:
		return CauseCancelled
	}
	switch {
	case code >= 300 && code < 700:
		return CauseFailed
	default:
		return CauseUnknown
	}
}

// RecordingState is the recording indicator of an interaction.
type RecordingState uint8

// RecordingState values.
const (
	RecordingUnknown    RecordingState = 0
	RecordingOff        RecordingState = 1
	RecordingOn         RecordingState = 2
	RecordingPaused     RecordingState = 3
	RecordingNotAllowed RecordingState = 4
)

func (r RecordingState) String() string {
	switch r {
	case RecordingUnknown:
		return "unknown"
	case RecordingOff:
		return "off"
	case RecordingOn:
		return "recording"
	case RecordingPaused:
		return "paused"
	case RecordingNotAllowed:
		return "not-allowed"
	}
	return fmt.Sprintf("recording(%d)", uint8(r))
}

// RecordingPolicy is configured per agent (usually by provisioning).
type RecordingPolicy uint8

// RecordingPolicy values.
const (
	RecordPolicyUnknown    RecordingPolicy = 0
	RecordPolicyNotAllowed RecordingPolicy = 1
	RecordPolicyManual     RecordingPolicy = 2 // the agent starts it
	RecordPolicyAuto       RecordingPolicy = 3 // starts on answer; the agent may pause
)

func (r RecordingPolicy) String() string {
	switch r {
	case RecordPolicyUnknown:
		return "unknown"
	case RecordPolicyNotAllowed:
		return "not-allowed"
	case RecordPolicyManual:
		return "manual"
	case RecordPolicyAuto:
		return "auto"
	}
	return fmt.Sprintf("recordpolicy(%d)", uint8(r))
}

// RecordAction is what the media adapter is told to do with a recording.
type RecordAction uint8

// RecordAction values.
const (
	RecordUnknown RecordAction = 0
	RecordStart   RecordAction = 1
	RecordPause   RecordAction = 2
	RecordResume  RecordAction = 3
	RecordStop    RecordAction = 4
)

func (r RecordAction) String() string {
	switch r {
	case RecordUnknown:
		return "unknown"
	case RecordStart:
		return "start"
	case RecordPause:
		return "pause"
	case RecordResume:
		return "resume"
	case RecordStop:
		return "stop"
	}
	return fmt.Sprintf("recordaction(%d)", uint8(r))
}

// ScreenPopPolicy says when the matched CRM record is opened.
type ScreenPopPolicy uint8

// ScreenPopPolicy values.
const (
	ScreenPopUnknown   ScreenPopPolicy = 0
	ScreenPopAtRinging ScreenPopPolicy = 1
	ScreenPopAtAnswer  ScreenPopPolicy = 2
	ScreenPopNever     ScreenPopPolicy = 3
)

func (p ScreenPopPolicy) String() string {
	switch p {
	case ScreenPopUnknown:
		return "unknown"
	case ScreenPopAtRinging:
		return "ringing"
	case ScreenPopAtAnswer:
		return "answer"
	case ScreenPopNever:
		return "never"
	}
	return fmt.Sprintf("screenpop(%d)", uint8(p))
}

// MatchState is the progress of the CRM caller lookup for an interaction.
type MatchState uint8

// MatchState values.
const (
	MatchUnknown  MatchState = 0
	MatchPending  MatchState = 1
	MatchNone     MatchState = 2 // no record: the agent is offered "new contact"
	MatchOne      MatchState = 3
	MatchMultiple MatchState = 4 // the agent chooses; Interaction.RecordID once chosen
	MatchFailed   MatchState = 5 // lookup failed (CRM down); caller ID from cache only
)

func (m MatchState) String() string {
	switch m {
	case MatchUnknown:
		return "unknown"
	case MatchPending:
		return "pending"
	case MatchNone:
		return "none"
	case MatchOne:
		return "one"
	case MatchMultiple:
		return "multiple"
	case MatchFailed:
		return "failed"
	}
	return fmt.Sprintf("match(%d)", uint8(m))
}

// Phase of an interaction.
type Phase uint8

// Phase values.
const (
	PhaseUnknown Phase = 0
	PhaseLive    Phase = 1 // at least one leg is live
	PhaseWrapUp  Phase = 2 // every leg ended; after-call work in progress
)

func (p Phase) String() string {
	switch p {
	case PhaseUnknown:
		return "unknown"
	case PhaseLive:
		return "live"
	case PhaseWrapUp:
		return "wrap-up"
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// RingerMode is the derived state of the ringer.
type RingerMode uint8

// RingerMode values.
const (
	RingerOff     RingerMode = 0
	RingerRing    RingerMode = 1 // full ring on the ringer device
	RingerWaiting RingerMode = 2 // call-waiting beep in the headset
)

func (r RingerMode) String() string {
	switch r {
	case RingerOff:
		return "off"
	case RingerRing:
		return "ring"
	case RingerWaiting:
		return "waiting"
	}
	return fmt.Sprintf("ringer(%d)", uint8(r))
}

// NoticeKind classifies notices (short toasts) for the UI.
type NoticeKind uint8

// NoticeKind values.
const (
	NoticeInfo    NoticeKind = 0
	NoticeWarning NoticeKind = 1
	NoticeError   NoticeKind = 2
)

func (n NoticeKind) String() string {
	switch n {
	case NoticeInfo:
		return "info"
	case NoticeWarning:
		return "warning"
	case NoticeError:
		return "error"
	}
	return fmt.Sprintf("notice(%d)", uint8(n))
}

// TimerKind names the core's timers.
type TimerKind uint8

// TimerKind values.
const (
	TimerUnknown  TimerKind = 0
	TimerRing     TimerKind = 1 // an offered call not answered in time; Key is the call ID
	TimerWrapUp   TimerKind = 2 // after-call work expires; Key is the interaction key
	TimerLogRetry TimerKind = 3 // retry saving a call log; Key is the interaction key
)

func (t TimerKind) String() string {
	switch t {
	case TimerUnknown:
		return "unknown"
	case TimerRing:
		return "ring"
	case TimerWrapUp:
		return "wrap-up"
	case TimerLogRetry:
		return "log-retry"
	}
	return fmt.Sprintf("timer(%d)", uint8(t))
}
