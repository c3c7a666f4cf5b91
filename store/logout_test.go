package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/callcentre/softphone/agent/domain"
)

type fakeSecrets struct{ deleted []string }

func (f *fakeSecrets) DeleteAgent(id string) error {
	f.deleted = append(f.deleted, id)
	return nil
}

// seedAgent gives agent personal data of every kind and returns its
// recording files.
func seedAgent(t *testing.T, db *DB, agent string) []string {
	t.Helper()
	dir := t.TempDir()
	var files []string
	for _, n := range []string{"r1.wav", "r2.wav"} {
		f := filepath.Join(dir, n)
		if err := os.WriteFile(f, []byte("RIFF"), 0o600); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	sink := newSink()
	c := db.NewCallLogger("salesforce")
	c.Attach(sink)
	l := mkLog(agent, 1, "in", t0)
	l.Recordings = files[:1]
	saveSync(t, c, sink, l)
	saveSync(t, c, sink, mkLog(agent, 2, "missed", t0))
	p, _ := db.Profile(agent)
	if err := p.AddRecording(mkLog(agent, 2, "", t0).Key, files[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.AddFavorite("FAV-NAME-zq1", "+441632960001"); err != nil {
		t.Fatal(err)
	}
	if err := p.CacheContacts("+441632960002", []domain.CRMRecord{{ID: "003", Name: "CACHED-NAME-zq2"}}); err != nil {
		t.Fatal(err)
	}
	// A call logged for no CRM: its notes live in the history only.
	h := db.NewCallLogger()
	h.Attach(sink)
	hl := mkLog(agent, 3, "out", t0)
	hl.Notes = "HISTORY-ONLY-NOTE-zq3"
	saveSync(t, h, sink, hl)
	return files
}

func TestHotDeskLogoutSharedPC(t *testing.T) {
	db, _ := openTest(t)
	if err := db.PutMachineSettings(MachineSettings{Shared: true}); err != nil {
		t.Fatal(err)
	}
	files := seedAgent(t, db, "alice")
	sec := &fakeSecrets{}
	all := LogoutPolicy{WipeHistory: true, WipeContacts: true, WipeRecordings: true, WipeFavorites: true}
	res, err := db.Logout("alice", all, sec)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Shared || res.QueuedKept != 2 || res.FilesRemoved != 2 || res.HistoryRemoved != 3 {
		t.Errorf("result %+v", res)
	}
	if len(sec.deleted) != 1 || sec.deleted[0] != "alice" {
		t.Errorf("secrets deleted for %v", sec.deleted)
	}
	for _, f := range files {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("recording %s still there (%v)", f, err)
		}
	}
	// Nothing wiped is left in the file, free pages included.
	raw, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"FAV-NAME-zq1", "CACHED-NAME-zq2", "HISTORY-ONLY-NOTE-zq3"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("database file still contains %s", s)
		}
	}
	// The next agent on this PC sees nothing of alice's.
	bob, _ := db.Profile("bob")
	checkEmptyProfile(t, bob)
	// Alice's personal data is gone too, but her queued CRM logs stay queued
	// under her identity, for her token only.
	alice, _ := db.Profile("alice")
	for _, v := range []View{ViewAll, ViewMissed} {
		if calls, _ := alice.History(v, 100); len(calls) != 0 {
			t.Errorf("alice %s still has %d calls", v, len(calls))
		}
	}
	if f, _ := alice.Favorites(); len(f) != 0 {
		t.Errorf("alice favorites %v", f)
	}
	if _, found, _ := alice.LookupContacts("+441632960002"); found {
		t.Error("alice contact cache kept")
	}
	pending, _ := alice.Entries(StatePending)
	if len(pending) != 2 {
		t.Fatalf("alice queued %d, want 2", len(pending))
	}
	for _, e := range pending {
		if e.AgentID != "alice" {
			t.Errorf("entry %v belongs to %q", e.ID, e.AgentID)
		}
	}
	if agents, _ := db.OutboxAgents(); len(agents) != 1 || agents[0] != "alice" {
		t.Errorf("OutboxAgents = %v", agents)
	}
}

func TestLogoutPolicy(t *testing.T) {
	tests := []struct {
		name        string
		shared      bool
		policy      LogoutPolicy
		wantHistory int
		wantFiles   bool // the files remain
		wantSecrets bool // secrets removed
	}{
		{"personal pc keeps everything", false, LogoutPolicy{WipeHistory: true, WipeRecordings: true}, 3, true, false},
		{"shared pc, keep data", true, LogoutPolicy{}, 3, true, true},
		{"shared pc, wipe history only", true, LogoutPolicy{WipeHistory: true}, 0, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openTest(t)
			_ = db.PutMachineSettings(MachineSettings{Shared: tt.shared})
			files := seedAgent(t, db, "alice")
			sec := &fakeSecrets{}
			if _, err := db.Logout("alice", tt.policy, sec); err != nil {
				t.Fatal(err)
			}
			p, _ := db.Profile("alice")
			if n, _ := p.HistoryLen(); n != tt.wantHistory {
				t.Errorf("history %d, want %d", n, tt.wantHistory)
			}
			_, err := os.Stat(files[0])
			if (err == nil) != tt.wantFiles {
				t.Errorf("file exists %v, want %v", err == nil, tt.wantFiles)
			}
			if (len(sec.deleted) == 1) != tt.wantSecrets {
				t.Errorf("secrets deleted %v, want %v", sec.deleted, tt.wantSecrets)
			}
		})
	}
	db, _ := openTest(t)
	_ = db.PutMachineSettings(MachineSettings{Shared: true})
	if _, err := db.Logout("alice", LogoutPolicy{}, nil); !errors.Is(err, ErrNoSecrets) {
		t.Errorf("nil secrets on a shared pc: %v", err)
	}
}
