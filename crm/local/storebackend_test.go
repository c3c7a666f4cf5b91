package local_test

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/local"
	"github.com/callcentre/softphone/store"
)

func openStore(t *testing.T, dir string, norm *crm.Normalizer) *store.DB {
	t.Helper()
	db, err := store.Open(dir, store.WithLogger(slog.New(slog.DiscardHandler)), store.WithNormalizer(norm.E164))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// TestImportPersistsInStore: a CSV and a vCard import kept in the agent's
// store profile survive closing and reopening the store; another agent's
// directory is separate; a save the store refuses changes nothing.
func TestImportPersistsInStore(t *testing.T) {
	norm := crm.NewNormalizer("US")
	dir := t.TempDir()
	db := openStore(t, dir, norm)
	alice, _ := db.Profile("alice")
	d, err := local.New(local.NewStoreBackend(alice), norm, local.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := d.ImportCSV(strings.NewReader(outlookCSV)); err != nil || rep.Added != 2 {
		t.Fatalf("csv import %+v %v", rep, err)
	}
	if rep, err := d.ImportVCard(strings.NewReader(vcards)); err != nil || rep.Added != 1 || rep.Updated != 1 {
		t.Fatalf("vcard import %+v %v", rep, err)
	}
	want := d.Contacts()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// The app restarts.
	db = openStore(t, dir, norm)
	defer db.Close()
	alice, _ = db.Profile("alice")
	d2, err := local.New(local.NewStoreBackend(alice), norm)
	if err != nil {
		t.Fatal(err)
	}
	got := d2.Contacts()
	if len(got) != 3 || !slices.EqualFunc(got, want, func(a, b local.Contact) bool {
		return a.ID == b.ID && a.Name == b.Name && a.Company == b.Company && slices.Equal(a.Phones, b.Phones)
	}) {
		t.Fatalf("after reopen %+v, want %+v", got, want)
	}
	// The store's own index finds them too (the data is really there).
	if cs, err := alice.ContactsByNumber("(415) 555-1212"); err != nil || len(cs) != 2 {
		t.Fatalf("store lookup %+v %v", cs, err)
	}
	sink := crmtest.NewSink(2)
	d2.Attach(sink)
	if err := d2.Lookup("k1", "+1 212 555 0100"); err != nil {
		t.Fatal(err)
	}
	if m := (<-sink.C).(domain.CallerMatched); len(m.Records) != 1 || m.Records[0].Name != "Han Solo" {
		t.Fatalf("lookup after reopen %+v", m)
	}
	// An internal extension matches nothing: an answer, not a failure
	// (the core would warn "CRM lookup failed" on every colleague's call).
	if err := d2.Lookup("k2", "201"); err != nil {
		t.Fatal(err)
	}
	if m := (<-sink.C).(domain.CallerMatched); m.Key != "k2" || len(m.Records) != 0 || m.Err != "" {
		t.Fatalf("lookup of an extension %+v", m)
	}

	// Another agent signs in on this PC: their own (empty) directory.
	bob, _ := db.Profile("bob")
	if err := d2.SetBackend(local.NewStoreBackend(bob)); err != nil {
		t.Fatal(err)
	}
	if n := len(d2.Contacts()); n != 0 {
		t.Fatalf("bob sees %d of alice's contacts", n)
	}
	if rep, err := d2.Add([]local.Contact{{Name: "Bob's client", Phones: []string{"+13125550100"}}}); err != nil || rep.Added != 1 {
		t.Fatalf("add for bob %+v %v", rep, err)
	}
	if err := d2.SetBackend(local.NewStoreBackend(alice)); err != nil || len(d2.Contacts()) != 3 {
		t.Fatalf("back to alice: %d contacts, %v", len(d2.Contacts()), err)
	}

	// The store fails (closed here; a full disk alike): nothing changes.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := d2.Add([]local.Contact{{Name: "Lost", Phones: []string{"+13125550101"}}}); !errors.Is(err, store.ErrClosed) || len(d2.Contacts()) != 3 {
		t.Fatalf("add on a closed store: %v, %d contacts", err, len(d2.Contacts()))
	}
	if err := d2.SetBackend(local.NewStoreBackend(bob)); err == nil || len(d2.Contacts()) != 3 {
		t.Fatalf("switch on a closed store: %v, %d contacts", err, len(d2.Contacts()))
	}
	d2.Wait()
}
