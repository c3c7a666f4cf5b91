package domain

// Input is anything that can change the state: a command from the agent (UI,
// control API, tel: link) or an event from an adapter. Only the types in this
// file implement it.
type Input interface{ isInput() }

// ---- Commands (from the agent) ----

// Login signs an agent in with their settings. It is the only way out of
// Offline.
type Login struct {
	Agent  AgentInfo
	Config Config
}

// Logout signs the agent out; with a call or wrap-up in progress it is
// applied when they are over (as the next status).
type Logout struct{}

// SetStatus chooses a presence. During a call or wrap-up it becomes the next
// status. Offline means Logout.
type SetStatus struct{ Status Status }

// Dial places an outbound call. ID is chosen by the caller (NewCallID), so the
// UI can follow the call before the adapter says anything.
type Dial struct {
	ID     CallID
	Target string
}

// Answer answers an offered call, holding the active one (call waiting).
type Answer struct{ ID CallID }

// Reject refuses an offered call: 486 Busy Here, or 603 Decline.
type Reject struct {
	ID      CallID
	Decline bool
}

// Redirect sends an offered call to another number (302).
type Redirect struct {
	ID     CallID
	Target string
}

// Hangup ends a call. An offered call is rejected, a dialing call cancelled,
// a conference member removed from the conference.
type Hangup struct{ ID CallID }

// Hold puts a connected call (or its whole conference) on hold.
type Hold struct{ ID CallID }

// Resume takes a held call (or conference) off hold, holding the active one.
type Resume struct{ ID CallID }

// Mute mutes or unmutes the microphone for the calls in progress.
type Mute struct{ On bool }

// SendDTMF sends digits on an active call.
type SendDTMF struct {
	ID     CallID
	Digits string
}

// BlindTransfer transfers a connected call to a target without consulting.
type BlindTransfer struct {
	ID     CallID
	Target string
}

// ConsultStart holds ID (or its conference) and places a consult call NewID
// to Target within the same interaction. From a conference it adds a party.
type ConsultStart struct {
	ID     CallID
	NewID  CallID
	Target string
}

// ConsultComplete transfers the held party to the consulted one (attended
// transfer). ID is the consult leg.
type ConsultComplete struct{ ID CallID }

// ConsultMerge joins the consult leg ID and the held party (or conference)
// into a conference.
type ConsultMerge struct{ ID CallID }

// ConsultCancel hangs up the consult leg ID and resumes the held party.
type ConsultCancel struct{ ID CallID }

// ConferenceLeave ends the agent's part in the conference of interaction Key
// while the others stay connected (only with exactly two other parties).
type ConferenceLeave struct{ Key string }

// ConferenceTerminate ends the conference of interaction Key for everybody.
type ConferenceTerminate struct{ Key string }

// SetDoNotLog sets the "do not log this call" flag of an interaction.
type SetDoNotLog struct {
	Key string
	On  bool
}

// SetOutcome chooses the outcome (disposition) of an interaction.
type SetOutcome struct {
	Key     string
	Outcome string
}

// Reconfigure changes, during a shift, the parts of the signed-in agent's
// configuration that are safe to change live (the agent's settings
// screen): the outcomes, the quick notes, the screen-pop policy and the
// call subject. Every other field of Config stays as it was at sign-in.
// Calls and interactions in progress keep what they already have (an
// outcome chosen, notes, a screen pop already done); from then on they
// follow the new configuration. Ignored while signed out (Login carries
// the whole configuration).
type Reconfigure struct {
	Outcomes    []string
	QuickNotes  []QuickNote
	ScreenPop   ScreenPopPolicy // ScreenPopUnknown: unchanged
	CallSubject string
}

// SetNotes replaces the notes of an interaction.
type SetNotes struct {
	Key   string
	Notes string
}

// AddQuickNote appends a configured quick note to the notes.
type AddQuickNote struct {
	Key  string
	Name string
}

// ExtendWrapUp adds Config.WrapUpExtend to the wrap-up timer, once.
type ExtendWrapUp struct{ Key string }

// CompleteWrapUp finishes wrap-up and logs the interaction.
type CompleteWrapUp struct{ Key string }

// SetRecording starts, pauses, resumes or stops the recording of an
// interaction.
type SetRecording struct {
	Key    string
	Action RecordAction
}

// AddBookmark marks the current moment of a connected interaction.
type AddBookmark struct {
	Key   string
	Label string
}

// PlayAnnouncement plays a configured announcement into an active call.
type PlayAnnouncement struct {
	ID   CallID
	Name string
}

// ChooseRecord picks which of several matched CRM records the call belongs
// to; it is popped and the log is written against it.
type ChooseRecord struct {
	Key      string
	RecordID string
}

// CreateContact opens the CRM's new-contact page for an interaction with no
// match.
type CreateContact struct{ Key string }

// ---- Events (from adapters) ----

// RegistrationChanged reports the SIP registration state.
type RegistrationChanged struct {
	State  RegState
	Reason string // for RegFailed: wrong credentials, timeout, TLS error, ...
}

// CallStateOffered reports an inbound call that passed the adapter's ghost-call
// checks. ID is allocated by the adapter (NewCallID).
type CallOffered struct {
	ID           CallID
	Remote       Party
	DialedNumber string
	Queue        string
}

