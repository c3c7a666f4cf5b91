package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Limits on free text the agent enters, so a stuck key or a paste of a whole
// document cannot grow the state (and the CRM payload) without bound.
const (
	maxNotesLen    = 32 << 10
	maxLabelLen    = 200
	maxMatches     = 50
	maxLogBackoff  = 5 * time.Minute
	maxOutcomeLen  = 200
	maxBookmarks   = 200
	maxHistoryLen  = 200
	sipBusyHere    = 486
	sipDecline     = 603
	sipUnavailable = 480
)

// Step is the only function that changes State. It is pure: the result
// depends on its arguments alone. The returned state shares no memory with s.
func Step(s State, in Input, now time.Time) (State, []Effect) {
	before := derive(&s)
	next := s.Clone()
	st := &stepper{s: &next, now: now}
	st.input(in)
	st.settle()
	after := derive(&next)
	return next, append(st.out, diff(before, after)...)
}

type stepper struct {
	s   *State
	now time.Time
	out []Effect
}

func (st *stepper) emit(e ...Effect) { st.out = append(st.out, e...) }

func (st *stepper) notice(kind NoticeKind, id CallID, key, format string, args ...any) {
	st.emit(Notice{Kind: kind, Message: fmt.Sprintf(format, args...), CallID: id, Key: key})
}

func (st *stepper) input(in Input) {
	switch in := in.(type) {
	case Login:
		st.login(in)
	case Logout:
		st.logout()
	case SetStatus:
		st.setStatus(in.Status)
	case Dial:
		st.dial(in)
	case Answer:
		st.answer(in.ID)
	case Reject:
		st.reject(in.ID, in.Decline)
	case Redirect:
		st.redirect(in)
	case Hangup:
		st.hangup(in.ID)
	case Hold:
		st.hold(in.ID)
	case Resume:
		st.resume(in.ID)
	case Mute:
		st.mute(in.On)
	case SendDTMF:
		st.dtmf(in)
	case BlindTransfer:
		st.blindTransfer(in)
	case ConsultStart:
		st.consultStart(in)
	case ConsultComplete:
		st.consultComplete(in.ID)
	case ConsultMerge:
		st.consultMerge(in.ID)
	case ConsultCancel:
		st.consultCancel(in.ID)
	case ConferenceLeave:
		st.conferenceLeave(in.Key)
	case ConferenceTerminate:
		st.conferenceTerminate(in.Key)
	case SetDoNotLog:
		st.setDoNotLog(in)
	case SetOutcome:
		st.setOutcome(in)
	case Reconfigure:
		st.reconfigure(in)
	case SetNotes:
		st.setNotes(in)
	case AddQuickNote:
		st.addQuickNote(in)
	case ExtendWrapUp:
		st.extendWrapUp(in.Key)
	case CompleteWrapUp:
		st.completeWrapUp(in.Key)
	case SetRecording:
		st.setRecording(in)
	case AddBookmark:
		st.addBookmark(in)
	case PlayAnnouncement:
		st.playAnnouncement(in)
	case ChooseRecord:
		st.chooseRecord(in)
	case CreateContact:
		st.createContact(in.Key)
	case RegistrationChanged:
		st.registrationChanged(in)
	case CallOffered:
		st.callOffered(in)
	case CallProgress:
		st.callProgress(in)
	case CallAnswered:
		st.callAnswered(in.ID)
	case CallFailed:
		st.callFailed(in)
	case CallEnded:
		st.callEnded(in)
	case RemoteHold:
		if c := st.s.Call(in.ID); c != nil && c.State.Connected() {
			c.RemoteHeld = in.On
		}
	case HoldFailed:
		st.holdFailed(in)
	case DTMFReceived:
		st.dtmfReceived(in)
	case RemotePartyChanged:
		st.remotePartyChanged(in)
	case TransferResult:
		st.transferResult(in)
	case RecordingStarted:
		st.recordingStarted(in)
	case RecordingFailed:
		st.recordingFailed(in.Key, in.Reason)
	case AnnouncementDone:
		st.announcementDone(in)
	case CallerMatched:
		st.callerMatched(in)
	case CallLogSaved:
		st.s.PendingLogs = slices.DeleteFunc(st.s.PendingLogs, func(p PendingLog) bool { return p.Log.Key == in.Key })
	case CallLogFailed:
		st.callLogFailed(in)
	case TimerFired:
		st.timerFired(in.Timer)
	case EffectFailed:
		st.effectFailed(in)
	case nil:
	default:
		st.notice(NoticeError, "", "", "internal error: unknown input %T", in)
	}
}

// settle applies what follows from any change: the next status once the
// agent is free, and the reset of per-call toggles.
func (st *stepper) settle() {
	s := st.s
	if len(s.Calls) == 0 {
		s.Muted = false
		s.Focus = ""
	}
	if s.SignedIn() && !s.Busy() && s.Next != nil {
		n := *s.Next
		s.Next = nil
		if n.Presence == PresenceOffline {
			st.signOut()
			return
		}
		st.applyPresence(n)
	}
}

func (st *stepper) applyPresence(p Status) {
	st.s.Presence = p
	if p.Presence == PresenceAvailable {
		st.s.Missed = 0
	}
}

// ---- agent status ----

func (st *stepper) login(in Login) {
	s := st.s
	if s.SignedIn() {
		st.notice(NoticeError, "", "", "Already signed in as %s: sign out first", s.Agent.ID)
		return
	}
	in.Agent.ID = strings.TrimSpace(in.Agent.ID)
	if in.Agent.ID == "" {
		st.notice(NoticeError, "", "", "Enter your agent ID to sign in")
		return
	}
	s.Agent = in.Agent
	s.Config = in.Config.Normalize()
	s.Presence = s.Config.LoginStatus
	s.Next = nil
	s.Missed = 0
	s.Muted = false
	s.Focus = ""
	s.Registration = Registration{State: RegRegistering}
	st.emit(Register{})
}

func (st *stepper) logout() {
	s := st.s
	if !s.SignedIn() {
		return
	}
	if s.Busy() {
		s.Next = &Status{Presence: PresenceOffline}
		st.notice(NoticeInfo, "", "", "You will be signed out when your calls and wrap-up are finished")
		return
	}
	st.signOut()
}

func (st *stepper) signOut() {
	s := st.s
	s.Presence = Status{Presence: PresenceOffline}
	s.Next = nil
	s.Missed = 0
	s.Agent = AgentInfo{}
	s.Registration = Registration{State: RegUnregistered}
	st.emit(Unregister{})
}

