package domain

import (
	"slices"
	"time"
)

// CallID identifies one call leg. IDs are globally unique (NewCallID) because
// the first leg's ID becomes the interaction key that CRMs deduplicate on.
type CallID string

// Party is the other end of a call as far as it is known.
type Party struct {
	Number string // as presented (E.164 where the adapter could normalise it)
	Name   string // display name from SIP or from the CRM match
}

// Label is the best short text for the party.
func (p Party) Label() string {
	if p.Name != "" {
		return p.Name
	}
	if p.Number != "" {
		return p.Number
	}
	return "Unknown caller"
}

// CRMRecord is a record matched to a caller (Contact, Lead, Account ...).
type CRMRecord struct {
	ID   string // the CRM's record ID
	Type string // "Contact", "Lead", "Account", ...
	Name string
	URL  string // screen-pop URL
	// Phones are the record's phone numbers, E.164 or as the CRM stores
	// them, best first; empty when the CRM answered none.
	Phones []string
}

// AgentInfo identifies the signed-in agent.
type AgentInfo struct {
	ID   string
	Name string
}

// Status is a chosen presence with its reason (Break and AutoPaused).
type Status struct {
	Presence Presence
	Reason   string
}

// QuickNote is a configured snippet the agent adds to the notes with a click.
type QuickNote struct {
	Name string
	Text string
}

// Config is the part of the agent's settings (profile and provisioning) that
// the core needs. Zero fields take the defaults of DefaultConfig through
// Normalize.
type Config struct {
	MaxLines         int             // concurrent calls; default 4
	MaxConference    int             // parties including the agent; default 5
	RingTimeout      time.Duration   // unanswered offered calls end as missed; default 30 s; negative = never
	AutoPauseAfter   int             // consecutive missed offered calls; 0 = off
	BreakReasons     []string        // allowed Break reasons; empty = any non-empty reason
	LoginStatus      Status          // status after sign-in; default Break "Signing in"
	WrapUpTime       time.Duration   // after-call-work timer; 0 = manual wrap-up
	WrapUpExtend     time.Duration   // added once by Extend; 0 = no Extend
	Outcomes         []string        // allowed outcomes; empty = free text
	DefaultOutcome   string          // applied by auto-wrap when none was chosen
	OutcomeRequired  bool            // wrap-up cannot finish without an outcome
	QuickNotes       []QuickNote     // snippets for the notes
	DoNotLogDefault  bool            // the "do not log" flag of every new interaction
	ScreenPop        ScreenPopPolicy // default at ringing
	Recording        RecordingPolicy // default manual
	CallSubject      string          // the call log's Subject when the agent sets none; "" = the CRM's own ("Inbound call from ...")
	LogRetryInterval time.Duration   // first retry after a failed call-log save; default 5 s, doubling to 5 min
}

// AutoPauseReason is the reason shown when the core auto-pauses the agent.
const AutoPauseReason = "Missed call"

// DefaultConfig returns the settings used when a profile sets none.
func DefaultConfig() Config {
	return Config{
		MaxLines:         4,
		MaxConference:    5,
		RingTimeout:      30 * time.Second,
		AutoPauseAfter:   2,
		BreakReasons:     []string{"Break", "Lunch", "Meeting", "Training", "Signing in"},
		LoginStatus:      Status{Presence: PresenceBreak, Reason: "Signing in"},
		WrapUpTime:       60 * time.Second,
		WrapUpExtend:     30 * time.Second,
		ScreenPop:        ScreenPopAtRinging,
		Recording:        RecordPolicyManual,
		LogRetryInterval: 5 * time.Second,
	}
}

// Normalize fills unset fields from DefaultConfig and clamps the rest into
// range, so Step never has to second-guess a configuration.
func (c Config) Normalize() Config {
	d := DefaultConfig()
	if c.MaxLines <= 0 {
		c.MaxLines = d.MaxLines
	}
	if c.MaxConference <= 0 {
		c.MaxConference = d.MaxConference
	}
	c.MaxConference = min(max(c.MaxConference, 3), 5)
	if c.RingTimeout == 0 {
		c.RingTimeout = d.RingTimeout
	}
	if c.AutoPauseAfter < 0 {
		c.AutoPauseAfter = 0
	}
	if c.WrapUpTime < 0 {
		c.WrapUpTime = 0
	}
	if c.WrapUpExtend < 0 {
		c.WrapUpExtend = 0
	}
	switch c.LoginStatus.Presence {
	case PresenceAvailable, PresenceDND:
		c.LoginStatus.Reason = ""
	case PresenceBreak:
		if !reasonAllowed(c.BreakReasons, c.LoginStatus.Reason) {
			c.LoginStatus = Status{Presence: PresenceAvailable}
		}
	case PresenceUnknown, PresenceOffline, PresenceAutoPaused:
		if reasonAllowed(c.BreakReasons, d.LoginStatus.Reason) {
			c.LoginStatus = d.LoginStatus
		} else {
			c.LoginStatus = Status{Presence: PresenceAvailable}
		}
	}
	if c.ScreenPop == ScreenPopUnknown || c.ScreenPop > ScreenPopNever {
		c.ScreenPop = d.ScreenPop
	}
	if c.Recording == RecordPolicyUnknown || c.Recording > RecordPolicyAuto {
		c.Recording = d.Recording
	}
	if c.LogRetryInterval <= 0 {
		c.LogRetryInterval = d.LogRetryInterval
	}
	if c.DefaultOutcome != "" && len(c.Outcomes) > 0 && !slices.Contains(c.Outcomes, c.DefaultOutcome) {
		c.DefaultOutcome = ""
	}
	return c
}

