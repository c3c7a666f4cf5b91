package domain

import (
	"errors"
	"fmt"
	"slices"
)

// CheckInvariants reports every rule the state breaks. Step must never
// produce a state that breaks one; the fuzz test and the actor's debug mode
// call it after every step.
func CheckInvariants(s *State) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if !s.SignedIn() {
		if len(s.Calls) > 0 || len(s.Interactions) > 0 {
			bad("offline with %d calls and %d interactions", len(s.Calls), len(s.Interactions))
		}
		if s.Next != nil {
			bad("offline with a next status")
		}
		if s.Registration.State == RegRegistered || s.Registration.State == RegRegistering {
			bad("offline but registration %s", s.Registration.State)
		}
	}
	if s.Next != nil && !s.Busy() {
		bad("next status %v pending while not busy", s.Next.Presence)
	}
	if s.Presence.Presence == PresenceAutoPaused && s.Presence.Reason != AutoPauseReason {
		bad("auto-paused with reason %q", s.Presence.Reason)
	}
	if s.SignedIn() && len(s.Calls) > s.Config.MaxLines {
		bad("%d calls exceed %d lines", len(s.Calls), s.Config.MaxLines)
	}

	// Never two un-held active calls, unless they are one conference.
	var active []*Call
	for i := range s.Calls {
		if s.Calls[i].State == CallStateActive {
			active = append(active, &s.Calls[i])
		}
	}
	if len(active) > 1 {
		for _, c := range active {
			if !c.Conference || c.Interaction != active[0].Interaction {
				bad("%d un-held active calls outside one conference", len(active))
				break
			}
		}
	}

	seen := map[CallID]bool{}
	for i := range s.Calls {
		c := &s.Calls[i]
		if seen[c.ID] {
			bad("call %s listed twice", c.ID)
		}
		seen[c.ID] = true
		switch c.State {
		case CallStateOffered, CallStateDialing, CallStateRinging, CallStateActive, CallStateHeld:
		case CallStateUnknown, CallStateEnded:
			bad("live call %s in state %s", c.ID, c.State)
		}
		if c.State == CallStateOffered && c.Direction != DirectionInbound {
			bad("outbound call %s offered", c.ID)
		}
		if (c.State == CallStateDialing || c.State == CallStateRinging) && c.Direction != DirectionOutbound {
			bad("inbound call %s dialing", c.ID)
		}
		if c.State.Connected() && c.AnsweredAt.IsZero() {
			bad("connected call %s without answer time", c.ID)
		}
		if c.State == CallStateHeld && c.HeldAt.IsZero() {
			bad("held call %s without hold time", c.ID)
		}
		if len(c.DigitsReceived) > MaxDigitsReceived || (c.DigitsReceived != "" && !ValidDTMF(c.DigitsReceived)) {
			bad("call %s keeps %d received digits or invalid ones", c.ID, len(c.DigitsReceived))
		}
		if c.Conference && !c.State.Connected() {
			bad("conference member %s not connected", c.ID)
		}
		ix := s.Interaction(c.Interaction)
		if ix == nil {
			bad("call %s belongs to missing interaction %s", c.ID, c.Interaction)
			continue
		}
		if !slices.Contains(ix.Live, c.ID) {
			bad("call %s missing from interaction %s", c.ID, ix.Key)
		}
		if c.Conference && !ix.Conference {
			bad("call %s in a conference its interaction does not have", c.ID)
		}
	}

	keys := map[string]bool{}
	for i := range s.Interactions {
		ix := &s.Interactions[i]
		if keys[ix.Key] {
			bad("interaction %s listed twice", ix.Key)
		}
		keys[ix.Key] = true
		switch ix.Phase {
		case PhaseLive:
			if len(ix.Live) == 0 {
				bad("live interaction %s without live calls", ix.Key)
			}
		case PhaseWrapUp:
			if len(ix.Live) > 0 {
				bad("interaction %s in wrap-up with %d live calls", ix.Key, len(ix.Live))
			}
			if !ix.Connected {
				bad("interaction %s in wrap-up but never connected", ix.Key)
			}
		case PhaseUnknown:
			bad("interaction %s without phase", ix.Key)
		}
		for _, id := range ix.Live {
			if c := s.Call(id); c == nil || c.Interaction != ix.Key {
				bad("interaction %s lists call %s that is not its live call", ix.Key, id)
			}
		}
		if (ix.Recording == RecordingOn || ix.Recording == RecordingPaused) && ix.Phase != PhaseLive {
			bad("interaction %s recording after its calls ended", ix.Key)
		}
		members := 0
		for _, id := range ix.Live {
			if c := s.Call(id); c != nil && c.Conference {
				members++
			}
		}
		if ix.Conference && members < 2 {
			bad("conference %s with %d members", ix.Key, members)
		}
		if members+1 > s.Config.MaxConference {
			bad("conference %s has %d parties, more than %d", ix.Key, members+1, s.Config.MaxConference)
		}
	}
	for _, p := range s.PendingLogs {
		if keys[p.Log.Key] {
			bad("interaction %s both live and logged", p.Log.Key)
		}
	}
	return errors.Join(errs...)
}