func (st *stepper) setStatus(p Status) {
	s := st.s
	if !s.SignedIn() {
		st.notice(NoticeError, "", "", "Sign in first")
		return
	}
	switch p.Presence {
	case PresenceOffline:
		st.logout()
		return
	case PresenceAvailable, PresenceDND:
		p.Reason = ""
	case PresenceBreak:
		p.Reason = strings.TrimSpace(p.Reason)
		if !reasonAllowed(s.Config.BreakReasons, p.Reason) {
			st.notice(NoticeError, "", "", "Choose a break reason from the list")
			return
		}
	case PresenceAutoPaused, PresenceUnknown:
		st.notice(NoticeError, "", "", "That status cannot be chosen")
		return
	default:
		st.notice(NoticeError, "", "", "That status cannot be chosen")
		return
	}
	if s.Busy() {
		if p == s.Presence {
			s.Next = nil
		} else {
			s.Next = &p
		}
		return
	}
	s.Next = nil
	st.applyPresence(p)
}

// countMissed records an offered call the agent did not answer and pauses
// them after Config.AutoPauseAfter in a row.
func (st *stepper) countMissed() {
	s := st.s
	if s.Presence.Presence != PresenceAvailable {
		return
	}
	s.Missed++
	if s.Config.AutoPauseAfter == 0 || s.Missed < s.Config.AutoPauseAfter {
		return
	}
	n := s.Missed
	s.Missed = 0
	s.Presence = Status{Presence: PresenceAutoPaused, Reason: AutoPauseReason}
	if s.Next != nil && s.Next.Presence == PresenceAvailable {
		s.Next = nil // would silently undo the pause
	}
	st.notice(NoticeWarning, "", "", "You were paused after %d missed calls. Set yourself Available to take calls again", n)
}

// ---- calls: helpers ----

func (st *stepper) newInteraction(c *Call) {
	cfg := &st.s.Config
	rec := RecordingOff
	if cfg.Recording == RecordPolicyNotAllowed {
		rec = RecordingNotAllowed
	}
	st.s.Interactions = append(st.s.Interactions, Interaction{
		Key:          string(c.ID),
		Direction:    c.Direction,
		Remote:       c.Remote,
		DialedNumber: c.DialedNumber,
		Queue:        c.Queue,
		Phase:        PhaseLive,
		Live:         []CallID{c.ID},
		StartedAt:    st.now,
		DoNotLog:     cfg.DoNotLogDefault,
		Match:        MatchPending,
		Recording:    rec,
	})
}

func (st *stepper) idTaken(id CallID) bool {
	if id == "" || st.s.Call(id) != nil || st.s.Interaction(string(id)) != nil {
		return true
	}
	for _, p := range st.s.PendingLogs {
		if p.Log.Key == string(id) {
			return true
		}
	}
	return false
}

// members returns the live legs that act as one unit with c: the whole
// conference when c is in one, else c alone.
func (st *stepper) members(c *Call) []CallID {
	if !c.Conference {
		return []CallID{c.ID}
	}
	var ids []CallID
	for i := range st.s.Calls {
		o := &st.s.Calls[i]
		if o.Interaction == c.Interaction && o.Conference {
			ids = append(ids, o.ID)
		}
	}
	return ids
}

// holdOthers holds every active call not in keep.
func (st *stepper) holdOthers(keep []CallID) {
	for i := range st.s.Calls {
		c := &st.s.Calls[i]
		if c.State == CallStateActive && !slices.Contains(keep, c.ID) {
			st.holdLeg(c)
		}
	}
}

func (st *stepper) holdLeg(c *Call) {
	c.State = CallStateHeld
	c.HeldAt = st.now
	st.emit(HoldCall{ID: c.ID, On: true})
}

func (st *stepper) resumeLeg(c *Call) {
	c.State = CallStateActive
	c.HeldTotal += st.now.Sub(c.HeldAt)
	c.HeldAt = time.Time{}
	st.emit(HoldCall{ID: c.ID, On: false})
}

func (st *stepper) transferBusy(key string) bool {
	for i := range st.s.Calls {
		if st.s.Calls[i].Interaction == key && st.s.Calls[i].Transfer != TransferNone {
			return true
		}
	}
	return false
}

// canPlaceCall checks what every new outbound leg needs.
func (st *stepper) canPlaceCall(id CallID, rawTarget string) (string, bool) {
	s := st.s
	if st.idTaken(id) {
		st.notice(NoticeError, id, "", "internal error: call ID %q is empty or already in use", id)
		return "", false
	}
	target, err := NormalizeDialString(rawTarget)
	if err != nil {
		st.notice(NoticeError, id, "", "%s", capitalize(err.Error()))
		return "", false
	}
	if s.Registration.State != RegRegistered {
		st.notice(NoticeError, id, "", "Not connected to the phone system: the call cannot be placed")
		return "", false
	}
	if len(s.Calls) >= s.Config.MaxLines {
		st.notice(NoticeError, id, "", "All %d lines are in use: end a call first", s.Config.MaxLines)
		return "", false
	}
	return target, true
}

