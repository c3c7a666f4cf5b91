package viewmodel

import (
	"slices"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
)

// Screen is the main area the desktop shows.
type Screen uint8

// Screen values.
const (
	ScreenUnknown  Screen = 0
	ScreenLogin    Screen = 1 // signed out: the hot-desk sign-in
	ScreenIdle     Screen = 2 // signed in, nothing live: dial, search, favorites, recents
	ScreenIncoming Screen = 3 // a call is ringing here
	ScreenCall     Screen = 4 // a call is being placed or is connected
	ScreenWrapUp   Screen = 5 // after-call work
)

func (s Screen) String() string {
	switch s {
	case ScreenUnknown:
		return "unknown"
	case ScreenLogin:
		return "login"
	case ScreenIdle:
		return "idle"
	case ScreenIncoming:
		return "incoming"
	case ScreenCall:
		return "call"
	case ScreenWrapUp:
		return "wrap-up"
	}
	return "screen(?)"
}

// Dot is the colour of the status dot.
type Dot uint8

// Dot values.
const (
	DotGrey   Dot = 0 // signed out or connecting
	DotGreen  Dot = 1 // available
	DotOrange Dot = 2 // break or auto-pause (with the reason)
	DotRed    Dot = 3 // do not disturb, disconnected, on a call or in wrap-up
)

func (d Dot) String() string {
	switch d {
	case DotGrey:
		return "grey"
	case DotGreen:
		return "green"
	case DotOrange:
		return "orange"
	case DotRed:
		return "red"
	}
	return "dot(?)"
}

// RecordLight is the colour of the recording indicator.
type RecordLight uint8

// RecordLight values.
const (
	RecordLightNone      RecordLight = 0 // no call to record
	RecordLightOff       RecordLight = 1 // allowed, not recording
	RecordLightOn        RecordLight = 2 // orange
	RecordLightPaused    RecordLight = 3 // dark grey
	RecordLightForbidden RecordLight = 4 // light grey
)

// Sync is the CRM delivery state the crm outbox reports (the core only
// knows the local saves).
type Sync struct {
	Pending   int    // logs waiting to reach the CRM
	Failed    int    // logs the CRM refused or that failed repeatedly
	LastError string // the latest delivery error, plain words
	// CRM names the external CRM ("HubSpot"); "" for the local directory.
	CRM string
	// SignInNeeded is set while the signed-in agent has no session with
	// the external CRM: no caller lookup, and call logs wait.
	SignInNeeded bool
}

// Header is the top bar.
type Header struct {
	SignedIn     bool
	Agent        string // "Alice Smith (a1)"
	Status       string // "Available", "Break: Lunch", "On call", ...
	Next         string // "Next: Available" while a status waits for the call to end
	Dot          Dot
	Registration string
	RegOK        bool
	CRM          string
	CRMProblem   bool
	Muted        bool
}

// StatusOption is one entry of the status menu.
type StatusOption struct {
	Label  string
	Status domain.Status
	Dot    Dot
}

// Line is one live call in the line switcher.
type Line struct {
	ID       domain.CallID
	Key      string
	Label    string
	State    string
	Duration string
	Focused  bool
	Ringing  bool // offered here, not answered
	Held     bool
}

// Incoming is the ringing call.
type Incoming struct {
	ID        domain.CallID
	Key       string
	Name      string // caller name, or the number when there is none
	Number    string
	Queue     string
	Dialed    string
	Waiting   bool   // another call is in progress (call waiting)
	Answering bool   // Answer pressed, not yet confirmed
	Match     string // CRM lookup state in words
	Records   []domain.CRMRecord
	Choose    bool // several records matched and none is chosen
	RecordID  string
	DoNotLog  bool
}

// Participant is one party of a conference.
type Participant struct {
	ID    domain.CallID
	Label string
	State string
}

// Consult is a consultation in progress (attended transfer or adding a
// conference party).
type Consult struct {
	ID        domain.CallID // the consult leg
	Target    string
	State     string
	Connected bool   // complete and merge need the consulted party to answer
	Held      string // who is on hold meanwhile
}

// Quality is the call-quality indicator.
type Quality struct {
	MOS    float64
	Jitter float64 // ms
	Loss   float64 // percent
	Grade  string  // "Good", "Fair", "Poor"
	Text   string  // "MOS 4.2 · jitter 3 ms · loss 0.1 %"
}

