package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/app"
	"github.com/callcentre/softphone/ui"
)

// fakeCRMSearch answers a CRM search by name with records (with the
// phones set on them, as the connectors' name searches answer).
type fakeCRMSearch struct{ recs []domain.CRMRecord }

func (f fakeCRMSearch) SearchCRM(context.Context, string, int) ([]app.CRMContact, error) {
	out := make([]app.CRMContact, len(f.recs))
	for i, r := range f.recs {
		out[i] = app.CRMContact{Record: r}
	}
	return out, nil
}

// TestFinderNameResultsCarryNumbers: a CRM record found by name carries
// the numbers of the agent's calls matched to it (so the desk offers to
// dial it beside opening the record); a record never called keeps only
// its record.
func TestFinderNameResultsCarryNumbers(t *testing.T) {
	db, dir := openStore(t)
	core := &fakeCore{}
	core.set("a1")
	src := testSources(t, db, core, dir)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ada := domain.CRMRecord{ID: "003A", Type: "Contact", Name: "Ada Lovelace", URL: "https://crm.example/003A"}
	bob := domain.CRMRecord{ID: "003B", Type: "Contact", Name: "Ada Byron", URL: "https://crm.example/003B"}
	never := domain.CRMRecord{ID: "003C", Type: "Contact", Name: "Ada Never", URL: "https://crm.example/003C"}
	logs := []domain.CallLog{
		// Ada was the chosen record of a call from her mobile ...
		{Key: "k1", AgentID: "a1", Remote: domain.Party{Number: "+447700900001"}, Matches: []domain.CRMRecord{ada, bob}, RecordID: ada.ID},
		// ... and the only match of a call from her office.
		{Key: "k2", AgentID: "a1", Remote: domain.Party{Number: "+442079460018"}, Matches: []domain.CRMRecord{ada}},
	}
	for i := range logs {
		logs[i].StartedAt, logs[i].EndedAt = at.Add(time.Duration(i)*time.Minute), at.Add(time.Duration(i)*time.Minute+time.Second)
	}
	saveLogs(t, db, logs...)
	f := finder{crm: fakeCRMSearch{recs: []domain.CRMRecord{ada, bob, never}}, profile: src}
	got, err := f.Search(context.Background(), "ada", 20)
	if err != nil {
		t.Fatal(err)
	}
	want := []ui.Contact{
		{Name: "Ada Lovelace", Number: "+442079460018", Source: "CRM", URL: ada.URL},
		{Name: "Ada Lovelace", Number: "+447700900001", Source: "CRM", URL: ada.URL},
		{Name: "Ada Never", Source: "CRM", URL: never.URL},
	}
	// Ada Byron was matched only to a call where Ada Lovelace was chosen:
	// that number is not hers.
	wantBob := ui.Contact{Name: "Ada Byron", Source: "CRM", URL: bob.URL}
	if len(got) != 4 || got[0] != want[0] || got[1] != want[1] || got[2] != wantBob || got[3] != want[2] {
		t.Fatalf("found %+v", got)
	}
}

// TestFinderOffersRecordPhones: a CRM record found by name is offered
// once per phone the CRM answered with it, then per number of the agent's
// calls matched to it, without repeating a number (within the record or
// across results); a "phone" that is no number to dial is left out, and a
// record whose numbers are all offered already, or that has none, is
// still offered once to open.
func TestFinderOffersRecordPhones(t *testing.T) {
	db, dir := openStore(t)
	core := &fakeCore{}
	core.set("a1")
	src := testSources(t, db, core, dir)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ada := domain.CRMRecord{ID: "003A", Type: "Contact", Name: "Ada Lovelace", URL: "https://crm.example/003A",
		Phones: []string{"+442079460018", "+447700900001", "ext. 42", "+442079460018"}}
	firm := domain.CRMRecord{ID: "001F", Type: "Account", Name: "Ada Analytics", URL: "https://crm.example/001F",
		Phones: []string{"+442079460018"}} // the office line, offered with Ada already
	never := domain.CRMRecord{ID: "003C", Type: "Contact", Name: "Ada Never", URL: "https://crm.example/003C"}
	// Ada also called from her home number, which the CRM does not have.
	saveLogs(t, db, domain.CallLog{Key: "k1", AgentID: "a1", Remote: domain.Party{Number: "+441632960099"}, Matches: []domain.CRMRecord{ada}, RecordID: ada.ID,
		StartedAt: at, EndedAt: at.Add(time.Second)})
	f := finder{crm: fakeCRMSearch{recs: []domain.CRMRecord{ada, firm, never}}, profile: src}
	got, err := f.Search(context.Background(), "ada", 20)
	if err != nil {
		t.Fatal(err)
	}
	want := []ui.Contact{
		{Name: "Ada Lovelace", Number: "+442079460018", Source: "CRM", URL: ada.URL},
		{Name: "Ada Lovelace", Number: "+447700900001", Source: "CRM", URL: ada.URL},
		{Name: "Ada Lovelace", Number: "+441632960099", Source: "CRM", URL: ada.URL},
		{Name: "Ada Analytics", Source: "CRM", URL: firm.URL},
		{Name: "Ada Never", Source: "CRM", URL: never.URL},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("found\n%+v\nwant\n%+v", got, want)
	}
	// The limit holds with a record's many numbers.
	got, err = f.Search(context.Background(), "ada", 2)
	if err != nil || !slices.Equal(got, want[:2]) {
		t.Fatalf("limit 2: %+v %v", got, err)
	}
}
