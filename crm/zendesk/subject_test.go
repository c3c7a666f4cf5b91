package zendesk_test

import (
	"strings"
	"testing"

	"github.com/callcentre/softphone/crm/zendeskemu"
)

// The agent's call subject becomes the ticket's subject (trimmed, cut to
// 255 characters at a character boundary); without one the connector's
// own text stays. The comment still says what kind of call it was.
func TestTicketSubjectFromCallLog(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	s := f.signIn(t, "alice")
	for _, tc := range []struct{ key, subject, want string }{
		{"k-set", "  Billing question \n", "Billing question"},
		{"k-long", strings.Repeat("ç", 254) + "😀", strings.Repeat("ç", 254)}, // the emoji is two UTF-16 units
		{"k-none", "", "Inbound call from +14155551212"},
		{"k-blank", " \t ", "Inbound call from +14155551212"},
	} {
		l := callLog("alice", "c-"+tc.key)
		l.Subject = tc.subject
		if r := logOne(t, s, item("alice", tc.key, false, l)); r.Err != nil {
			t.Fatalf("%s: %v", tc.key, r.Err)
		}
		tks := f.emu.TicketsByExternalID(tc.key)
		if len(tks) != 1 {
			t.Fatalf("%s: %d tickets", tc.key, len(tks))
		}
		if tks[0].Subject != tc.want {
			t.Errorf("%s: subject %q, want %q", tc.key, tks[0].Subject, tc.want)
		}
		if !strings.HasPrefix(tks[0].Comment, "Inbound call\n") {
			t.Errorf("%s: comment %q", tc.key, tks[0].Comment)
		}
	}
}