// Call is the active-call screen.
type Call struct {
	ID           domain.CallID
	Key          string
	Title        string
	Number       string
	State        string
	Duration     string
	Connected    bool
	Held         bool
	RemoteHeld   bool
	Muted        bool
	CanHold      bool
	CanResume    bool
	CanTransfer  bool
	CanConsult   bool
	CanDTMF      bool
	Consult      *Consult
	Conference   bool
	Participants []Participant
	CanLeave     bool // the agent may leave (exactly two other parties)
	Record       RecordLight
	RecordText   string
	RecordAction domain.RecordAction // what the record button does; Unknown = disabled
	RecordButton string
	Announcement string
	DoNotLog     bool
	Quality      *Quality
	Transferring bool
	// DigitsReceived are the DTMF digits the other party keyed during the
	// call (IVR-style input such as an account number), newest last. They
	// are shown to the agent only; the call log records just their count.
	DigitsReceived string
}

// WrapUp is the after-call work form.
type WrapUp struct {
	Key        string
	Title      string
	Outcome    string
	Outcomes   []string // empty: free text
	Required   bool
	Missing    bool // required and not chosen: Wrap call is disabled
	Notes      string
	QuickNotes []string
	DoNotLog   bool
	HasTimer   bool
	Remaining  string  // "0:42 left"
	Progress   float64 // 1 at the start, 0 when the time is up
	CanExtend  bool
	Overdue    bool
	Pending    int // further interactions waiting for wrap-up
}

// View is everything the window shows at one moment.
type View struct {
	Screen   Screen
	Header   Header
	Options  []StatusOption
	Selected string // label of the chosen status in Options ("" when none)
	Lines    []Line
	Incoming *Incoming
	Call     *Call
	WrapUp   *WrapUp
}

// Toast is a short message shown for a few seconds.
type Toast struct {
	Kind domain.NoticeKind
	Text string
}

// Model folds notifications and renders views.
type Model struct {
	Mirror agent.Mirror
	tr     *Translator
	stats  map[domain.CallID]domain.CallStats
	sync   Sync
}

// New returns an empty model speaking tr's language (nil means English).
func New(tr *Translator) *Model {
	return &Model{tr: tr, stats: map[domain.CallID]domain.CallStats{}}
}

// Translator returns the model's translator.
func (m *Model) Translator() *Translator { return m.tr }

// SetTranslator switches the language.
func (m *Model) SetTranslator(tr *Translator) { m.tr = tr }

// Apply folds one notification and returns its notices as toasts.
func (m *Model) Apply(n agent.Notify) []Toast {
	m.Mirror.Apply(n)
	for id := range m.stats {
		if m.Mirror.Call(id) == nil {
			delete(m.stats, id)
		}
	}
	toasts := make([]Toast, 0, len(n.Notices))
	for _, no := range n.Notices {
		toasts = append(toasts, Toast{Kind: no.Kind, Text: m.noticeText(no)})
	}
	return toasts
}

// SetStats records the latest RTP statistics of a call.
func (m *Model) SetStats(id domain.CallID, s domain.CallStats) {
	if m.Mirror.Call(id) != nil {
		m.stats[id] = s
	}
}

// SetSync records the CRM delivery state.
func (m *Model) SetSync(s Sync) { m.sync = s }

// noticeText translates a notice when the catalog has its message (the
// fixed texts: call failures by cause, wrap-up and status rules); messages
// that embed names or reasons stay in the core's English.
func (m *Model) noticeText(n domain.Notice) string { return m.tr.T(n.Message) }

// SignedIn reports whether an agent is signed in.
func (m *Model) SignedIn() bool {
	s := m.Mirror.Agent.Status
	return s != domain.StatusOffline && s != domain.StatusUnknown
}

// StatusOptions lists the statuses the agent can choose.
func (m *Model) StatusOptions() []StatusOption {
	t := m.tr
	opts := []StatusOption{{Label: t.T("Available"), Status: domain.Status{Presence: domain.PresenceAvailable}, Dot: DotGreen}}
	for _, r := range m.Mirror.Agent.Config.BreakReasons {
		opts = append(opts, StatusOption{Label: t.T("Break: %s", t.T(r)), Status: domain.Status{Presence: domain.PresenceBreak, Reason: r}, Dot: DotOrange})
	}
	opts = append(opts,
		StatusOption{Label: t.T("Do not disturb"), Status: domain.Status{Presence: domain.PresenceDND}, Dot: DotRed},
		StatusOption{Label: t.T("Offline (sign out)"), Status: domain.Status{Presence: domain.PresenceOffline}, Dot: DotGrey},
	)
	return opts
}

