package dynamics_test

import (
	"slices"
	"testing"

	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/dynamicsemu"
)

// Records found by name, and by number, carry their phone numbers in the
// table's column order (contacts telephone1, telephone2, mobilephone;
// accounts telephone1-3; leads telephone1, mobilephone), in E.164 where
// they parse and as stored otherwise.
func TestSearchAndLookupCarryPhones(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{}, func(c *dynamics.Config) { c.Leads = true })
	ana := f.emu.AddContact(dynamicsemu.Contact{FullName: "Ana Diaz", Telephone1: "(415) 555-1212",
		Telephone2: "ext. 42", MobilePhone: "+44 7700 900123"})
	acct := f.emu.AddAccount(dynamicsemu.Account{Name: "Anaconda Ltd", Telephone3: "415.555.0101"})
	lead := f.emu.AddLead(dynamicsemu.Lead{FullName: "Ana Lead", MobilePhone: "+1 415 555 0102", Telephone1: "+1 415 555 0102"})
	bare := f.emu.AddContact(dynamicsemu.Contact{FullName: "Ana Nophone"})
	s := f.signIn(t, "alice")
	want := map[string][]string{
		ana:  {"+14155551212", "ext. 42", "+447700900123"},
		acct: {"+14155550101"},
		lead: {"+14155550102"},
		bare: nil,
	}
	recs, err := s.Search(ctx(t), "ana", 10)
	if err != nil || len(recs) != len(want) {
		t.Fatalf("search: %+v %v", recs, err)
	}
	for _, r := range recs {
		w, ok := want[r.ID]
		if !ok || !slices.Equal(r.Phones, w) {
			t.Errorf("search: %s (%s) phones %q, want %q", r.Name, r.ID, r.Phones, w)
		}
	}
	recs, err = s.LookupPhone(ctx(t), phone(t, "+14155551212"))
	if err != nil || len(recs) != 1 || recs[0].ID != ana || !slices.Equal(recs[0].Phones, want[ana]) {
		t.Fatalf("lookup: %+v %v", recs, err)
	}
}
