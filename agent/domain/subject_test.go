package domain

import "testing"

func TestCallSubjectReachesTheLog(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, subject string
	}{
		{"set", "Support hotline"},
		{"unset: the CRM's own subject", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *Config) { c.CallSubject = tc.subject })
			h.inbound("c1", "1")
			h.do(Hangup{ID: "c1"})
			want(t, h.do(CompleteWrapUp{Key: "c1"}), "SaveLog c1")
			if l := h.log("c1"); l.Subject != tc.subject {
				t.Fatalf("subject %q, want %q", l.Subject, tc.subject)
			}
			// A call that never connected is logged at once, with it too.
			h.do(CallOffered{ID: "c2", Remote: Party{Number: "2"}})
			h.do(Hangup{ID: "c2"})
			if l := h.log("c2"); l.Subject != tc.subject {
				t.Fatalf("missed call's subject %q, want %q", l.Subject, tc.subject)
			}
		})
	}
}
