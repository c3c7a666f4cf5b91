package local_test

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/local"
)

// A contact matched by number carries all its phones.
func TestMatchCarriesPhones(t *testing.T) {
	d, err := local.New(&memBackend{}, crm.NewNormalizer("US"), local.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := d.Add([]local.Contact{{Name: "Han Solo", Phones: []string{"(212) 555-0100", "+1 415 555 1212"}}}); err != nil || rep.Added != 1 {
		t.Fatalf("add: %+v %v", rep, err)
	}
	recs, err := d.Match("+14155551212")
	if err != nil || len(recs) != 1 || recs[0].Name != "Han Solo" ||
		!slices.Equal(recs[0].Phones, []string{"+12125550100", "+14155551212"}) {
		t.Fatalf("match: %+v %v", recs, err)
	}
}