func reasonAllowed(reasons []string, r string) bool {
	if r == "" {
		return false
	}
	return len(reasons) == 0 || slices.Contains(reasons, r)
}

// Call is one live call leg.
type Call struct {
	ID           CallID
	Interaction  string // key of the interaction the leg belongs to
	Direction    Direction
	State        CallState
	Role         CallRole
	ConsultFor   CallID // consult legs: the call held while consulting
	Conference   bool   // member of the interaction's conference
	Remote       Party
	Target       string // outbound: the normalised dial string
	DialedNumber string // inbound: DNIS from To / Diversion / History-Info
	Queue        string // inbound: queue name where the PBX gives one
	Answering    bool   // inbound: the agent pressed Answer, the adapter has not confirmed yet
	EarlyMedia   bool   // outbound: the far end sends audio (no local ringback)
	RemoteHeld   bool   // the far end has put us on hold
	Transfer     TransferKind
	Announcement string // name of the announcement playing into the call
	CreatedAt    time.Time
	AnsweredAt   time.Time
	HeldAt       time.Time     // start of the current hold
	HeldTotal    time.Duration // finished holds
	RingDeadline time.Time     // inbound: when the ring timer expires (zero = never)

	// DigitsReceived are the last MaxDigitsReceived DTMF digits the far end
	// keyed (DTMFReceived), for the agent to read on the call screen. They
	// never reach the call log or any log: only their count does.
	DigitsReceived string
}

// Bookmark marks a moment of a call for later review.
type Bookmark struct {
	At     time.Time
	Offset time.Duration // since the interaction was answered
	Label  string
}

// HistoryEntry is one transfer / conference / redirect step of an interaction.
type HistoryEntry struct {
	At     time.Time
	Action string // "consult", "transfer-blind", "transfer-attended", "conference", "leave", "redirect", "transfer-failed", ...
	CallID CallID
	Target string
	Detail string
}

// Leg is the record of an ended call leg, kept for the call log.
type Leg struct {
	ID         CallID
	Direction  Direction
	Role       CallRole
	Remote     Party
	Target     string
	CreatedAt  time.Time
	AnsweredAt time.Time
	EndedAt    time.Time
	HeldTotal  time.Duration
	Cause      EndCause
	Reason     string // adapter's detail (SIP code and phrase)
}

// Interaction is what the agent handles for one customer: the first call and
// every consult or conference leg placed from it.
type Interaction struct {
	Key          string // the stable unique call key (first leg's ID)
	Direction    Direction
	Remote       Party // the customer
	DialedNumber string
	Queue        string
	Phase        Phase
	Live         []CallID // live legs, oldest first
	Legs         []Leg    // ended legs, in the order they ended
	Connected    bool     // at least one leg was answered
	Conference   bool     // a conference is in progress
	StartedAt    time.Time
	AnsweredAt   time.Time
	EndedAt      time.Time // when the last live leg ended
	DoNotLog     bool
	Outcome      string
	Notes        string
	Bookmarks    []Bookmark
	History      []HistoryEntry
	Match        MatchState
	Matches      []CRMRecord
	RecordID     string // the record the call is logged against (single match or the agent's choice)
	Popped       bool   // the screen pop happened (at most once)
	Recording    RecordingState
	Recordings   []string // references to recording files
	WrapDeadline time.Time
	Extended     bool
	Overdue      bool // the timer expired but a mandatory outcome is missing
}

// CallLog is the record of one finished interaction, handed to the store and
// the CRM outbox. It is written once and never patched afterwards.
type CallLog struct {
	Key          string
	AgentID      string
	Direction    Direction
	Remote       Party
	DialedNumber string
	Queue        string
	StartedAt    time.Time
	AnsweredAt   time.Time // zero when never answered
	EndedAt      time.Time
	WrappedAt    time.Time
	Talk         time.Duration
	Hold         time.Duration
	Outcome      string
	Notes        string
	Subject      string   // the record's subject (Config.CallSubject); "" = the CRM's own
	Cause        EndCause // how the customer leg ended
	Missed       bool     // an inbound call the agent never answered
	Matches      []CRMRecord
	RecordID     string
	Recordings   []string
	Bookmarks    []Bookmark
	History      []HistoryEntry
	Legs         []Leg
}

