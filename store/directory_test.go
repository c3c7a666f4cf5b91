package store

import (
	"errors"
	"slices"
	"testing"
)

func TestDirectory(t *testing.T) {
	db, dir := openTest(t, WithCountryCode("44"))
	p, _ := db.Profile("a1")
	ana := DirectoryContact{ID: "L1", Name: "Ana Diaz", Company: "Acme", Phones: []string{"020 7946 0018", "+44 20 7946 0019"}}
	bo := DirectoryContact{ID: "L2", Name: "Bo Lee", Company: "Beta Ltd", Phones: []string{"+442079460018"}}
	if err := p.UpsertContacts(ana, bo); err != nil {
		t.Fatal(err)
	}
	all, err := p.DirectoryContacts()
	if err != nil || len(all) != 2 || all[0].ID != "L1" || !slices.Equal(all[0].Phones, []string{"+442079460018", "+442079460019"}) {
		t.Fatalf("DirectoryContacts = %+v %v", all, err)
	}
	// Lookup by number in any format, through the index: a shared number
	// finds both.
	for _, num := range []string{"+44 20 7946 0018", "02079460018", "(020) 7946-0018"} {
		got, err := p.ContactsByNumber(num)
		if err != nil || len(got) != 2 {
			t.Fatalf("ContactsByNumber(%q) = %+v %v", num, got, err)
		}
	}
	if got, _ := p.ContactsByNumber("020 7946 0019"); len(got) != 1 || got[0].Name != "Ana Diaz" {
		t.Fatalf("second phone: %+v", got)
	}
	if got, err := p.ContactsByNumber("020 7946 0000"); err != nil || len(got) != 0 {
		t.Fatalf("no match: %+v %v", got, err)
	}
	if _, err := p.ContactsByNumber("no digits"); !errors.Is(err, ErrInvalidNumber) {
		t.Fatalf("bad number: %v", err)
	}
	if got, _ := p.SearchDirectory("beta", 0); len(got) != 1 || got[0].ID != "L2" {
		t.Fatalf("search by company: %+v", got)
	}
	if got, _ := p.SearchDirectory("A", 1); len(got) != 1 || got[0].ID != "L1" {
		t.Fatalf("search with limit: %+v", got)
	}
	if got, _ := p.SearchDirectory("  ", 0); len(got) != 0 {
		t.Fatalf("empty search: %+v", got)
	}

	// Upsert replaces the contact and its index entries.
	ana.Phones = []string{"+44 20 7946 0020"}
	if err := p.UpsertContacts(ana); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.ContactsByNumber("020 7946 0019"); len(got) != 0 {
		t.Fatalf("old number still indexed: %+v", got)
	}
	if got, _ := p.ContactsByNumber("020 7946 0020"); len(got) != 1 {
		t.Fatalf("new number not indexed: %+v", got)
	}
	// A bad contact fails the whole call and writes nothing.
	for _, bad := range []DirectoryContact{
		{ID: "", Name: "x", Phones: []string{"+14155551212"}},
		{ID: "L9", Name: " ", Phones: []string{"+14155551212"}},
		{ID: "L9", Name: "No phone"},
		{ID: "L9", Name: "Bad phone", Phones: []string{"abc"}},
	} {
		if err := p.UpsertContacts(DirectoryContact{ID: "L8", Name: "Good", Phones: []string{"+14155551212"}}, bad); err == nil {
			t.Fatalf("UpsertContacts(%+v) accepted", bad)
		}
	}
	if all, _ := p.DirectoryContacts(); len(all) != 2 {
		t.Fatalf("a refused upsert wrote %d contacts", len(all))
	}
	// Profiles are separate.
	other, _ := db.Profile("a2")
	if all, _ := other.DirectoryContacts(); len(all) != 0 {
		t.Fatalf("another agent sees %d contacts", len(all))
	}
	if err := p.DeleteContact("L2"); err != nil {
		t.Fatal(err)
	}
	if err := p.DeleteContact("L2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if got, _ := p.ContactsByNumber("020 7946 0018"); len(got) != 0 {
		t.Fatalf("deleted contact still found: %+v", got)
	}

	// Replace, then reopen: the directory is durable.
	cs := []DirectoryContact{{ID: "L3", Name: "Cy", Phones: []string{"+14155550100"}}, {ID: "L4", Name: "Di", Phones: []string{"+14155550101"}}}
	if err := p.ReplaceDirectory(cs); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(dir, WithCountryCode("44"))
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	p2, _ := db2.Profile("a1")
	all, err = p2.DirectoryContacts()
	if err != nil || len(all) != 2 || all[0].Name != "Cy" || all[1].Name != "Di" {
		t.Fatalf("after reopen: %+v %v", all, err)
	}
	if got, _ := p2.ContactsByNumber("+1 415 555 0101"); len(got) != 1 || got[0].ID != "L4" {
		t.Fatalf("index after reopen: %+v", got)
	}
	if got, _ := p2.ContactsByNumber("020 7946 0020"); len(got) != 0 {
		t.Fatalf("replaced contact still indexed: %+v", got)
	}
}

func TestDirectoryWipedOnSharedLogout(t *testing.T) {
	db, _ := openTest(t)
	if err := db.PutMachineSettings(MachineSettings{Shared: true}); err != nil {
		t.Fatal(err)
	}
	p, _ := db.Profile("a1")
	if err := p.UpsertContacts(DirectoryContact{ID: "L1", Name: "Ana", Phones: []string{"+14155551212"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Logout("a1", LogoutPolicy{WipeContacts: true}, noSecrets{}); err != nil {
		t.Fatal(err)
	}
	if all, _ := p.DirectoryContacts(); len(all) != 0 {
		t.Fatalf("directory kept after a wiping logout: %+v", all)
	}
	if got, _ := p.ContactsByNumber("+14155551212"); len(got) != 0 {
		t.Fatalf("phone index kept: %+v", got)
	}
}

type noSecrets struct{}

func (noSecrets) DeleteAgent(string) error { return nil }
