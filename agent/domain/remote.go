package domain

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxDigitsReceived bounds Call.DigitsReceived: older digits are dropped.
const MaxDigitsReceived = 32

// maxPartyField bounds a Party field an adapter reports.
const maxPartyField = 256

// dtmfReceived appends a digit the far end keyed to its live call.
func (st *stepper) dtmfReceived(in DTMFReceived) {
	c := st.s.Call(in.ID)
	d := strings.ToUpper(in.Digit)
	if c == nil || !c.State.Connected() || len(d) != 1 || !ValidDTMF(d) {
		return // a late or malformed report: nothing to show
	}
	c.DigitsReceived += d
	if n := len(c.DigitsReceived); n > MaxDigitsReceived {
		c.DigitsReceived = c.DigitsReceived[n-MaxDigitsReceived:]
	}
}

// maskedDigits is what the call log says about digits the caller keyed:
// how many, never which (they may be a PIN).
func maskedDigits(d string) string {
	if len(d) >= MaxDigitsReceived {
		return fmt.Sprintf("at least %d digits keyed by the other party (not recorded)", len(d))
	}
	if len(d) == 1 {
		return "1 digit keyed by the other party (not recorded)"
	}
	return fmt.Sprintf("%d digits keyed by the other party (not recorded)", len(d))
}

// remotePartyChanged puts the party now connected on the call. On the
// interaction's first leg (the customer leg) it also becomes the
// interaction's party, so the header, the call log and the CRM log name
// the party the agent actually talked to last. When the number changes,
// the history records the previous party ("remote-changed": Target its
// number, Detail its name) and the CRM lookup runs again for the new
// number: the earlier match and any record chosen from it are dropped and
// the new party's record may pop.
func (st *stepper) remotePartyChanged(in RemotePartyChanged) {
	c := st.s.Call(in.ID)
	p := Party{Number: clip(strings.TrimSpace(in.Party.Number)), Name: clip(strings.TrimSpace(in.Party.Name))}
	if c == nil || !c.State.Connected() || (p.Number == "" && p.Name == "") || p == c.Remote {
		return
	}
	c.Remote = p
	ix := st.s.Interaction(c.Interaction)
	if ix == nil || string(c.ID) != ix.Key {
		return // a consult or conference leg: only the leg shows the party
	}
	prev := ix.Remote
	ix.Remote = p
	if p.Number == prev.Number {
		return // the same number with a (new) name
	}
	st.addHistory(ix, "remote-changed", c.ID, prev.Number, prev.Name)
	ix.Matches, ix.RecordID, ix.Popped = nil, "", false
	if p.Number == "" {
		ix.Match = MatchNone
	} else {
		ix.Match = MatchPending
		st.emit(LookupCaller{Key: ix.Key, Number: p.Number})
	}
	st.notice(NoticeInfo, c.ID, ix.Key, "Now connected to %s", p.Label())
}

// clip bounds an adapter-supplied text without splitting a character.
func clip(s string) string {
	if len(s) <= maxPartyField {
		return s
	}
	s = s[:maxPartyField]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
