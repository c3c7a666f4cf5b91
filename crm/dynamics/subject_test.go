package dynamics_test

import (
	"strings"
	"testing"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/dynamicsemu"
)

// The agent's call subject becomes the phone call's subject (trimmed, cut
// to 200 characters at a character boundary, the length the emulator
// enforces as Dataverse does); without one the connector's own text stays.
func TestPhoneCallSubjectFromCallLog(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, nil)
	s := f.signIn(t, "alice")
	for _, tc := range []struct{ key, subject, want string }{
		{"k-set", "  Billing question \n", "Billing question"},
		{"k-long", strings.Repeat("ü", 199) + "😀", strings.Repeat("ü", 199)}, // the emoji is two UTF-16 units
		{"k-none", "", "Inbound call from +14155551212"},
		{"k-blank", " \t ", "Inbound call from +14155551212"},
	} {
		l := callLog("alice", "c-"+tc.key)
		l.Subject = tc.subject
		res, err := s.LogCalls(ctx(t), []crm.LogItem{{Key: tc.key, AgentID: "alice", Log: l}})
		if err != nil || len(res) != 1 || res[0].Err != nil {
			t.Fatalf("%s: %+v %v", tc.key, res, err)
		}
		pc, ok := f.emu.PhoneCall(dynamics.ActivityID(tc.key))
		if !ok {
			t.Fatalf("%s: no phone call", tc.key)
		}
		if pc.Subject != tc.want {
			t.Errorf("%s: subject %q, want %q", tc.key, pc.Subject, tc.want)
		}
	}
}
