package salesforce_test

import (
	"slices"
	"testing"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/sfemu"
)

// Records found by name, and by number, carry their phone numbers, best
// first, in E.164 where they parse and as stored otherwise.
func TestSearchAndLookupCarryPhones(t *testing.T) {
	f := newFixture(t, sfemu.Config{PersonAccounts: true}, func(c *salesforce.Config) { c.PersonAccounts = true })
	ana, _ := f.emu.Seed("Contact", sfemu.Record{"FirstName": "Ana", "LastName": "Diaz",
		"Phone": "(415) 555-1212", "MobilePhone": "+44 7700 900123", "HomePhone": "415 555 1212", "OtherPhone": "ext. 42"})
	lead, _ := f.emu.Seed("Lead", sfemu.Record{"FirstName": "Ana", "LastName": "Lead", "Company": "Beta", "MobilePhone": "415.555.0101"})
	pa, _ := f.emu.Seed("Account", sfemu.Record{"Name": "Ana Person", "IsPersonAccount": true, "PersonMobilePhone": "+1 415 555 0102"})
	bare, _ := f.emu.Seed("Contact", sfemu.Record{"FirstName": "Ana", "LastName": "Nophone"})
	s := f.signIn(t, "alice")
	want := map[string][]string{
		ana:  {"+14155551212", "+447700900123", "ext. 42"},
		lead: {"+14155550101"},
		pa:   {"+14155550102"},
		bare: nil,
	}
	recs, err := s.Search(ctx(t), "Ana", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(want) {
		t.Fatalf("search found %d records: %+v", len(recs), recs)
	}
	for _, r := range recs {
		w, ok := want[r.ID]
		if !ok || !slices.Equal(r.Phones, w) {
			t.Errorf("search: %s (%s) phones %q, want %q", r.Name, r.ID, r.Phones, w)
		}
	}
	p, err := crm.NewNormalizer("US").Parse("+14155551212")
	if err != nil {
		t.Fatal(err)
	}
	recs, err = s.LookupPhone(ctx(t), p)
	if err != nil || len(recs) != 1 || recs[0].ID != ana || !slices.Equal(recs[0].Phones, want[ana]) {
		t.Fatalf("lookup: %+v %v", recs, err)
	}
}
