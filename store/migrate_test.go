package store

import (
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var updateFixture = flag.Bool("update-fixture", false, "rewrite testdata/v1.db (schema version 1)")

const v1Fixture = "testdata/v1.db"

// v1Calls is what the v1 fixture holds: agent -> (index, kind); index 3 of
// alice is stored twice (v1 had no idempotency index).
var v1Calls = map[string][]struct {
	i    int
	kind string
}{
	"alice": {{0, "in"}, {1, "out"}, {2, "missed"}, {3, "in"}, {3, "in"}, {4, "out"}},
	"bob":   {{0, "missed"}},
}

// TestWriteV1Fixture writes the schema-1 layout by hand: meta/schema=1 and,
// per agent, settings plus history keyed by sequence with no index.
func TestWriteV1Fixture(t *testing.T) {
	if !*updateFixture {
		t.Skip("run with -update-fixture to rewrite " + v1Fixture)
	}
	_ = os.Remove(v1Fixture)
	db, err := bolt.Open(v1Fixture, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket(bMeta)
		if err := meta.Put(kSchema, itob(1)); err != nil {
			return err
		}
		ps, _ := tx.CreateBucket(bProfiles)
		for agent, calls := range v1Calls {
			p, _ := ps.CreateBucket([]byte(agent))
			s, _ := p.CreateBucket(bSettings)
			if err := s.Put(kSettings, []byte(`{"ringer":"headset"}`)); err != nil {
				return err
			}
			h, _ := p.CreateBucket(bHistory)
			for n, c := range calls {
				seq, _ := h.NextSequence()
				at := t0.Add(time.Duration(n) * time.Hour)
				v, _ := json.Marshal(historyRecord{SavedAt: at, Log: mkLog(agent, c.i, c.kind, at)})
				if err := h.Put(itob(seq), v); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMigrateV1(t *testing.T) {
	dir := t.TempDir()
	src, err := os.Open(v1Fixture)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(filepath.Join(dir, FileName), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	dst.Close()

	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.SchemaVersion(); v != 2 {
		t.Fatalf("schema %d after migration, want 2", v)
	}
	alice, _ := db.Profile("alice")
	tests := []struct {
		view View
		want []int
	}{
		{ViewAll, []int{4, 3, 2, 1, 0}}, // the duplicate of 3 is gone
		{ViewIncoming, []int{3, 0}},
		{ViewOutgoing, []int{4, 1}},
		{ViewMissed, []int{2}},
	}
	for _, tt := range tests {
		calls, err := alice.History(tt.view, 100)
		if err != nil {
			t.Fatalf("%s: %v", tt.view, err)
		}
		var got []int
		for _, c := range calls {
			for _, i := range []int{0, 1, 2, 3, 4} {
				if c.Log.Key == mkLog("alice", i, "", t0).Key {
					got = append(got, i)
				}
			}
		}
		if len(got) != len(tt.want) {
			t.Fatalf("%s = %v, want %v", tt.view, got, tt.want)
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Fatalf("%s = %v, want %v", tt.view, got, tt.want)
			}
		}
	}
	c, err := alice.CallLog(mkLog("alice", 2, "", t0).Key)
	if err != nil || !c.Log.Missed || c.Log.Notes == "" {
		t.Errorf("CallLog after migration: %+v %v", c, err)
	}
	var s map[string]string
	if found, _ := alice.GetSettings(&s); !found || s["ringer"] != "headset" {
		t.Errorf("settings after migration: %v", s)
	}
	if _, err := alice.AddFavorite("x", "1234"); err != nil {
		t.Errorf("new bucket unusable: %v", err)
	}
	bob, _ := db.Profile("bob")
	if calls, _ := bob.History(ViewMissed, 0); len(calls) != 1 {
		t.Errorf("bob missed = %d", len(calls))
	}
	// The migrated key index makes saving an old call again a no-op.
	sink := newSink()
	cl := db.NewCallLogger()
	cl.Attach(sink)
	saveSync(t, cl, sink, mkLog("alice", 0, "in", t0))
	if n, _ := alice.HistoryLen(); n != 5 {
		t.Errorf("history %d after re-save, want 5", n)
	}
	// Retention works on migrated records through the new time index.
	if n, err := alice.PurgeHistoryBefore(t0.Add(150 * time.Minute)); err != nil || n != 3 {
		t.Errorf("purge migrated: %d %v, want 3 (indexes 0, 1, 2)", n, err)
	}
}
