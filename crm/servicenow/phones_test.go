package servicenow_test

import (
	"slices"
	"testing"

	"github.com/callcentre/softphone/crm/servicenow"
	"github.com/callcentre/softphone/crm/servicenowemu"
)

// Records found by name, and by number, carry the phone fields of their
// lookup table, in the configured order, in E.164 where they parse and as
// stored otherwise.
func TestSearchAndLookupCarryPhones(t *testing.T) {
	f := newFixture(t, servicenowemu.Config{}, func(c *servicenow.Config) {
		c.LookupTables = []servicenow.LookupTable{
			{Table: "customer_contact", PhoneFields: []string{"phone", "mobile_phone"}},
			{Table: "customer_account", PhoneFields: []string{"phone"}, Filter: "-", SearchFields: []string{"name"}},
		}
	})
	ana := f.emu.SeedContact(servicenowemu.Record{"name": "Ana Diaz", "phone": "+14155551212", "mobile_phone": "+44 7700 900123"})
	mob := f.emu.SeedContact(servicenowemu.Record{"name": "Ana Mobile", "mobile_phone": "ext. 42"})
	bare := f.emu.SeedContact(servicenowemu.Record{"name": "Ana Nophone"})
	acct := f.emu.Seed(servicenowemu.TableCustomerAccount, servicenowemu.Record{"name": "Anaconda", "phone": "415.555.0101"})
	s := f.signIn(t, "alice")
	want := map[string][]string{
		ana:  {"+14155551212", "+447700900123"},
		mob:  {"ext. 42"},
		bare: nil,
		acct: {"+14155550101"},
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