func (m *Model) presenceText(p domain.Status) string {
	t := m.tr
	switch p.Presence {
	case domain.PresenceAvailable:
		return t.T("Available")
	case domain.PresenceBreak:
		return t.T("Break: %s", t.T(p.Reason))
	case domain.PresenceDND:
		return t.T("Do not disturb")
	case domain.PresenceAutoPaused:
		return t.T("Paused: %s", t.T(p.Reason))
	case domain.PresenceOffline:
		return t.T("Offline (sign out)")
	case domain.PresenceUnknown:
	}
	return ""
}

// View renders the current state at time now.
func (m *Model) View(now time.Time) View {
	v := View{Header: m.header()}
	if !v.Header.SignedIn {
		v.Screen = ScreenLogin
		return v
	}
	v.Options = m.StatusOptions()
	sel := m.presenceText(m.Mirror.Agent.Presence)
	for _, o := range v.Options {
		if o.Label == sel {
			v.Selected = sel
		}
	}
	for _, c := range m.Mirror.Calls {
		v.Lines = append(v.Lines, m.line(&c, now))
	}
	if in := m.incoming(); in != nil {
		v.Screen, v.Incoming = ScreenIncoming, in
	}
	if c := m.call(now); c != nil {
		v.Call = c
		if v.Screen == ScreenUnknown {
			v.Screen = ScreenCall
		}
	}
	if w := m.wrapUp(now); w != nil {
		v.WrapUp = w
		if v.Screen == ScreenUnknown {
			v.Screen = ScreenWrapUp
		}
	}
	if v.Screen == ScreenUnknown {
		v.Screen = ScreenIdle
	}
	return v
}

func (m *Model) header() Header {
	t, a := m.tr, &m.Mirror.Agent
	h := Header{SignedIn: m.SignedIn(), Muted: a.Muted}
	if !h.SignedIn {
		h.Status = t.T("Signed out")
		return h
	}
	h.Agent = a.Agent.ID
	if a.Agent.Name != "" {
		h.Agent = a.Agent.Name + " (" + a.Agent.ID + ")"
	}
	switch a.Status {
	case domain.StatusAvailable:
		h.Status, h.Dot = t.T("Available"), DotGreen
	case domain.StatusBreak:
		h.Status, h.Dot = m.presenceText(a.Presence), DotOrange
	case domain.StatusAutoPaused:
		h.Status, h.Dot = m.presenceText(a.Presence), DotOrange
	case domain.StatusDND:
		h.Status, h.Dot = t.T("Do not disturb"), DotRed
	case domain.StatusOnCall:
		h.Status, h.Dot = t.T("On call"), DotRed
	case domain.StatusWrapUp:
		h.Status, h.Dot = t.T("Wrap-up"), DotRed
	case domain.StatusDisconnected:
		h.Status, h.Dot = t.T("Disconnected"), DotRed
	case domain.StatusConnecting:
		h.Status, h.Dot = t.T("Connecting…"), DotGrey
	case domain.StatusOffline, domain.StatusUnknown:
		h.Status = t.T("Signed out")
	}
	if a.Next != nil {
		h.Next = t.T("Next: %s", m.presenceText(*a.Next))
	}
	switch a.Registration.State {
	case domain.RegRegistered:
		h.Registration, h.RegOK = t.T("Phone: connected"), true
	case domain.RegRegistering:
		h.Registration = t.T("Phone: connecting…")
	case domain.RegFailed:
		h.Registration = t.T("Phone: disconnected (%s)", orDash(a.Registration.Reason))
	case domain.RegUnregistered, domain.RegUnknown:
		h.Registration = t.T("Phone: not connected")
	}
	h.CRM, h.CRMProblem = m.crmText()
	return h
}

