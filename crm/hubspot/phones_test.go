package hubspot_test

import (
	"slices"
	"testing"

	"github.com/callcentre/softphone/crm/hubspot"
	"github.com/callcentre/softphone/crm/hubspotemu"
)

// Records found by name, and by number, carry their phone numbers
// (contacts: phone, then mobilephone; companies: phone), in E.164 where
// they parse.
func TestSearchAndLookupCarryPhones(t *testing.T) {
	f := newFixture(t, hubspotemu.Config{}, nil)
	carol := f.emu.AddContact(map[string]string{"firstname": "Carol", "lastname": "Customer",
		"phone": "(415) 555-1212", "mobilephone": "+44 7700 900123"})
	mobile := f.emu.AddContact(map[string]string{"firstname": "Carol", "lastname": "Mobile", "mobilephone": "415.555.0101"})
	bare := f.emu.AddContact(map[string]string{"firstname": "Carol", "lastname": "Nophone"})
	acme := f.emu.AddCompany(map[string]string{"name": "Carolina Freight", "phone": "+14155550102"})
	s := f.signIn(t)
	want := map[string][]string{
		carol:  {"+14155551212", "+447700900123"},
		mobile: {"+14155550101"},
		bare:   nil,
		acme:   {"+14155550102"},
	}
	got, err := s.Search(ctx(t), "carol", 10)
	if err != nil || len(got) != len(want) {
		t.Fatalf("search: %v %+v", err, got)
	}
	for _, r := range got {
		w, ok := want[r.ID]
		if !ok || !slices.Equal(r.Phones, w) {
			t.Errorf("search: %s (%s) phones %q, want %q", r.Name, r.ID, r.Phones, w)
		}
	}
	recs, err := s.LookupPhone(ctx(t), phone(t, "+14155550102"))
	if err != nil || len(recs) != 1 || recs[0].ID != acme || recs[0].Type != hubspot.TypeCompany || !slices.Equal(recs[0].Phones, want[acme]) {
		t.Fatalf("lookup: %+v %v", recs, err)
	}
	recs, err = s.LookupPhone(ctx(t), phone(t, "+14155551212"))
	if err != nil || len(recs) != 1 || recs[0].ID != carol || !slices.Equal(recs[0].Phones, want[carol]) {
		t.Fatalf("lookup: %+v %v", recs, err)
	}
}
