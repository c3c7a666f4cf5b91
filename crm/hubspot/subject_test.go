package hubspot_test

import (
	"strings"
	"testing"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/hubspotemu"
)

// The agent's call subject becomes hs_call_title (trimmed, cut to 255
// characters at a character boundary); without one the connector's own
// title stays. One batch upsert carries all four.
func TestCallTitleFromCallLog(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, nil)
	s := f.signIn(t)
	cases := []struct{ key, subject, want string }{
		{"k-set", "  Billing question \n", "Billing question"},
		{"k-long", strings.Repeat("ж", 254) + "😀", strings.Repeat("ж", 254)}, // the emoji is two UTF-16 units
		{"k-none", "", "Inbound call from Carol"},
		{"k-blank", " \t ", "Inbound call from Carol"},
	}
	var items []crm.LogItem
	for _, tc := range cases {
		l := callLog(tc.key)
		l.Subject = tc.subject
		items = append(items, item(l))
	}
	res, err := s.LogCalls(ctx(t), items)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range cases {
		if res[i].Err != nil {
			t.Fatalf("%s: %v", tc.key, res[i].Err)
		}
		c, _, ok := f.emu.CallByKey(tc.key)
		if !ok {
			t.Fatalf("%s: no call engagement", tc.key)
		}
		if got := c.Properties["hs_call_title"]; got != tc.want {
			t.Errorf("%s: hs_call_title %q, want %q", tc.key, got, tc.want)
		}
	}
}