func (m *Model) crmText() (string, bool) {
	t, l, s := m.tr, m.Mirror.Logs, m.sync
	switch {
	case l.Failing > 0:
		return t.T("Call log not saved: %s (retrying)", orDash(l.LastError)), true
	case s.SignInNeeded:
		return t.T("%s: sign-in needed", orDash(s.CRM)), true
	case s.Failed > 0:
		return t.T("CRM: %d logs failed: %s", s.Failed, orDash(s.LastError)), true
	case l.Pending+s.Pending > 0:
		return t.T("CRM: %d logs pending", l.Pending+s.Pending), false
	}
	return t.T("CRM: up to date"), false
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (m *Model) callState(c *domain.Call) string {
	t := m.tr
	switch c.State {
	case domain.CallStateOffered:
		if c.Answering {
			return t.T("Answering…")
		}
		return t.T("Incoming")
	case domain.CallStateDialing:
		return t.T("Calling…")
	case domain.CallStateRinging:
		return t.T("Ringing…")
	case domain.CallStateActive:
		if c.RemoteHeld {
			return t.T("Held by the other party")
		}
		if c.Conference {
			return t.T("In conference")
		}
		return t.T("Connected")
	case domain.CallStateHeld:
		return t.T("On hold")
	case domain.CallStateEnded, domain.CallStateUnknown:
	}
	return t.T("Ended")
}

func since(from, now time.Time) string {
	if from.IsZero() || now.Before(from) {
		return FormatDuration(0)
	}
	return FormatDuration(now.Sub(from))
}

func callDuration(c *domain.Call, now time.Time) string {
	if !c.AnsweredAt.IsZero() {
		return since(c.AnsweredAt, now)
	}
	return since(c.CreatedAt, now)
}

func (m *Model) line(c *domain.Call, now time.Time) Line {
	return Line{
		ID: c.ID, Key: c.Interaction, Label: c.Remote.Label(), State: m.callState(c),
		Duration: callDuration(c, now), Focused: c.ID == m.Mirror.Agent.Focus,
		Ringing: c.State == domain.CallStateOffered && !c.Answering, Held: c.State == domain.CallStateHeld,
	}
}

func (m *Model) incoming() *Incoming {
	var c *domain.Call
	for i := range m.Mirror.Calls {
		if x := &m.Mirror.Calls[i]; x.State == domain.CallStateOffered {
			c = x
			break
		}
	}
	if c == nil {
		return nil
	}
	in := &Incoming{
		ID: c.ID, Key: c.Interaction, Name: c.Remote.Label(), Number: c.Remote.Number,
		Queue: c.Queue, Dialed: c.DialedNumber, Answering: c.Answering,
		Waiting: slices.ContainsFunc(m.Mirror.Calls, func(x domain.Call) bool { return x.ID != c.ID && x.State != domain.CallStateOffered }),
	}
	if ix := m.Mirror.Interaction(c.Interaction); ix != nil {
		in.Records, in.RecordID, in.DoNotLog = ix.Matches, ix.RecordID, ix.DoNotLog
		in.Match = m.matchText(ix)
		in.Choose = ix.Match == domain.MatchMultiple && ix.RecordID == ""
	}
	if in.Name == in.Number {
		in.Number = ""
	}
	return in
}

func (m *Model) matchText(ix *domain.Interaction) string {
	t := m.tr
	switch ix.Match {
	case domain.MatchPending:
		return t.T("Looking up the caller…")
	case domain.MatchNone:
		return t.T("No CRM record")
	case domain.MatchOne:
		if len(ix.Matches) > 0 {
			return t.T("CRM: %s (%s)", ix.Matches[0].Name, t.T(ix.Matches[0].Type))
		}
	case domain.MatchMultiple:
		if ix.RecordID != "" {
			for _, r := range ix.Matches {
				if r.ID == ix.RecordID {
					return t.T("CRM: %s (%s)", r.Name, t.T(r.Type))
				}
			}
		}
		return t.T("%d CRM records match: choose one", len(ix.Matches))
	case domain.MatchFailed:
		return t.T("CRM lookup failed")
	case domain.MatchUnknown:
	}
	return ""
}

// selected is the call the call screen shows: the focused call when it is
// placed or connected, else the first such call.
func (m *Model) selected() *domain.Call {
	calls := m.Mirror.Calls
	if c := m.Mirror.Call(m.Mirror.Agent.Focus); c != nil && c.State != domain.CallStateOffered {
		return c
	}
	for i := range calls {
		if calls[i].State == domain.CallStateActive {
			return &calls[i]
		}
	}
	for i := range calls {
		if calls[i].State != domain.CallStateOffered {
			return &calls[i]
		}
	}
	return nil
}

func (m *Model) call(now time.Time) *Call {
	t := m.tr
	c := m.selected()
	if c == nil {
		return nil
	}
	ix := m.Mirror.Interaction(c.Interaction)
	v := &Call{
		ID: c.ID, Key: c.Interaction, Title: c.Remote.Label(), Number: c.Remote.Number,
		State: m.callState(c), Duration: callDuration(c, now), Connected: c.State.Connected(),
		Held: c.State == domain.CallStateHeld, RemoteHeld: c.RemoteHeld, Muted: m.Mirror.Agent.Muted,
		Announcement: c.Announcement, Transferring: c.Transfer != domain.TransferNone,
		DigitsReceived: c.DigitsReceived,
	}
	if v.Title == v.Number {
		v.Number = ""
	}
	v.CanHold = c.State == domain.CallStateActive && !v.Transferring
	v.CanResume = c.State == domain.CallStateHeld && !v.Transferring
	v.CanDTMF = c.State == domain.CallStateActive
	if ix != nil {
		v.DoNotLog = ix.DoNotLog
		v.Conference = ix.Conference
		var consult *domain.Call
		for i := range m.Mirror.Calls {
			x := &m.Mirror.Calls[i]
			if x.Interaction != ix.Key {
				continue
			}
			if x.Role == domain.RoleConsult {
				consult = x
			}
			if x.Conference {
				v.Participants = append(v.Participants, Participant{ID: x.ID, Label: x.Remote.Label(), State: m.callState(x)})
			}
		}
		if consult != nil {
			held := t.T("the caller")
			if h := m.Mirror.Call(consult.ConsultFor); h != nil {
				held = h.Remote.Label()
			}
			if ix.Conference {
				held = t.T("the conference")
			}
			v.Consult = &Consult{ID: consult.ID, Target: consult.Remote.Label(), State: m.callState(consult),
				Connected: consult.State.Connected(), Held: held}
		}
		if v.Conference {
			v.Title = t.T("Conference (%d parties)", len(v.Participants)+1)
			v.Number = ""
			v.CanLeave = len(v.Participants) == 2
		}
		m.record(v, ix)
	}
	v.CanTransfer = c.State.Connected() && !v.Conference && v.Consult == nil && !v.Transferring
	v.CanConsult = c.State.Connected() && v.Consult == nil && !v.Transferring
	if s, ok := m.stats[c.ID]; ok && v.Connected {
		q := Estimate(s)
		q.Grade = t.T(q.Grade)
		q.Text = t.T("MOS %.1f · jitter %.0f ms · loss %.1f %%", q.MOS, q.Jitter, q.Loss)
		v.Quality = &q
	}
	return v
}

func (m *Model) record(v *Call, ix *domain.Interaction) {
	t := m.tr
	switch ix.Recording {
	case domain.RecordingOn:
		v.Record, v.RecordText, v.RecordAction, v.RecordButton = RecordLightOn, t.T("Recording"), domain.RecordPause, t.T("Pause recording")
	case domain.RecordingPaused:
		v.Record, v.RecordText, v.RecordAction, v.RecordButton = RecordLightPaused, t.T("Recording paused"), domain.RecordResume, t.T("Resume recording")
	case domain.RecordingNotAllowed:
		v.Record, v.RecordText, v.RecordButton = RecordLightForbidden, t.T("Recording not allowed"), t.T("Record")
	case domain.RecordingOff, domain.RecordingUnknown:
		v.Record, v.RecordText, v.RecordButton = RecordLightOff, t.T("Not recording"), t.T("Record")
		if v.Connected {
			v.RecordAction = domain.RecordStart
		}
	}
}

func (m *Model) wrapUp(now time.Time) *WrapUp {
	t, cfg := m.tr, &m.Mirror.Agent.Config
	var w *WrapUp
	for i := range m.Mirror.Interactions {
		ix := &m.Mirror.Interactions[i]
		if ix.Phase != domain.PhaseWrapUp {
			continue
		}
		if w != nil {
			w.Pending++
			continue
		}
		w = &WrapUp{
			Key: ix.Key, Title: ix.Remote.Label(), Outcome: ix.Outcome, Outcomes: slices.Clone(cfg.Outcomes),
			Required: cfg.OutcomeRequired, Notes: ix.Notes, DoNotLog: ix.DoNotLog, Overdue: ix.Overdue,
		}
		if !ix.AnsweredAt.IsZero() && !ix.EndedAt.IsZero() {
			w.Title = t.T("%s · talked %s", w.Title, FormatDuration(ix.EndedAt.Sub(ix.AnsweredAt)))
		}
		w.Missing = w.Required && w.Outcome == ""
		for _, q := range cfg.QuickNotes {
			w.QuickNotes = append(w.QuickNotes, q.Name)
		}
		if !ix.WrapDeadline.IsZero() {
			w.HasTimer = true
			left := max(ix.WrapDeadline.Sub(now), 0)
			w.Remaining = t.T("%s left", FormatDuration(left))
			total := cfg.WrapUpTime
			if ix.Extended {
				total += cfg.WrapUpExtend
			}
			if total > 0 {
				w.Progress = min(float64(left)/float64(total), 1)
			}
			w.CanExtend = !ix.Extended && cfg.WrapUpExtend > 0
		}
		if w.Overdue {
			w.Remaining = t.T("Time is up: choose an outcome to finish")
		}
	}
	return w
}