// endCall removes a live leg, records it in its interaction and ends the
// interaction when it was the last live leg.
func (st *stepper) endCall(id CallID, cause EndCause, reason string) {
	s := st.s
	i := slices.IndexFunc(s.Calls, func(c Call) bool { return c.ID == id })
	if i < 0 {
		return
	}
	c := s.Calls[i]
	s.Calls = slices.Delete(s.Calls, i, i+1)
	if s.Focus == id {
		s.Focus = ""
	}
	held := c.HeldTotal
	if c.State == CallStateHeld && !c.HeldAt.IsZero() {
		held += st.now.Sub(c.HeldAt)
	}
	ix := s.Interaction(c.Interaction)
	if ix == nil { // cannot happen: every call belongs to an interaction
		return
	}
	ix.Live = slices.DeleteFunc(ix.Live, func(x CallID) bool { return x == id })
	if c.DigitsReceived != "" {
		st.addHistory(ix, "dtmf-received", c.ID, "", maskedDigits(c.DigitsReceived))
	}
	ix.Legs = append(ix.Legs, Leg{
		ID: c.ID, Direction: c.Direction, Role: c.Role, Remote: c.Remote, Target: c.Target,
		CreatedAt: c.CreatedAt, AnsweredAt: c.AnsweredAt, EndedAt: st.now, HeldTotal: held,
		Cause: cause, Reason: reason,
	})
	if c.Direction == DirectionInbound && c.AnsweredAt.IsZero() && (cause == CauseMissed || cause == CauseRingTimeout) {
		st.countMissed()
	}
	if c.Conference {
		var rest []*Call
		for j := range s.Calls {
			if s.Calls[j].Interaction == ix.Key && s.Calls[j].Conference {
				rest = append(rest, &s.Calls[j])
			}
		}
		if len(rest) <= 1 {
			ix.Conference = false
			for _, r := range rest {
				r.Conference = false
			}
			st.addHistory(ix, "conference-ended", "", "", "")
		}
	}
	if len(ix.Live) > 0 {
		return
	}
	if ix.Recording == RecordingOn || ix.Recording == RecordingPaused {
		ix.Recording = RecordingOff
		st.emit(RecordCalls{Key: ix.Key, Action: RecordStop})
	}
	ix.EndedAt = st.now
	if ix.Connected {
		ix.Phase = PhaseWrapUp
		if s.Config.WrapUpTime > 0 {
			ix.WrapDeadline = st.now.Add(s.Config.WrapUpTime)
		}
		return
	}
	st.finalize(ix.Key)
}

// finalize turns an interaction into its call log (unless "do not log") and
// removes it. It is the only place a call log is produced.
func (st *stepper) finalize(key string) {
	s := st.s
	i := slices.IndexFunc(s.Interactions, func(ix Interaction) bool { return ix.Key == key })
	if i < 0 {
		return
	}
	ix := s.Interactions[i]
	s.Interactions = slices.Delete(s.Interactions, i, i+1)
	if ix.DoNotLog {
		return
	}
	log := buildLog(&ix, s.Agent.ID, st.now)
	log.Subject = s.Config.CallSubject
	s.PendingLogs = append(s.PendingLogs, PendingLog{Log: log, Saving: true})
	st.emit(SaveCallLog{Log: log.Clone()})
}

func buildLog(ix *Interaction, agentID string, now time.Time) CallLog {
	var first Leg
	for _, l := range ix.Legs {
		if string(l.ID) == ix.Key {
			first = l
			break
		}
	}
	var hold time.Duration
	for _, l := range ix.Legs {
		if l.Role == RolePrimary {
			hold += l.HeldTotal
		}
	}
	var talk time.Duration
	if !ix.AnsweredAt.IsZero() {
		talk = max(ix.EndedAt.Sub(ix.AnsweredAt)-hold, 0)
	}
	return CallLog{
		Key:          ix.Key,
		AgentID:      agentID,
		Direction:    ix.Direction,
		Remote:       ix.Remote,
		DialedNumber: ix.DialedNumber,
		Queue:        ix.Queue,
		StartedAt:    ix.StartedAt,
		AnsweredAt:   ix.AnsweredAt,
		EndedAt:      ix.EndedAt,
		WrappedAt:    now,
		Talk:         talk,
		Hold:         hold,
		Outcome:      ix.Outcome,
		Notes:        ix.Notes,
		Cause:        first.Cause,
		Missed:       ix.Direction == DirectionInbound && !ix.Connected && (first.Cause == CauseMissed || first.Cause == CauseRingTimeout),
		Matches:      slices.Clone(ix.Matches),
		RecordID:     ix.RecordID,
		Recordings:   slices.Clone(ix.Recordings),
		Bookmarks:    slices.Clone(ix.Bookmarks),
		History:      slices.Clone(ix.History),
		Legs:         slices.Clone(ix.Legs),
	}
}

func (st *stepper) addHistory(ix *Interaction, action string, id CallID, target, detail string) {
	if len(ix.History) >= maxHistoryLen {
		return
	}
	ix.History = append(ix.History, HistoryEntry{At: st.now, Action: action, CallID: id, Target: target, Detail: detail})
}

// ---- calls: agent commands ----

func (st *stepper) dial(in Dial) {
	s := st.s
	if !s.SignedIn() {
		st.notice(NoticeError, in.ID, "", "Sign in before dialling")
		return
	}
	target, ok := st.canPlaceCall(in.ID, in.Target)
	if !ok {
		return
	}
	st.holdOthers(nil)
	c := Call{
		ID: in.ID, Interaction: string(in.ID), Direction: DirectionOutbound, State: CallStateDialing,
		Role: RolePrimary, Remote: Party{Number: target}, Target: target, CreatedAt: st.now,
	}
	s.Calls = append(s.Calls, c)
	st.newInteraction(&c)
	s.Focus = in.ID
	st.emit(DialCall{ID: in.ID, Target: target}, LookupCaller{Key: c.Interaction, Number: target})
}

func (st *stepper) offered(id CallID) *Call {
	c := st.s.Call(id)
	if c == nil || c.State != CallStateOffered {
		st.notice(NoticeWarning, id, "", "That call is no longer ringing")
		return nil
	}
	return c
}

func (st *stepper) answer(id CallID) {
	c := st.offered(id)
	if c == nil || c.Answering {
		return
	}
	st.holdOthers(nil)
	c.Answering = true
	st.s.Focus = id
	st.emit(AnswerCall{ID: id})
}

func (st *stepper) reject(id CallID, decline bool) {
	c := st.offered(id)
	if c == nil {
		return
	}
	code := sipBusyHere
	if decline {
		code = sipDecline
	}
	st.emit(RejectCall{ID: id, Code: code})
	st.endCall(id, CauseRejected, "")
}

func (st *stepper) redirect(in Redirect) {
	c := st.offered(in.ID)
	if c == nil {
		return
	}
	target, err := NormalizeDialString(in.Target)
	if err != nil {
		st.notice(NoticeError, in.ID, "", "Cannot redirect: %s", err)
		return
	}
	if ix := st.s.Interaction(c.Interaction); ix != nil {
		st.addHistory(ix, "redirect", in.ID, target, "")
	}
	st.emit(RedirectCall{ID: in.ID, Target: target})
	st.endCall(in.ID, CauseRedirected, "")
}

