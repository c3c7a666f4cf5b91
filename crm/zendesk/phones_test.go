package zendesk_test

import (
	"slices"
	"testing"

	"github.com/callcentre/softphone/crm/zendeskemu"
)

// Users found by name, and by number, carry their phone (E.164 where it
// parses, as stored otherwise; none when the user has none).
func TestSearchAndLookupCarryPhones(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{}, nil)
	ada := f.emu.AddContact("Ada Lovelace", "+14155551212", "ada@example.com")
	ann := f.emu.AddContact("Ada Annex", "ext. 42", "")
	bare := f.emu.AddContact("Ada Nophone", "", "adan@example.com")
	s := f.signIn(t, "alice")
	want := map[string][]string{itoa(ada.ID): {"+14155551212"}, itoa(ann.ID): {"ext. 42"}, itoa(bare.ID): nil}
	recs, err := s.Search(ctx(t), "ada", 10)
	if err != nil || len(recs) != len(want) {
		t.Fatalf("search: %+v %v", recs, err)
	}
	for _, r := range recs {
		w, ok := want[r.ID]
		if !ok || !slices.Equal(r.Phones, w) {
			t.Errorf("search: %s (%s) phones %q, want %q", r.Name, r.ID, r.Phones, w)
		}
	}
	recs, err = s.LookupPhone(ctx(t), phone(t, "(415) 555-1212"))
	if err != nil || len(recs) != 1 || recs[0].ID != itoa(ada.ID) || !slices.Equal(recs[0].Phones, want[itoa(ada.ID)]) {
		t.Fatalf("lookup: %+v %v", recs, err)
	}
}
