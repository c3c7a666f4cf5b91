package domain

import (
	"strings"
	"testing"
)

func TestDTMFReceived(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		setup  func(h *harness)
		inputs []DTMFReceived
		want   string // DigitsReceived after the inputs
	}{
		{"digits on an active call", func(h *harness) { h.inbound("c1", "+4930111") },
			[]DTMFReceived{{ID: "c1", Digit: "4"}, {ID: "c1", Digit: "2"}, {ID: "c1", Digit: "#"}}, "42#"},
		{"lowercase letters are upper-cased", func(h *harness) { h.inbound("c1", "1") },
			[]DTMFReceived{{ID: "c1", Digit: "a"}, {ID: "c1", Digit: "D"}}, "AD"},
		{"malformed digits are ignored", func(h *harness) { h.inbound("c1", "1") },
			[]DTMFReceived{{ID: "c1", Digit: ""}, {ID: "c1", Digit: "12"}, {ID: "c1", Digit: "x"}, {ID: "c1", Digit: "5"}}, "5"},
		{"a held call still records", func(h *harness) { h.inbound("c1", "1"); h.do(Hold{ID: "c1"}) },
			[]DTMFReceived{{ID: "c1", Digit: "9"}}, "9"},
		{"an unknown call is ignored", func(h *harness) { h.inbound("c1", "1") },
			[]DTMFReceived{{ID: "zz", Digit: "1"}}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tt.setup(h)
			for _, in := range tt.inputs {
				if eff := h.do(in); len(eff) != 0 {
					t.Fatalf("effects %q for %+v", eff, in)
				}
			}
			if got := h.call("c1").DigitsReceived; got != tt.want {
				t.Fatalf("digits %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDTMFReceivedIgnoredWhileRinging(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "1"}})
	h.do(DTMFReceived{ID: "c1", Digit: "1"})
	if got := h.call("c1").DigitsReceived; got != "" {
		t.Fatalf("digits %q on a ringing call", got)
	}
}

func TestDTMFReceivedBoundedAndMaskedInLog(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "+4930111")
	for i := 0; i < MaxDigitsReceived+8; i++ {
		h.do(DTMFReceived{ID: "c1", Digit: string("0123456789"[i%10])})
	}
	got := h.call("c1").DigitsReceived
	if len(got) != MaxDigitsReceived || !strings.HasSuffix(got, "6789") {
		t.Fatalf("kept %q", got)
	}
	h.do(CallEnded{ID: "c1", Cause: CauseRemoteHangup})
	h.do(CompleteWrapUp{Key: "c1"})
	l := h.log("c1")
	if len(l.History) != 1 || l.History[0].Action != "dtmf-received" || l.History[0].CallID != "c1" ||
		!strings.Contains(l.History[0].Detail, "at least 32 digits") {
		t.Fatalf("history %+v", l.History)
	}
	for _, e := range l.History {
		if strings.ContainsAny(e.Detail+e.Target, "0123456789#*") && !strings.Contains(e.Detail, "32") {
			t.Fatalf("digits leaked into the log: %+v", e)
		}
	}
}

func TestDTMFReceivedCountInLog(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.inbound("c1", "+4930111")
	for _, d := range "1234" {
		h.do(DTMFReceived{ID: "c1", Digit: string(d)})
	}
	h.do(CallEnded{ID: "c1", Cause: CauseRemoteHangup})
	h.do(CompleteWrapUp{Key: "c1"})
	l := h.log("c1")
	if len(l.History) != 1 || l.History[0].Detail != "4 digits keyed by the other party (not recorded)" {
		t.Fatalf("history %+v", l.History)
	}
	if strings.Contains(l.History[0].Detail, "1234") {
		t.Fatal("digits in the log")
	}
}

func TestRemotePartyChanged(t *testing.T) {
	t.Parallel()
	transferred := Party{Number: "+4930999", Name: "Carol"}
	for _, tt := range []struct {
		name       string
		setup      func(h *harness)
		id         CallID
		party      Party
		effects    []string
		callRemote Party
		ixRemote   Party
		history    []string // Action:Target:Detail
	}{
		{"customer leg replaced by someone else",
			func(h *harness) { h.inbound("c1", "+4930111") }, "c1", transferred,
			[]string{"Lookup c1"}, transferred, transferred, []string{"remote-changed:+4930111:"}},
		{"a name for the same number",
			func(h *harness) { h.inbound("c1", "+4930111") }, "c1", Party{Number: "+4930111", Name: "Bob"},
			nil, Party{Number: "+4930111", Name: "Bob"}, Party{Number: "+4930111", Name: "Bob"}, nil},
		{"the same party again",
			func(h *harness) { h.inbound("c1", "+4930111") }, "c1", Party{Number: "+4930111"},
			nil, Party{Number: "+4930111"}, Party{Number: "+4930111"}, nil},
		{"an empty party is ignored",
			func(h *harness) { h.inbound("c1", "+4930111") }, "c1", Party{Number: "  "},
			nil, Party{Number: "+4930111"}, Party{Number: "+4930111"}, nil},
		{"a withheld number",
			func(h *harness) { h.inbound("c1", "+4930111") }, "c1", Party{Name: "Reception"},
			nil, Party{Name: "Reception"}, Party{Name: "Reception"}, []string{"remote-changed:+4930111:"}},
		{"outbound call, name of the dialled number",
			func(h *harness) { h.outbound("c1", "201") }, "c1", Party{Number: "201", Name: "Dave"},
			nil, Party{Number: "201", Name: "Dave"}, Party{Number: "201", Name: "Dave"}, nil},
		{"a ringing call is not changed",
			func(h *harness) { h.do(CallOffered{ID: "c1", Remote: Party{Number: "+4930111"}}) }, "c1", transferred,
			nil, Party{Number: "+4930111"}, Party{Number: "+4930111"}, nil},
		{"a consult leg changes only the leg",
			func(h *harness) {
				h.inbound("c1", "+4930111")
				h.do(ConsultStart{ID: "c1", NewID: "k1", Target: "201"})
				h.do(CallAnswered{ID: "k1"})
			}, "k1", transferred,
			nil, transferred, Party{Number: "+4930111"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			tt.setup(h)
			eff := h.do(RemotePartyChanged{ID: tt.id, Party: tt.party})
			if tt.effects == nil {
				wantNot(t, eff, "Lookup")
			} else {
				want(t, eff, tt.effects...)
			}
			if got := h.call(tt.id).Remote; got != tt.callRemote {
				t.Fatalf("call remote %+v, want %+v", got, tt.callRemote)
			}
			ix := h.ix("c1")
			if ix.Remote != tt.ixRemote {
				t.Fatalf("interaction remote %+v, want %+v", ix.Remote, tt.ixRemote)
			}
			var hist []string
			for _, e := range ix.History {
				if e.Action == "remote-changed" {
					hist = append(hist, e.Action+":"+e.Target+":"+e.Detail)
				}
			}
			if strings.Join(hist, ",") != strings.Join(tt.history, ",") {
				t.Fatalf("history %q, want %q", hist, tt.history)
			}
		})
	}
}

// The CRM match follows the new party: the old record is dropped, the new
// lookup's single match pops, and the call log names the final party with
// the original customer in its history.
func TestRemotePartyChangedRematchesAndLogsFinalParty(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "+4930111"}})
	h.do(CallerMatched{Key: "c1", Records: []CRMRecord{{ID: "r-old", Name: "Old Customer"}}})
	h.do(Answer{ID: "c1"})
	h.do(CallAnswered{ID: "c1"})
	if ix := h.ix("c1"); ix.RecordID != "r-old" || !ix.Popped {
		t.Fatalf("before: %+v", ix)
	}
	want(t, h.do(RemotePartyChanged{ID: "c1", Party: Party{Number: "+4930999"}}), "Lookup c1")
	wantNotice(t, h, "Now connected to +4930999")
	if ix := h.ix("c1"); ix.RecordID != "" || ix.Match != MatchPending || len(ix.Matches) != 0 || ix.Popped {
		t.Fatalf("after change: %+v", ix)
	}
	// The first lookup answers late: it is for the old number and is
	// ignored, so the old record does not come back.
	wantNot(t, h.do(CallerMatched{Key: "c1", Number: "+4930111", Records: []CRMRecord{{ID: "r-old", Name: "Old Customer"}}}), "Pop")
	if ix := h.ix("c1"); ix.Match != MatchPending || len(ix.Matches) != 0 {
		t.Fatalf("a stale lookup applied: %+v", ix)
	}
	// The new party's number in another spelling (a re-lookup after the
	// agent created a contact) is not stale.
	eff := h.do(CallerMatched{Key: "c1", Number: "+49 30 999", Records: []CRMRecord{{ID: "r-new", Name: "New Person"}}})
	want(t, eff, "Pop c1 r-new")
	if c := h.call("c1"); c.Remote.Name != "New Person" {
		t.Fatalf("call remote %+v", c.Remote)
	}
	h.do(CallEnded{ID: "c1", Cause: CauseRemoteHangup})
	h.do(CompleteWrapUp{Key: "c1"})
	l := h.log("c1")
	if l.Remote.Number != "+4930999" || l.Remote.Name != "New Person" || l.RecordID != "r-new" {
		t.Fatalf("log remote %+v record %q", l.Remote, l.RecordID)
	}
	if len(l.History) != 1 || l.History[0].Action != "remote-changed" || l.History[0].Target != "+4930111" ||
		l.History[0].Detail != "Old Customer" {
		t.Fatalf("history %+v", l.History)
	}
	if len(l.Legs) != 1 || l.Legs[0].Remote.Number != "+4930999" {
		t.Fatalf("legs %+v", l.Legs)
	}
}

// A record the agent chose from an earlier lookup is dropped when a later
// lookup does not return it.
func TestCallerMatchedDropsStaleRecord(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do(CallOffered{ID: "c1", Remote: Party{Number: "+4930111"}})
	h.do(CallerMatched{Key: "c1", Records: []CRMRecord{{ID: "r1"}, {ID: "r2"}}})
	h.do(ChooseRecord{Key: "c1", RecordID: "r2"})
	h.do(CallerMatched{Key: "c1", Records: nil})
	if ix := h.ix("c1"); ix.RecordID != "" || ix.Match != MatchNone {
		t.Fatalf("%+v", ix)
	}
}
