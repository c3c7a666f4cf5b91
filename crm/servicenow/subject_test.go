package servicenow_test

import (
	"strings"
	"testing"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/servicenowemu"
)

// The agent's call subject becomes the interaction's short_description
// (trimmed, cut to 160 characters at a character boundary); without one
// the connector's own text stays.
func TestShortDescriptionFromCallLog(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{}, nil)
	s := f.signIn(t, "alice")
	for _, tc := range []struct{ key, subject, want string }{
		{"k-set", "  Billing question \n", "Billing question"},
		{"k-long", strings.Repeat("ø", 159) + "😀", strings.Repeat("ø", 159)}, // the emoji is two UTF-16 units
		{"k-none", "", "Inbound call from +14155551212"},
		{"k-blank", " \t ", "Inbound call from +14155551212"},
	} {
		l := callLog("alice", "c-"+tc.key)
		l.Subject = tc.subject
		res, err := s.LogCalls(ctx(t), []crm.LogItem{{Key: tc.key, AgentID: "alice", Log: l}})
		if err != nil || res[0].Err != nil {
			t.Fatalf("%s: %+v %v", tc.key, res, err)
		}
		rows := f.emu.InteractionsByKey(tc.key)
		if len(rows) != 1 {
			t.Fatalf("%s: %d interactions", tc.key, len(rows))
		}
		if got := rows[0]["short_description"]; got != tc.want {
			t.Errorf("%s: short_description %q, want %q", tc.key, got, tc.want)
		}
	}
}
