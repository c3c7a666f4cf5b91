package salesforce_test

import (
	"strings"
	"testing"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/sfemu"
)

// The agent's call subject becomes the Task's Subject (trimmed, cut to 255
// characters at a character boundary); without one the connector's own
// text stays. Both the one-by-one upsert and a Collections batch are
// checked against the emulator, which enforces the field's length.
func TestTaskSubjectFromCallLog(t *testing.T) {
	f := newFixture(t, sfemu.Config{}, nil)
	s := f.signIn(t, "alice")
	long := strings.Repeat("é", 250) + "😀😀😀"
	cases := []struct{ key, subject, want string }{
		{"k-set", "  Billing question \n", "Billing question"},
		{"k-long", long, strings.Repeat("é", 250) + "😀😀"}, // 250 + 2*2 units; the third emoji would make 256
		{"k-none", "", "Inbound call from +14155551212"},
		{"k-blank", " \t ", "Inbound call from +14155551212"},
	}
	var batch []crm.LogItem
	for _, tc := range cases {
		l := callLog("alice", "c-"+tc.key)
		l.Subject = tc.subject
		// One by one (PATCH on the external ID) ...
		res, err := s.LogCalls(ctx(t), []crm.LogItem{{Key: tc.key, AgentID: "alice", Log: l}})
		if err != nil || res[0].Err != nil {
			t.Fatalf("%s: %+v %v", tc.key, res, err)
		}
		// ... and the same log in a Collections batch under another key.
		batch = append(batch, crm.LogItem{Key: tc.key + "-b", AgentID: "alice", Log: l})
	}
	res, err := s.LogCalls(ctx(t), batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("batch item %d: %v", i, r.Err)
		}
	}
	byKey := map[string]string{}
	for _, task := range f.emu.Records("Task") {
		key, _ := task["CTI_Call_Id__c"].(string)
		subj, _ := task["Subject"].(string)
		byKey[key] = subj
	}
	for _, tc := range cases {
		for _, key := range []string{tc.key, tc.key + "-b"} {
			if got := byKey[key]; got != tc.want {
				t.Errorf("%s: Subject %q, want %q", key, got, tc.want)
			}
		}
	}
}
