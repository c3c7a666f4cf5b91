package store

import (
	"errors"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

// fill saves n calls cycling in, out, missed, one minute apart.
func fill(t testing.TB, db *DB, agent string, n int, start time.Time, targets ...string) []domain.CallLog {
	t.Helper()
	sink := newSink()
	c := db.NewCallLogger(targets...)
	c.Attach(sink)
	kinds := []string{"in", "out", "missed"}
	logs := make([]domain.CallLog, n)
	for i := range n {
		logs[i] = mkLog(agent, i, kinds[i%3], start.Add(time.Duration(i)*time.Minute))
		if err := c.SaveCallLog(logs[i]); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		if in, ok := sink.wait(t).(domain.CallLogSaved); !ok {
			t.Fatalf("posted %#v", in)
		}
	}
	return logs
}

func TestHistoryViews(t *testing.T) {
	db, _ := openTest(t)
	fill(t, db, "a1", 100, t0) // i%3: 0 in, 1 out, 2 missed
	p, _ := db.Profile("a1")
	tests := []struct {
		view  View
		limit int
		want  []int // indexes of the expected calls, newest first
	}{
		{ViewAll, 0, seqDown(99, 30, 1)},
		{ViewAll, 5, []int{99, 98, 97, 96, 95}},
		{ViewAll, 1000, seqDown(99, 100, 1)},
		{ViewIncoming, 0, seqDown(99, 10, 3)},
		{ViewOutgoing, 0, seqDown(97, 10, 3)},
		{ViewMissed, 0, seqDown(98, 10, 3)},
		{ViewMissed, 2, []int{98, 95}},
	}
	for _, tt := range tests {
		t.Run(tt.view.String(), func(t *testing.T) {
			calls, err := p.History(tt.view, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(calls) != len(tt.want) {
				t.Fatalf("%d calls, want %d", len(calls), len(tt.want))
			}
			for i, c := range calls {
				if want := mkLog("a1", tt.want[i], "", t0).Key; c.Log.Key != want {
					t.Fatalf("call %d = %s, want %s", i, c.Log.Key, want)
				}
			}
		})
	}
	if _, err := p.History(ViewUnknown, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("ViewUnknown: %v", err)
	}
}

func seqDown(from, n, step int) []int {
	var s []int
	for i := from; len(s) < n && i >= 0; i -= step {
		s = append(s, i)
	}
	return s
}

func TestHistoryViewLimitsOption(t *testing.T) {
	db, _ := openTest(t, WithViewLimits(4, 2))
	fill(t, db, "a1", 12, t0)
	p, _ := db.Profile("a1")
	for v, want := range map[View]int{ViewAll: 4, ViewMissed: 2, ViewIncoming: 2, ViewOutgoing: 2} {
		if calls, err := p.History(v, 0); err != nil || len(calls) != want {
			t.Errorf("%s: %d calls, %v; want %d", v, len(calls), err, want)
		}
	}
}

func TestRetention(t *testing.T) {
	now := t0.AddDate(0, 0, 10)
	db, _ := openTest(t, WithRetentionDays(7), WithClock(func() time.Time { return now }))
	// 10 calls one day apart: days 0..9; with 7 days retention, calls ending
	// before day 3 (+90 s) go.
	sink := newSink()
	c := db.NewCallLogger("crm")
	c.Attach(sink)
	for i := range 10 {
		saveSync(t, c, sink, mkLog("a1", i, []string{"in", "out", "missed"}[i%3], t0.AddDate(0, 0, i)))
	}
	fill(t, db, "b2", 3, t0) // another agent, all old
	n, err := db.PurgeExpired()
	if err != nil {
		t.Fatal(err)
	}
	if n != 3+3 {
		t.Errorf("purged %d, want 6", n)
	}
	p, _ := db.Profile("a1")
	calls, _ := p.History(ViewAll, 100)
	if len(calls) != 7 || calls[6].Log.Key != mkLog("a1", 3, "", t0).Key {
		t.Errorf("after purge: %d calls, oldest %v", len(calls), calls)
	}
	for _, v := range []View{ViewMissed, ViewIncoming, ViewOutgoing} {
		vc, err := p.History(v, 100)
		if err != nil {
			t.Fatalf("%s after purge: %v", v, err)
		}
		for _, c := range vc {
			if c.Log.StartedAt.Before(t0.AddDate(0, 0, 3)) {
				t.Errorf("%s still lists %s", v, c.Log.Key)
			}
		}
	}
	if _, err := p.CallLog(mkLog("a1", 0, "", t0).Key); !errors.Is(err, ErrNotFound) {
		t.Errorf("purged call still found by key: %v", err)
	}
	// The outbox keeps every entry: retention is for history only.
	if cnt, _ := p.Counts(); cnt.Pending != 10 {
		t.Errorf("outbox %+v, want 10 pending", cnt)
	}
	// A purged key saved again is a new call (its index is gone too).
	if n, _ := p.PurgeHistoryBefore(now.AddDate(1, 0, 0)); n != 7 {
		t.Errorf("PurgeHistoryBefore removed %d, want 7", n)
	}
	if n, _ := p.HistoryLen(); n != 0 {
		t.Errorf("history %d after full purge", n)
	}
}

func TestProfilesIsolated(t *testing.T) {
	db, _ := openTest(t)
	fill(t, db, "alice", 5, t0, "crm")
	pa, _ := db.Profile("alice")
	pb, _ := db.Profile("bob")
	if _, err := pa.AddFavorite("Ops", "+441632960001"); err != nil {
		t.Fatal(err)
	}
	if err := pa.CacheContacts("+441632960002", []domain.CRMRecord{{ID: "003", Name: "Ann"}}); err != nil {
		t.Fatal(err)
	}
	if err := pa.PutSettings(map[string]string{"theme": "dark"}); err != nil {
		t.Fatal(err)
	}
	if err := pa.AddRecording("k1", "/tmp/rec1.wav"); err != nil {
		t.Fatal(err)
	}
	checkEmptyProfile(t, pb)
	if _, err := pb.CallLog(mkLog("alice", 1, "", t0).Key); !errors.Is(err, ErrNotFound) {
		t.Errorf("bob reads alice's call: %v", err)
	}
}

// checkEmptyProfile fails if p sees any personal data.
func checkEmptyProfile(t *testing.T, p *Profile) {
	t.Helper()
	for _, v := range []View{ViewAll, ViewMissed, ViewIncoming, ViewOutgoing} {
		if calls, err := p.History(v, 1000); err != nil || len(calls) != 0 {
			t.Errorf("%s sees %d calls (%v)", v, len(calls), err)
		}
	}
	if f, err := p.Favorites(); err != nil || len(f) != 0 {
		t.Errorf("sees favorites %v (%v)", f, err)
	}
	if _, found, err := p.LookupContacts("+441632960002"); err != nil || found {
		t.Errorf("sees contacts (%v)", err)
	}
	var s map[string]string
	if found, err := p.GetSettings(&s); err != nil || found {
		t.Errorf("sees settings %v (%v)", s, err)
	}
	if r, err := p.AllRecordings(); err != nil || len(r) != 0 {
		t.Errorf("sees recordings %v (%v)", r, err)
	}
	if c, err := p.Counts(); err != nil || c != (OutboxCounts{}) {
		t.Errorf("sees outbox %+v (%v)", c, err)
	}
}
