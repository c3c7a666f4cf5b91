package domain

import (
	"slices"
	"testing"
)

func TestReconfigure(t *testing.T) {
	t.Parallel()
	notes := []QuickNote{{Name: "vip", Text: "VIP customer."}}
	for _, tc := range []struct {
		name  string
		setup func(h *harness)
		in    Reconfigure
		check func(t *testing.T, h *harness)
	}{
		{
			name: "outcomes, quick notes, screen pop and subject change live; the rest stays",
			in:   Reconfigure{Outcomes: []string{"Won", "Lost"}, QuickNotes: notes, ScreenPop: ScreenPopNever, CallSubject: "Hotline"},
			check: func(t *testing.T, h *harness) {
				c := h.s.Config
				if !slices.Equal(c.Outcomes, []string{"Won", "Lost"}) || !slices.Equal(c.QuickNotes, notes) ||
					c.ScreenPop != ScreenPopNever || c.CallSubject != "Hotline" {
					t.Fatalf("config %+v", c)
				}
				if want := testConfig().Normalize(); c.MaxLines != want.MaxLines || c.WrapUpTime != want.WrapUpTime {
					t.Fatalf("other fields changed: %+v", c)
				}
				// The new outcomes apply to the next choice.
				h.inbound("c1", "1")
				h.do(Hangup{ID: "c1"})
				h.do(SetOutcome{Key: "c1", Outcome: "Sale"})
				wantNotice(t, h, "from the list")
				h.do(SetOutcome{Key: "c1", Outcome: "Won"})
				h.do(AddQuickNote{Key: "c1", Name: "vip"})
				want(t, h.do(CompleteWrapUp{Key: "c1"}), "SaveLog c1")
				if l := h.log("c1"); l.Outcome != "Won" || l.Notes != "VIP customer." || l.Subject != "Hotline" {
					t.Fatalf("log %+v", l)
				}
			},
		},
		{
			name: "unknown screen pop keeps the policy; a default outcome not in the new list is dropped",
			setup: func(h *harness) {
				h.s.Config.DefaultOutcome = "Sale"
			},
			in: Reconfigure{Outcomes: []string{"Won"}},
			check: func(t *testing.T, h *harness) {
				if h.s.Config.ScreenPop != ScreenPopAtRinging || h.s.Config.DefaultOutcome != "" {
					t.Fatalf("config %+v", h.s.Config)
				}
			},
		},
		{
			name: "a wrap-up in progress keeps its outcome and notes",
			setup: func(h *harness) {
				h.inbound("c1", "1")
				h.do(Hangup{ID: "c1"})
				h.do(SetOutcome{Key: "c1", Outcome: "Sale"})
				h.do(SetNotes{Key: "c1", Notes: "typed"})
			},
			in: Reconfigure{Outcomes: []string{"Won"}},
			check: func(t *testing.T, h *harness) {
				if ix := h.ix("c1"); ix.Outcome != "Sale" || ix.Notes != "typed" {
					t.Fatalf("interaction %+v", ix)
				}
				want(t, h.do(CompleteWrapUp{Key: "c1"}), "SaveLog c1")
			},
		},
		{
			name:  "signed out: ignored",
			setup: func(h *harness) { h.do(Logout{}) },
			in:    Reconfigure{Outcomes: []string{"Won"}, CallSubject: "x"},
			check: func(t *testing.T, h *harness) {
				if h.s.SignedIn() || h.s.Config.CallSubject != "" || slices.Equal(h.s.Config.Outcomes, []string{"Won"}) {
					t.Fatalf("config changed while signed out: %+v", h.s.Config)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			if tc.setup != nil {
				tc.setup(h)
			}
			wantNot(t, h.do(tc.in), "")
			tc.check(t, h)
		})
	}
}
