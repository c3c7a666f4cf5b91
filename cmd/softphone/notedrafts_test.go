package main

import (
	"errors"
	"testing"
	"time"

	"github.com/callcentre/softphone/ui"
)

// TestNoteDraftsInTheProfile: drafts live in the signed-in agent's
// profile beside the settings, survive a settings save and a reopened
// store, and are refused while nobody is signed in.
func TestNoteDraftsInTheProfile(t *testing.T) {
	db, dir := openStore(t)
	core := &fakeCore{}
	src := testSources(t, db, core, dir)
	if err := src.SaveDraft(ui.NoteDraft{Key: "k1", Notes: "x"}); !errors.Is(err, errNotSignedIn) {
		t.Fatalf("draft while signed out: %v", err)
	}
	core.set("a1")
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, d := range []ui.NoteDraft{
		{Key: "k1", Who: "Ada", Notes: "first", At: at},
		{Key: "k2", Who: "Bob", Notes: "other call", At: at},
		{Key: "k1", Who: "Ada", Notes: "first, longer", At: at.Add(time.Second)},
	} {
		if err := src.SaveDraft(d); err != nil {
			t.Fatal(err)
		}
	}
	set := ui.DefaultSettings()
	set.DefaultSubject = "Hotline"
	if err := src.SaveSettings(set); err != nil {
		t.Fatal(err)
	}
	got, err := src.Drafts()
	if err != nil || len(got) != 2 || got[0].Notes != "first, longer" || !got[0].At.Equal(at.Add(time.Second)) || got[1].Who != "Bob" {
		t.Fatalf("drafts after a settings save: %+v %v", got, err)
	}
	if s, err := src.LoadSettings(); err != nil || s.DefaultSubject != "Hotline" {
		t.Fatalf("settings beside the drafts: %+v %v", s, err)
	}
	if err := src.DropDraft("k1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := src.Drafts(); len(got) != 1 || got[0].Key != "k2" {
		t.Fatalf("after drop: %+v", got)
	}
	for i := range maxDrafts + 5 {
		if err := src.SaveDraft(ui.NoteDraft{Key: string(rune('a' + i)), Notes: "n"}); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := src.Drafts(); len(got) != maxDrafts {
		t.Fatalf("%d drafts kept, want at most %d", len(got), maxDrafts)
	}
}