// PendingLog is a call log handed to the call-log port and not yet confirmed
// saved. It is kept (and retried) until the store says it is durable.
type PendingLog struct {
	Log       CallLog
	Saving    bool      // a save is in flight
	Attempts  int       // failed attempts so far
	RetryAt   time.Time // next attempt when not saving
	LastError string
}

// Registration is the SIP registration as last reported.
type Registration struct {
	State  RegState
	Reason string
}

// State is everything the core knows. Only Step changes it; the actor owns
// the one live copy and hands out clones.
type State struct {
	Agent        AgentInfo
	Config       Config
	Presence     Status
	Next         *Status // chosen during a call or wrap-up; applied when both are over
	Registration Registration
	Missed       int    // consecutive offered calls not answered (auto-pause)
	Muted        bool   // microphone mute; reset when the last call ends
	Focus        CallID // the call the agent last acted on (dial, answer, resume)
	Calls        []Call // live calls, oldest first
	Interactions []Interaction
	PendingLogs  []PendingLog
}

// NewState returns the state of a freshly started, signed-out agent.
func NewState() State {
	return State{
		Config:       DefaultConfig(),
		Presence:     Status{Presence: PresenceOffline},
		Registration: Registration{State: RegUnregistered},
	}
}

// SignedIn reports whether an agent is signed in.
func (s *State) SignedIn() bool {
	return s.Presence.Presence != PresenceOffline && s.Presence.Presence != PresenceUnknown
}

// Status is the effective status shown to the agent.
func (s *State) Status() AgentStatus {
	if !s.SignedIn() {
		return StatusOffline
	}
	switch s.Registration.State {
	case RegRegistered:
	case RegRegistering, RegUnknown, RegUnregistered:
		if len(s.Calls) == 0 {
			return StatusConnecting
		}
	case RegFailed:
		return StatusDisconnected
	}
	if len(s.Calls) > 0 {
		return StatusOnCall
	}
	for i := range s.Interactions {
		if s.Interactions[i].Phase == PhaseWrapUp {
			return StatusWrapUp
		}
	}
	switch s.Presence.Presence {
	case PresenceAvailable:
		return StatusAvailable
	case PresenceBreak:
		return StatusBreak
	case PresenceDND:
		return StatusDND
	case PresenceAutoPaused:
		return StatusAutoPaused
	case PresenceOffline, PresenceUnknown:
		return StatusOffline
	}
	return StatusUnknown
}

// Call returns the live call with the given ID, or nil.
func (s *State) Call(id CallID) *Call {
	for i := range s.Calls {
		if s.Calls[i].ID == id {
			return &s.Calls[i]
		}
	}
	return nil
}

// Interaction returns the interaction with the given key, or nil.
func (s *State) Interaction(key string) *Interaction {
	for i := range s.Interactions {
		if s.Interactions[i].Key == key {
			return &s.Interactions[i]
		}
	}
	return nil
}

// Busy reports whether the agent has a live call or a wrap-up to finish.
func (s *State) Busy() bool {
	if len(s.Calls) > 0 {
		return true
	}
	for i := range s.Interactions {
		if s.Interactions[i].Phase == PhaseWrapUp {
			return true
		}
	}
	return false
}

// Clone returns a deep copy: nothing in it shares memory with s.
func (s State) Clone() State {
	c := s
	c.Config = s.Config.Clone()
	if s.Next != nil {
		n := *s.Next
		c.Next = &n
	}
	c.Calls = slices.Clone(s.Calls)
	c.Interactions = make([]Interaction, len(s.Interactions))
	for i := range s.Interactions {
		c.Interactions[i] = s.Interactions[i].Clone()
	}
	if s.Interactions == nil {
		c.Interactions = nil
	}
	c.PendingLogs = make([]PendingLog, len(s.PendingLogs))
	for i := range s.PendingLogs {
		c.PendingLogs[i] = s.PendingLogs[i]
		c.PendingLogs[i].Log = s.PendingLogs[i].Log.Clone()
	}
	if s.PendingLogs == nil {
		c.PendingLogs = nil
	}
	return c
}

// Clone returns a deep copy.
func (c Config) Clone() Config {
	c.BreakReasons = slices.Clone(c.BreakReasons)
	c.Outcomes = slices.Clone(c.Outcomes)
	c.QuickNotes = slices.Clone(c.QuickNotes)
	return c
}

// Clone returns a deep copy.
func (ix Interaction) Clone() Interaction {
	ix.Live = slices.Clone(ix.Live)
	ix.Legs = slices.Clone(ix.Legs)
	ix.Bookmarks = slices.Clone(ix.Bookmarks)
	ix.History = slices.Clone(ix.History)
	ix.Matches = slices.Clone(ix.Matches)
	ix.Recordings = slices.Clone(ix.Recordings)
	return ix
}

// Clone returns a deep copy.
func (l CallLog) Clone() CallLog {
	l.Matches = slices.Clone(l.Matches)
	l.Recordings = slices.Clone(l.Recordings)
	l.Bookmarks = slices.Clone(l.Bookmarks)
	l.History = slices.Clone(l.History)
	l.Legs = slices.Clone(l.Legs)
	return l
}
