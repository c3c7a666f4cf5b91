package domain

import (
	"fmt"
	"strings"
	"time"
)

// Effect is work Step asks the actor to do through a port. The actor runs
// effects in order, right after the step that produced them.
type Effect interface{ isEffect() }

// Timer names one of the core's timers.
type Timer struct {
	Kind TimerKind
	Key  string
}

func (t Timer) String() string { return t.Kind.String() + ":" + t.Key }

// ---- Telephony ----

// Register starts (and keeps alive) the SIP registration.
type Register struct{}

// Unregister ends the registration.
type Unregister struct{}

// DialCall places an outbound call.
type DialCall struct {
	ID     CallID
	Target string
}

// AnswerCall answers an offered call.
type AnswerCall struct{ ID CallID }

// RejectCall refuses an offered call with a SIP status code.
type RejectCall struct {
	ID   CallID
	Code int
}

// RedirectCall answers an offered call with 302 to Target.
type RedirectCall struct {
	ID     CallID
	Target string
}

// HangupCall ends (or cancels) a call.
type HangupCall struct{ ID CallID }

// HoldCall holds or resumes a call by re-INVITE.
type HoldCall struct {
	ID CallID
	On bool
}

// SendDigits sends DTMF digits.
type SendDigits struct {
	ID     CallID
	Digits string
}

// TransferCall transfers ID to Target (REFER).
type TransferCall struct {
	ID     CallID
	Target string
}

// TransferToCall transfers ID to the party of call To (REFER with Replaces).
type TransferToCall struct {
	ID CallID
	To CallID
}

// ---- Media ----

// SetRinger sets the ringer (derived).
type SetRinger struct{ Mode RingerMode }

// SetRingback plays the local ringback tone for call ID, or stops it when ID
// is empty (derived).
type SetRingback struct{ ID CallID }

// SetAudioRoute connects exactly these calls' audio to the agent's headset,
// mixing them (conference, mix-minus) when there are several (derived).
type SetAudioRoute struct{ Calls []CallID }

// SetMute mutes the microphone (derived).
type SetMute struct{ On bool }

// RecordCalls starts, pauses, resumes or stops recording interaction Key,
// whose live legs are Calls.
type RecordCalls struct {
	Key    string
	Calls  []CallID
	Action RecordAction
}

// PlayAnnouncementEffect plays an announcement into a call.
type PlayAnnouncementEffect struct {
	ID   CallID
	Name string
}

// ---- CRM and store ----

// LookupCaller asks the CRM (and the local cache) who Number is.
type LookupCaller struct {
	Key    string
	Number string
}

// ScreenPop opens a matched record.
type ScreenPop struct {
	Key    string
	Record CRMRecord
}

// ScreenPopNew opens the CRM's new-contact page for Number.
type ScreenPopNew struct {
	Key    string
	Number string
}

// SaveCallLog stores a finished interaction's log durably and queues it for
// the CRM; the port answers with CallLogSaved or CallLogFailed.
type SaveCallLog struct{ Log CallLog }

// ---- Timers and UI ----

// StartTimer (re)starts a timer that fires TimerFired at At (derived).
type StartTimer struct {
	Timer Timer
	At    time.Time
}

// CancelTimer stops a timer (derived).
type CancelTimer struct{ Timer Timer }

// Notice is a short message for the agent (a toast).
type Notice struct {
	Kind    NoticeKind
	Message string
	CallID  CallID
	Key     string
	Cause   EndCause
}

func (Register) isEffect()               {}
func (Unregister) isEffect()             {}
func (DialCall) isEffect()               {}
func (AnswerCall) isEffect()             {}
func (RejectCall) isEffect()             {}
func (RedirectCall) isEffect()           {}
func (HangupCall) isEffect()             {}
func (HoldCall) isEffect()               {}
func (SendDigits) isEffect()             {}
func (TransferCall) isEffect()           {}
func (TransferToCall) isEffect()         {}
func (SetRinger) isEffect()              {}
func (SetRingback) isEffect()            {}
func (SetAudioRoute) isEffect()          {}
func (SetMute) isEffect()                {}
func (RecordCalls) isEffect()            {}
func (PlayAnnouncementEffect) isEffect() {}
func (LookupCaller) isEffect()           {}
func (ScreenPop) isEffect()              {}
func (ScreenPopNew) isEffect()           {}
func (SaveCallLog) isEffect()            {}
func (StartTimer) isEffect()             {}
func (CancelTimer) isEffect()            {}
func (Notice) isEffect()                 {}

// Describe renders an effect as a short line ("Answer c1"), used by the
// recording fakes and by debug logs. It never includes notes or numbers
// beyond what identifies the effect.
func Describe(e Effect) string {
	switch e := e.(type) {
	case Register:
		return "Register"
	case Unregister:
		return "Unregister"
	case DialCall:
		return fmt.Sprintf("Dial %s %s", e.ID, e.Target)
	case AnswerCall:
		return fmt.Sprintf("Answer %s", e.ID)
	case RejectCall:
		return fmt.Sprintf("Reject %s %d", e.ID, e.Code)
	case RedirectCall:
		return fmt.Sprintf("Redirect %s %s", e.ID, e.Target)
	case HangupCall:
		return fmt.Sprintf("Hangup %s", e.ID)
	case HoldCall:
		if e.On {
			return fmt.Sprintf("Hold %s", e.ID)
		}
		return fmt.Sprintf("Unhold %s", e.ID)
	case SendDigits:
		return fmt.Sprintf("DTMF %s %s", e.ID, e.Digits)
	case TransferCall:
		return fmt.Sprintf("Transfer %s %s", e.ID, e.Target)
	case TransferToCall:
		return fmt.Sprintf("TransferTo %s %s", e.ID, e.To)
	case SetRinger:
		return fmt.Sprintf("Ringer %s", e.Mode)
	case SetRingback:
		if e.ID == "" {
			return "Ringback off"
		}
		return fmt.Sprintf("Ringback %s", e.ID)
	case SetAudioRoute:
		ids := make([]string, len(e.Calls))
		for i, id := range e.Calls {
			ids[i] = string(id)
		}
		return "Route [" + strings.Join(ids, " ") + "]"
	case SetMute:
		return fmt.Sprintf("Mute %t", e.On)
	case RecordCalls:
		return fmt.Sprintf("Record %s %s", e.Key, e.Action)
	case PlayAnnouncementEffect:
		return fmt.Sprintf("Announce %s %s", e.ID, e.Name)
	case LookupCaller:
		return fmt.Sprintf("Lookup %s", e.Key)
	case ScreenPop:
		return fmt.Sprintf("Pop %s %s", e.Key, e.Record.ID)
	case ScreenPopNew:
		return fmt.Sprintf("PopNew %s", e.Key)
	case SaveCallLog:
		return fmt.Sprintf("SaveLog %s", e.Log.Key)
	case StartTimer:
		return fmt.Sprintf("StartTimer %s", e.Timer)
	case CancelTimer:
		return fmt.Sprintf("CancelTimer %s", e.Timer)
	case Notice:
		return fmt.Sprintf("Notice %s %s", e.Kind, e.Message)
	}
	return fmt.Sprintf("%T", e)
}