func (st *stepper) hangup(id CallID) {
	c := st.s.Call(id)
	if c == nil {
		return // already ended: hanging up twice is harmless
	}
	switch c.State {
	case CallStateOffered:
		st.reject(id, false)
	case CallStateDialing, CallStateRinging:
		st.emit(HangupCall{ID: id})
		st.endCall(id, CauseCancelled, "")
	case CallStateActive, CallStateHeld:
		st.emit(HangupCall{ID: id})
		st.endCall(id, CauseLocalHangup, "")
	case CallStateUnknown, CallStateEnded:
	}
}

func (st *stepper) connected(id CallID, what string) *Call {
	c := st.s.Call(id)
	if c == nil || !c.State.Connected() {
		st.notice(NoticeWarning, id, "", "Only a connected call can be %s", what)
		return nil
	}
	return c
}

func (st *stepper) hold(id CallID) {
	c := st.connected(id, "held")
	if c == nil || c.State == CallStateHeld {
		return
	}
	for _, m := range st.members(c) {
		if mc := st.s.Call(m); mc != nil && mc.State == CallStateActive {
			st.holdLeg(mc)
		}
	}
}

func (st *stepper) resume(id CallID) {
	c := st.connected(id, "resumed")
	if c == nil {
		return
	}
	ms := st.members(c)
	st.holdOthers(ms)
	for _, m := range ms {
		if mc := st.s.Call(m); mc != nil && mc.State == CallStateHeld {
			st.resumeLeg(mc)
		}
	}
	st.s.Focus = id
}

func (st *stepper) mute(on bool) {
	if len(st.s.Calls) == 0 {
		return
	}
	st.s.Muted = on
}

func (st *stepper) dtmf(in SendDTMF) {
	c := st.s.Call(in.ID)
	if c == nil || c.State != CallStateActive {
		st.notice(NoticeWarning, in.ID, "", "Digits can only be sent on an active call")
		return
	}
	if !ValidDTMF(in.Digits) {
		st.notice(NoticeError, in.ID, "", "Only the digits 0-9, * and # (and A-D) can be sent")
		return
	}
	st.emit(SendDigits{ID: in.ID, Digits: strings.ToUpper(in.Digits)})
}

func (st *stepper) blindTransfer(in BlindTransfer) {
	c := st.connected(in.ID, "transferred")
	if c == nil {
		return
	}
	if c.Conference {
		st.notice(NoticeError, in.ID, "", "A conference cannot be transferred: leave or end it instead")
		return
	}
	if st.transferBusy(c.Interaction) {
		st.notice(NoticeWarning, in.ID, "", "A transfer is already in progress")
		return
	}
	target, err := NormalizeDialString(in.Target)
	if err != nil {
		st.notice(NoticeError, in.ID, "", "Cannot transfer: %s", err)
		return
	}
	c.Transfer = TransferBlind
	st.addHistory(st.s.Interaction(c.Interaction), "transfer-blind", c.ID, target, "")
	st.emit(TransferCall{ID: c.ID, Target: target})
}

func (st *stepper) consultStart(in ConsultStart) {
	s := st.s
	c := st.connected(in.ID, "consulted from")
	if c == nil {
		return
	}
	ix := s.Interaction(c.Interaction)
	if st.transferBusy(ix.Key) {
		st.notice(NoticeWarning, in.ID, "", "A transfer is already in progress")
		return
	}
	for _, id := range ix.Live {
		if lc := s.Call(id); lc != nil && lc.Role == RoleConsult {
			st.notice(NoticeWarning, in.ID, "", "Finish the current consultation first")
			return
		}
	}
	if ix.Conference && len(st.members(c))+2 > s.Config.MaxConference {
		st.notice(NoticeError, in.ID, "", "A conference can have at most %d parties including you", s.Config.MaxConference)
		return
	}
	target, ok := st.canPlaceCall(in.NewID, in.Target)
	if !ok {
		return
	}
	st.holdOthers(nil)
	k := Call{
		ID: in.NewID, Interaction: ix.Key, Direction: DirectionOutbound, State: CallStateDialing,
		Role: RoleConsult, ConsultFor: c.ID, Remote: Party{Number: target}, Target: target, CreatedAt: st.now,
	}
	s.Calls = append(s.Calls, k)
	ix = s.Interaction(k.Interaction) // the append above may have moved nothing, but stay safe
	ix.Live = append(ix.Live, k.ID)
	st.addHistory(ix, "consult", k.ID, target, "")
	s.Focus = k.ID
	st.emit(DialCall{ID: k.ID, Target: target})
}

// consultLegs returns the consult leg and the party held for it.
func (st *stepper) consultLegs(id CallID) (k, orig *Call) {
	k = st.s.Call(id)
	if k == nil || k.Role != RoleConsult {
		st.notice(NoticeWarning, id, "", "That call is not a consultation")
		return nil, nil
	}
	orig = st.s.Call(k.ConsultFor)
	return k, orig
}

func (st *stepper) consultComplete(id CallID) {
	k, orig := st.consultLegs(id)
	if k == nil {
		return
	}
	switch {
	case orig == nil:
		st.notice(NoticeError, id, "", "The held caller has hung up: nothing to transfer")
	case orig.Conference:
		st.notice(NoticeError, id, "", "A conference cannot be transferred: merge the call or leave the conference")
	case k.State != CallStateActive:
		st.notice(NoticeWarning, id, "", "Wait until %s answers, or cancel the consultation", k.Remote.Label())
	case st.transferBusy(k.Interaction):
		st.notice(NoticeWarning, id, "", "A transfer is already in progress")
	default:
		orig.Transfer = TransferAttended
		k.Transfer = TransferAttended
		st.addHistory(st.s.Interaction(k.Interaction), "transfer-attended", orig.ID, k.Target, "")
		st.emit(TransferToCall{ID: orig.ID, To: k.ID})
	}
}

func (st *stepper) consultMerge(id CallID) {
	s := st.s
	k, orig := st.consultLegs(id)
	if k == nil {
		return
	}
	if orig == nil {
		st.notice(NoticeError, id, "", "The held caller has hung up: nothing to merge")
		return
	}
	if k.State != CallStateActive {
		st.notice(NoticeWarning, id, "", "Wait until %s answers before merging", k.Remote.Label())
		return
	}
	if st.transferBusy(k.Interaction) {
		st.notice(NoticeWarning, id, "", "A transfer is in progress")
		return
	}
	ms := append(st.members(orig), k.ID)
	if len(ms)+1 > s.Config.MaxConference {
		st.notice(NoticeError, id, "", "A conference can have at most %d parties including you", s.Config.MaxConference)
		return
	}
	st.holdOthers(ms)
	for _, m := range ms {
		mc := s.Call(m)
		mc.Conference = true
		if mc.State == CallStateHeld {
			st.resumeLeg(mc)
		}
	}
	k = s.Call(id)
	k.Role = RolePrimary
	k.ConsultFor = ""
	ix := s.Interaction(k.Interaction)
	ix.Conference = true
	st.addHistory(ix, "conference", k.ID, k.Target, fmt.Sprintf("%d parties", len(ms)+1))
	s.Focus = k.ID
}