// CallProgress reports that the far end of an outbound call is ringing.
type CallProgress struct {
	ID         CallID
	EarlyMedia bool
}

// CallAnswered reports that a call is connected (our answer confirmed, or
// the far end answered).
type CallAnswered struct{ ID CallID }

// CallFailed reports that a call could not be set up (or answered).
type CallFailed struct {
	ID     CallID
	Cause  EndCause
	Reason string
}

// CallStateEnded reports that the far end or the network ended a call.
type CallEnded struct {
	ID     CallID
	Cause  EndCause // CauseRemoteHangup, CauseMissed (CANCEL), CauseNetwork, ...
	Reason string
}

// RemoteHold reports that the far end held (or resumed) us.
type RemoteHold struct {
	ID CallID
	On bool
}

// DTMFReceived reports one DTMF digit the far end keyed on a connected call
// (RFC 4733 telephone-event or SIP INFO): IVR-style input such as an
// account number the agent needs to see. The digits are kept on the live
// call only; the call log records how many there were, never their values
// (they may be a PIN), and adapters must not log them.
type DTMFReceived struct {
	ID    CallID
	Digit string // one of 0-9 * # A-D
}

// RemotePartyChanged reports that the party connected on a call is now
// someone else: the call was replaced by an attended transfer (INVITE with
// Replaces), or the far end updated its identity (P-Asserted-Identity or
// Remote-Party-ID in a re-INVITE or UPDATE) after a transfer on its side.
type RemotePartyChanged struct {
	ID    CallID
	Party Party
}

// HoldFailed reports that a hold or resume re-INVITE was refused.
type HoldFailed struct {
	ID     CallID
	On     bool
	Reason string
}

// TransferResult reports the final NOTIFY of a transfer on call ID.
type TransferResult struct {
	ID     CallID
	OK     bool
	Reason string
}

// RecordingStarted reports the file reference of a started recording.
type RecordingStarted struct {
	Key string
	Ref string
}

// RecordingFailed reports that recording could not start or continue.
type RecordingFailed struct {
	Key    string
	Reason string
}

// AnnouncementDone reports that an announcement finished or failed.
type AnnouncementDone struct {
	ID     CallID
	Reason string // empty when it played to the end
}

// CallerMatched reports the CRM lookup for an interaction.
type CallerMatched struct {
	Key string
	// Number is the number looked up (LookupCaller.Number). The answer
	// for a party the call was connected to before (RemotePartyChanged
	// while the lookup ran) is stale and ignored; another spelling of the
	// current party's number (a re-lookup after a contact was created)
	// is not. Empty is not checked.
	Number  string
	Records []CRMRecord
	Err     string // lookup failed
}

// CallLogSaved reports that the call log of Key is durably stored (and
// queued for the CRM).
type CallLogSaved struct{ Key string }

// CallLogFailed reports that storing the call log failed; the core retries.
type CallLogFailed struct {
	Key    string
	Reason string
}

// TimerFired reports a timer started by a StartTimer effect.
type TimerFired struct{ Timer Timer }

// EffectFailed reports that a port refused an effect synchronously (the
// actor posts it); Step turns it into the matching failure.
type EffectFailed struct {
	Effect Effect
	Reason string
}

func (Login) isInput()               {}
func (Logout) isInput()              {}
func (SetStatus) isInput()           {}
func (Dial) isInput()                {}
func (Answer) isInput()              {}
func (Reject) isInput()              {}
func (Redirect) isInput()            {}
func (Hangup) isInput()              {}
func (Hold) isInput()                {}
func (Resume) isInput()              {}
func (Mute) isInput()                {}
func (SendDTMF) isInput()            {}
func (BlindTransfer) isInput()       {}
func (ConsultStart) isInput()        {}
func (ConsultComplete) isInput()     {}
func (ConsultMerge) isInput()        {}
func (ConsultCancel) isInput()       {}
func (ConferenceLeave) isInput()     {}
func (ConferenceTerminate) isInput() {}
func (SetDoNotLog) isInput()         {}
func (SetOutcome) isInput()          {}
func (SetNotes) isInput()            {}
func (Reconfigure) isInput()         {}
func (AddQuickNote) isInput()        {}
func (ExtendWrapUp) isInput()        {}
func (CompleteWrapUp) isInput()      {}
func (SetRecording) isInput()        {}
func (AddBookmark) isInput()         {}
func (PlayAnnouncement) isInput()    {}
func (ChooseRecord) isInput()        {}
func (CreateContact) isInput()       {}
func (RegistrationChanged) isInput() {}
func (CallOffered) isInput()         {}
func (CallProgress) isInput()        {}
func (CallAnswered) isInput()        {}
func (CallFailed) isInput()          {}
func (CallEnded) isInput()           {}
func (RemoteHold) isInput()          {}
func (HoldFailed) isInput()          {}
func (DTMFReceived) isInput()        {}
func (RemotePartyChanged) isInput()  {}
func (TransferResult) isInput()      {}
func (RecordingStarted) isInput()    {}
func (RecordingFailed) isInput()     {}
func (AnnouncementDone) isInput()    {}
func (CallerMatched) isInput()       {}
func (CallLogSaved) isInput()        {}
func (CallLogFailed) isInput()       {}
func (TimerFired) isInput()          {}
func (EffectFailed) isInput()        {}