func (st *stepper) consultCancel(id CallID) {
	k, orig := st.consultLegs(id)
	if k == nil {
		return
	}
	var origID CallID
	if orig != nil {
		origID = orig.ID
	}
	cause := CauseCancelled
	if k.State.Connected() {
		cause = CauseLocalHangup
	}
	st.emit(HangupCall{ID: id})
	st.endCall(id, cause, "")
	if origID != "" {
		if o := st.s.Call(origID); o != nil && o.State == CallStateHeld {
			st.resume(origID)
		}
	}
}

func (st *stepper) conference(key string) *Interaction {
	ix := st.s.Interaction(key)
	if ix == nil || !ix.Conference {
		st.notice(NoticeWarning, "", key, "There is no conference in progress")
		return nil
	}
	return ix
}

func (st *stepper) conferenceLeave(key string) {
	ix := st.conference(key)
	if ix == nil {
		return
	}
	var ms []*Call
	for i := range st.s.Calls {
		c := &st.s.Calls[i]
		if c.Interaction == key && c.Conference {
			ms = append(ms, c)
		}
	}
	if len(ms) != 2 {
		st.notice(NoticeError, "", key, "You can leave only when exactly two other parties remain; end the conference for everyone instead")
		return
	}
	if st.transferBusy(key) {
		st.notice(NoticeWarning, "", key, "A transfer is already in progress")
		return
	}
	ms[0].Transfer = TransferLeaveConf
	ms[1].Transfer = TransferLeaveConf
	st.addHistory(ix, "leave", ms[0].ID, string(ms[1].ID), "")
	st.emit(TransferToCall{ID: ms[0].ID, To: ms[1].ID})
}

func (st *stepper) conferenceTerminate(key string) {
	ix := st.conference(key)
	if ix == nil {
		return
	}
	st.addHistory(ix, "conference-terminated", "", "", "")
	for _, id := range slices.Clone(ix.Live) {
		st.hangup(id)
	}
}

// ---- wrap-up ----

func (st *stepper) interaction(key string) *Interaction {
	ix := st.s.Interaction(key)
	if ix == nil {
		st.notice(NoticeWarning, "", key, "That call has already been wrapped up")
	}
	return ix
}

func (st *stepper) setDoNotLog(in SetDoNotLog) {
	if ix := st.interaction(in.Key); ix != nil {
		ix.DoNotLog = in.On
	}
}

func (st *stepper) setOutcome(in SetOutcome) {
	ix := st.interaction(in.Key)
	if ix == nil {
		return
	}
	out := strings.TrimSpace(in.Outcome)
	if out != "" && len(st.s.Config.Outcomes) > 0 && !slices.Contains(st.s.Config.Outcomes, out) {
		st.notice(NoticeError, "", in.Key, "Choose an outcome from the list")
		return
	}
	if len(out) > maxOutcomeLen {
		st.notice(NoticeError, "", in.Key, "The outcome is too long")
		return
	}
	ix.Outcome = out
}

// reconfigure applies the live-safe configuration fields (Reconfigure).
func (st *stepper) reconfigure(in Reconfigure) {
	s := st.s
	if !s.SignedIn() {
		return
	}
	c := s.Config.Clone()
	c.Outcomes = slices.Clone(in.Outcomes)
	c.QuickNotes = slices.Clone(in.QuickNotes)
	if in.ScreenPop != ScreenPopUnknown {
		c.ScreenPop = in.ScreenPop
	}
	c.CallSubject = in.CallSubject
	s.Config = c.Normalize()
}

func (st *stepper) setNotes(in SetNotes) {
	ix := st.interaction(in.Key)
	if ix == nil {
		return
	}
	if len(in.Notes) > maxNotesLen {
		st.notice(NoticeError, "", in.Key, "The notes are too long (at most %d KB)", maxNotesLen>>10)
		return
	}
	ix.Notes = in.Notes
}

func (st *stepper) addQuickNote(in AddQuickNote) {
	ix := st.interaction(in.Key)
	if ix == nil {
		return
	}
	i := slices.IndexFunc(st.s.Config.QuickNotes, func(q QuickNote) bool { return q.Name == in.Name })
	if i < 0 {
		st.notice(NoticeError, "", in.Key, "There is no quick note %q", in.Name)
		return
	}
	notes := ix.Notes
	if notes != "" && !strings.HasSuffix(notes, "\n") {
		notes += "\n"
	}
	notes += st.s.Config.QuickNotes[i].Text
	if len(notes) > maxNotesLen {
		st.notice(NoticeError, "", in.Key, "The notes are too long (at most %d KB)", maxNotesLen>>10)
		return
	}
	ix.Notes = notes
}

func (st *stepper) wrapping(key string) *Interaction {
	ix := st.interaction(key)
	if ix != nil && ix.Phase != PhaseWrapUp {
		st.notice(NoticeWarning, "", key, "Wrap-up starts when the call has ended")
		return nil
	}
	return ix
}

func (st *stepper) extendWrapUp(key string) {
	ix := st.wrapping(key)
	if ix == nil {
		return
	}
	ext := st.s.Config.WrapUpExtend
	switch {
	case ix.WrapDeadline.IsZero():
		st.notice(NoticeInfo, "", key, "Wrap-up has no time limit")
	case ext == 0:
		st.notice(NoticeWarning, "", key, "Extending wrap-up is not allowed")
	case ix.Extended:
		st.notice(NoticeWarning, "", key, "Wrap-up can be extended only once")
	default:
		ix.WrapDeadline = later(ix.WrapDeadline, st.now).Add(ext)
		ix.Extended = true
		ix.Overdue = false
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (st *stepper) completeWrapUp(key string) {
	ix := st.wrapping(key)
	if ix == nil {
		return
	}
	if st.s.Config.OutcomeRequired && ix.Outcome == "" {
		st.notice(NoticeError, "", key, "Choose an outcome before finishing wrap-up")
		return
	}
	st.finalize(key)
}

// ---- recording, bookmarks, announcements ----

func (st *stepper) setRecording(in SetRecording) {
	ix := st.s.Interaction(in.Key)
	if ix == nil || ix.Phase != PhaseLive {
		st.notice(NoticeWarning, "", in.Key, "There is no call to record")
		return
	}
	if ix.Recording == RecordingNotAllowed {
		st.notice(NoticeError, "", in.Key, "Recording is not allowed")
		return
	}
	if !ix.Connected {
		st.notice(NoticeWarning, "", in.Key, "Recording can start once the call is answered")
		return
	}
	switch in.Action {
	case RecordStart:
		if ix.Recording == RecordingOff {
			st.startRecording(ix)
		}
	case RecordPause:
		if ix.Recording == RecordingOn {
			ix.Recording = RecordingPaused
			st.emit(RecordCalls{Key: ix.Key, Calls: slices.Clone(ix.Live), Action: RecordPause})
		}
	case RecordResume:
		if ix.Recording == RecordingPaused {
			ix.Recording = RecordingOn
			st.emit(RecordCalls{Key: ix.Key, Calls: slices.Clone(ix.Live), Action: RecordResume})
		}
	case RecordStop:
		if ix.Recording == RecordingOn || ix.Recording == RecordingPaused {
			ix.Recording = RecordingOff
			st.emit(RecordCalls{Key: ix.Key, Calls: slices.Clone(ix.Live), Action: RecordStop})
		}
	case RecordUnknown:
	}
}

func (st *stepper) startRecording(ix *Interaction) {
	ix.Recording = RecordingOn
	st.emit(RecordCalls{Key: ix.Key, Calls: slices.Clone(ix.Live), Action: RecordStart})
}

func (st *stepper) recordingStarted(in RecordingStarted) {
	ix := st.s.Interaction(in.Key)
	if ix == nil || in.Ref == "" || slices.Contains(ix.Recordings, in.Ref) {
		return
	}
	ix.Recordings = append(ix.Recordings, in.Ref)
}

func (st *stepper) recordingFailed(key, reason string) {
	if ix := st.s.Interaction(key); ix != nil && (ix.Recording == RecordingOn || ix.Recording == RecordingPaused) {
		ix.Recording = RecordingOff
	}
	st.notice(NoticeError, "", key, "Recording failed: %s", reason)
}

func (st *stepper) addBookmark(in AddBookmark) {
	ix := st.s.Interaction(in.Key)
	if ix == nil || ix.Phase != PhaseLive || !ix.Connected {
		st.notice(NoticeWarning, "", in.Key, "Bookmarks can be added during a connected call")
		return
	}
	if len(ix.Bookmarks) >= maxBookmarks {
		st.notice(NoticeWarning, "", in.Key, "This call has too many bookmarks")
		return
	}
	label := strings.TrimSpace(in.Label)
	if len(label) > maxLabelLen {
		label = label[:maxLabelLen]
	}
	ix.Bookmarks = append(ix.Bookmarks, Bookmark{At: st.now, Offset: st.now.Sub(ix.AnsweredAt), Label: label})
}

func (st *stepper) playAnnouncement(in PlayAnnouncement) {
	c := st.s.Call(in.ID)
	switch {
	case c == nil || c.State != CallStateActive:
		st.notice(NoticeWarning, in.ID, "", "Announcements can be played into an active call")
	case strings.TrimSpace(in.Name) == "":
		st.notice(NoticeError, in.ID, "", "Choose an announcement")
	case c.Announcement != "":
		st.notice(NoticeWarning, in.ID, "", "An announcement is already playing")
	default:
		c.Announcement = in.Name
		st.emit(PlayAnnouncementEffect(in))
	}
}

func (st *stepper) announcementDone(in AnnouncementDone) {
	c := st.s.Call(in.ID)
	if c == nil || c.Announcement == "" {
		return
	}
	name := c.Announcement
	c.Announcement = ""
	if in.Reason != "" {
		st.notice(NoticeError, in.ID, "", "Announcement %q failed: %s", name, in.Reason)
	}
}

// ---- CRM ----

func (st *stepper) callerMatched(in CallerMatched) {
	ix := st.s.Interaction(in.Key)
	if ix == nil {
		return // the interaction was logged already; the CRM side matches by number
	}
	if in.Number != "" && in.Number != ix.Remote.Number && slices.ContainsFunc(ix.History, func(h HistoryEntry) bool {
		return h.Action == "remote-changed" && h.Target == in.Number
	}) {
		return // for the party before a transfer; the new party's lookup follows
	}
	if in.Err != "" {
		ix.Match = MatchFailed
		if ix.Direction == DirectionInbound {
			st.notice(NoticeWarning, "", in.Key, "CRM lookup failed: %s", in.Err)
		}
		return
	}
	ix.Matches = ix.Matches[:0]
	for _, r := range in.Records {
		if r.ID == "" || len(ix.Matches) >= maxMatches || slices.ContainsFunc(ix.Matches, func(x CRMRecord) bool { return x.ID == r.ID }) {
			continue
		}
		ix.Matches = append(ix.Matches, r)
	}
	if !slices.ContainsFunc(ix.Matches, func(r CRMRecord) bool { return r.ID == ix.RecordID }) {
		ix.RecordID = "" // chosen from an earlier lookup (the party changed since)
	}
	switch len(ix.Matches) {
	case 0:
		ix.Match = MatchNone
	case 1:
		ix.Match = MatchOne
		ix.RecordID = ix.Matches[0].ID
		if ix.Remote.Name == "" && ix.Matches[0].Name != "" {
			ix.Remote.Name = ix.Matches[0].Name
			if c := st.s.Call(CallID(ix.Key)); c != nil {
				c.Remote.Name = ix.Remote.Name
			}
		}
	default:
		ix.Match = MatchMultiple
	}
	st.maybePop(ix)
}

// maybePop opens the single matched record once, at ringing or at answer
// per the policy. Several matches wait for ChooseRecord; none waits for
// CreateContact.
func (st *stepper) maybePop(ix *Interaction) {
	if ix.Popped || ix.Direction != DirectionInbound || ix.Match != MatchOne || ix.Phase != PhaseLive {
		return
	}
	switch st.s.Config.ScreenPop {
	case ScreenPopAtRinging:
	case ScreenPopAtAnswer:
		if !ix.Connected {
			return
		}
	case ScreenPopNever, ScreenPopUnknown:
		return
	}
	ix.Popped = true
	st.emit(ScreenPop{Key: ix.Key, Record: ix.Matches[0]})
}

func (st *stepper) chooseRecord(in ChooseRecord) {
	ix := st.interaction(in.Key)
	if ix == nil {
		return
	}
	i := slices.IndexFunc(ix.Matches, func(r CRMRecord) bool { return r.ID == in.RecordID })
	if i < 0 {
		st.notice(NoticeError, "", in.Key, "That record is not one of the matches")
		return
	}
	ix.RecordID = in.RecordID
	ix.Popped = true
	st.emit(ScreenPop{Key: ix.Key, Record: ix.Matches[i]})
}

func (st *stepper) createContact(key string) {
	if ix := st.interaction(key); ix != nil {
		st.emit(ScreenPopNew{Key: key, Number: ix.Remote.Number})
	}
}

// ---- adapter events ----

func (st *stepper) registrationChanged(in RegistrationChanged) {
	s := st.s
	if !s.SignedIn() {
		return // a late report about the account just signed out
	}
	prev := s.Registration
	s.Registration = Registration(in)
	switch {
	case in.State == RegFailed && prev.State == RegRegistered:
		st.notice(NoticeError, "", "", "Connection to the phone system lost: %s. Reconnecting", orUnknown(in.Reason))
	case in.State == RegFailed && prev.State != RegFailed:
		st.notice(NoticeError, "", "", "Cannot connect to the phone system: %s", orUnknown(in.Reason))
	case in.State == RegRegistered && prev.State == RegFailed:
		st.notice(NoticeInfo, "", "", "Connected to the phone system again")
	}
}

func (st *stepper) callOffered(in CallOffered) {
	s := st.s
	if st.idTaken(in.ID) {
		return // a duplicate report
	}
	if !s.SignedIn() {
		st.emit(RejectCall{ID: in.ID, Code: sipUnavailable})
		return
	}
	linesFull := len(s.Calls) >= s.Config.MaxLines
	c := Call{
		ID: in.ID, Interaction: string(in.ID), Direction: DirectionInbound, State: CallStateOffered,
		Role: RolePrimary, Remote: in.Remote, DialedNumber: in.DialedNumber, Queue: in.Queue, CreatedAt: st.now,
	}
	if s.Config.RingTimeout > 0 {
		c.RingDeadline = st.now.Add(s.Config.RingTimeout)
	}
	s.Calls = append(s.Calls, c)
	st.newInteraction(&c)
	switch {
	case s.Presence.Presence == PresenceDND:
		st.emit(RejectCall{ID: in.ID, Code: sipBusyHere})
		st.endCall(in.ID, CauseDND, "")
	case linesFull:
		st.emit(RejectCall{ID: in.ID, Code: sipBusyHere})
		st.endCall(in.ID, CauseLinesBusy, "")
		st.notice(NoticeWarning, in.ID, "", "Call from %s rejected: all lines in use", in.Remote.Label())
	default:
		st.emit(LookupCaller{Key: string(in.ID), Number: in.Remote.Number})
	}
}

func (st *stepper) callProgress(in CallProgress) {
	c := st.s.Call(in.ID)
	if c == nil || c.Direction != DirectionOutbound || (c.State != CallStateDialing && c.State != CallStateRinging) {
		return
	}
	c.State = CallStateRinging
	c.EarlyMedia = c.EarlyMedia || in.EarlyMedia
}

func (st *stepper) callAnswered(id CallID) {
	s := st.s
	c := s.Call(id)
	if c == nil || c.State.Connected() {
		return
	}
	inbound := c.State == CallStateOffered
	c.State = CallStateActive
	c.AnsweredAt = st.now
	c.Answering = false
	c.RingDeadline = time.Time{}
	c.EarlyMedia = false
	ix := s.Interaction(c.Interaction)
	ix.Connected = true
	if ix.AnsweredAt.IsZero() {
		ix.AnsweredAt = st.now
	}
	if inbound {
		s.Missed = 0
	}
	// Never two un-held calls: the call the agent last acted on keeps the
	// headset; a call that connects while the agent is busy elsewhere waits
	// on hold.
	if s.Focus == id || s.Focus == "" {
		s.Focus = id
		st.holdOthers([]CallID{id})
	} else {
		for i := range s.Calls {
			if o := &s.Calls[i]; o.ID != id && o.State == CallStateActive {
				st.holdLeg(c)
				st.notice(NoticeInfo, id, "", "%s answered and is on hold", c.Remote.Label())
				break
			}
		}
	}
	if c.Role == RolePrimary {
		st.maybePop(ix)
	}
	if s.Config.Recording == RecordPolicyAuto && ix.Recording == RecordingOff {
		st.startRecording(ix)
	}
}

func (st *stepper) callFailed(in CallFailed) {
	c := st.s.Call(in.ID)
	if c == nil {
		return
	}
	cause := in.Cause
	if cause == CauseUnknown {
		cause = CauseFailed
	}
	label := c.Remote.Label()
	consult := c.Role == RoleConsult
	st.endCall(in.ID, cause, in.Reason)
	if consult {
		st.notice(NoticeError, in.ID, "", "Consultation with %s failed: %s. The caller is still on hold", label, cause.Message())
		return
	}
	st.emit(Notice{Kind: NoticeError, Message: cause.Message(), CallID: in.ID, Cause: cause})
}

func (st *stepper) callEnded(in CallEnded) {
	c := st.s.Call(in.ID)
	if c == nil {
		return
	}
	cause := in.Cause
	label := c.Remote.Label()
	switch c.State {
	case CallStateOffered:
		if cause != CauseRingTimeout {
			cause = CauseMissed
		}
		st.endCall(in.ID, cause, in.Reason)
		st.emit(Notice{Kind: NoticeWarning, Message: fmt.Sprintf("Missed call from %s", label), CallID: in.ID, Cause: cause})
	case CallStateDialing, CallStateRinging:
		if !cause.Failure() {
			cause = CauseFailed
		}
		in.Cause = cause
		st.callFailed(CallFailed(in))
	case CallStateActive, CallStateHeld:
		if cause == CauseUnknown {
			cause = CauseRemoteHangup
		}
		consult := c.Role == RoleConsult
		st.endCall(in.ID, cause, in.Reason)
		if consult {
			st.notice(NoticeInfo, in.ID, "", "%s hung up: the caller is still on hold", label)
		}
	case CallStateUnknown, CallStateEnded:
	}
}

func (st *stepper) holdFailed(in HoldFailed) {
	c := st.s.Call(in.ID)
	if c == nil {
		return
	}
	if in.On {
		// The leg stays held here: its audio is no longer routed, so the far
		// end hears silence instead of the agent even though the signalling
		// failed.
		st.notice(NoticeWarning, in.ID, "", "The phone system refused to hold the call (%s); the caller hears silence", orUnknown(in.Reason))
		return
	}
	st.notice(NoticeWarning, in.ID, "", "The phone system refused to resume the call (%s); audio may not flow", orUnknown(in.Reason))
}

func (st *stepper) transferResult(in TransferResult) {
	s := st.s
	c := s.Call(in.ID)
	if c == nil || c.Transfer == TransferNone {
		return
	}
	kind := c.Transfer
	ix := s.Interaction(c.Interaction)
	var legs []CallID
	for i := range s.Calls {
		if s.Calls[i].Interaction == ix.Key && s.Calls[i].Transfer != TransferNone {
			legs = append(legs, s.Calls[i].ID)
		}
	}
	if !in.OK {
		for _, id := range legs {
			s.Call(id).Transfer = TransferNone
		}
		st.addHistory(ix, "transfer-failed", in.ID, "", in.Reason)
		st.notice(NoticeError, in.ID, "", "Transfer failed: %s", orUnknown(in.Reason))
		return
	}
	st.addHistory(ix, "transferred", in.ID, "", kind.String())
	for _, id := range legs {
		st.emit(HangupCall{ID: id})
		st.endCall(id, CauseTransferred, "")
	}
	st.notice(NoticeInfo, in.ID, "", "Call transferred")
}

func (st *stepper) callLogFailed(in CallLogFailed) {
	for i := range st.s.PendingLogs {
		p := &st.s.PendingLogs[i]
		if p.Log.Key != in.Key {
			continue
		}
		p.Saving = false
		p.Attempts++
		p.LastError = in.Reason
		backoff := st.s.Config.LogRetryInterval
		for n := 1; n < p.Attempts && backoff < maxLogBackoff; n++ {
			backoff *= 2
		}
		p.RetryAt = st.now.Add(min(backoff, maxLogBackoff))
		if p.Attempts == 1 {
			st.notice(NoticeError, "", in.Key, "The call log could not be saved (%s); it is kept and retried", orUnknown(in.Reason))
		}
		return
	}
}

func (st *stepper) timerFired(t Timer) {
	s := st.s
	switch t.Kind {
	case TimerRing:
		c := s.Call(CallID(t.Key))
		if c == nil || c.State != CallStateOffered || c.Answering || c.RingDeadline.IsZero() || st.now.Before(c.RingDeadline) {
			return // stale
		}
		label := c.Remote.Label()
		st.emit(RejectCall{ID: c.ID, Code: sipUnavailable})
		st.endCall(c.ID, CauseRingTimeout, "")
		st.emit(Notice{Kind: NoticeWarning, Message: fmt.Sprintf("Missed call from %s: not answered in time", label), CallID: CallID(t.Key), Cause: CauseRingTimeout})
	case TimerWrapUp:
		ix := s.Interaction(t.Key)
		if ix == nil || ix.Phase != PhaseWrapUp || ix.WrapDeadline.IsZero() || ix.Overdue || st.now.Before(ix.WrapDeadline) {
			return
		}
		if ix.Outcome == "" {
			ix.Outcome = s.Config.DefaultOutcome
		}
		if ix.Outcome == "" && s.Config.OutcomeRequired {
			ix.Overdue = true
			st.notice(NoticeWarning, "", ix.Key, "Wrap-up time is up: choose an outcome to finish")
			return
		}
		st.finalize(ix.Key)
	case TimerLogRetry:
		for i := range s.PendingLogs {
			p := &s.PendingLogs[i]
			if p.Log.Key == t.Key && !p.Saving && !p.RetryAt.IsZero() && !st.now.Before(p.RetryAt) {
				p.Saving = true
				p.RetryAt = time.Time{}
				st.emit(SaveCallLog{Log: p.Log.Clone()})
			}
		}
	case TimerUnknown:
	}
}

func (st *stepper) effectFailed(in EffectFailed) {
	r := orUnknown(in.Reason)
	switch e := in.Effect.(type) {
	case Register:
		st.registrationChanged(RegistrationChanged{State: RegFailed, Reason: r})
	case DialCall:
		st.callFailed(CallFailed{ID: e.ID, Cause: CauseFailed, Reason: r})
	case AnswerCall:
		if c := st.s.Call(e.ID); c != nil && c.State == CallStateOffered {
			label := c.Remote.Label()
			st.endCall(e.ID, CauseFailed, r)
			st.notice(NoticeError, e.ID, "", "Could not answer the call from %s: %s", label, r)
		}
	case HoldCall:
		st.holdFailed(HoldFailed{ID: e.ID, On: e.On, Reason: r})
	case TransferCall:
		st.transferResult(TransferResult{ID: e.ID, OK: false, Reason: r})
	case TransferToCall:
		st.transferResult(TransferResult{ID: e.ID, OK: false, Reason: r})
	case RecordCalls:
		if e.Action != RecordStop {
			st.recordingFailed(e.Key, r)
		}
	case PlayAnnouncementEffect:
		st.announcementDone(AnnouncementDone{ID: e.ID, Reason: r})
	case LookupCaller:
		st.callerMatched(CallerMatched{Key: e.Key, Err: r})
	case SaveCallLog:
		st.callLogFailed(CallLogFailed{Key: e.Log.Key, Reason: r})
	case SendDigits:
		st.notice(NoticeError, e.ID, "", "The digits could not be sent: %s", r)
	case ScreenPop, ScreenPopNew:
		st.notice(NoticeError, "", "", "The CRM record could not be opened: %s", r)
	case Unregister, RejectCall, RedirectCall, HangupCall:
		st.notice(NoticeWarning, "", "", "The phone system reported a problem: %s", r)
	case SetRinger, SetRingback, SetAudioRoute, SetMute:
		st.notice(NoticeError, "", "", "Audio problem: %s", r)
	case StartTimer, CancelTimer, Notice, nil:
	default:
		st.notice(NoticeError, "", "", "internal error: %s", r)
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown reason"
	}
	return s
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
