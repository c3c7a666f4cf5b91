package store

import (
	"testing"
	"time"
)

// TestOutboxNextDuePassesAmbiguous: NextDue lets later entries pass an
// ambiguous entry until it is due (its next attempt time, and settle after
// it became ambiguous), while an in-flight or backing-off pending entry
// still stops the batch, as in NextBatch.
func TestOutboxNextDuePassesAmbiguous(t *testing.T) {
	now := t0
	db, _ := openTest(t, WithClock(func() time.Time { return now }))
	logs := fill(t, db, "a1", 4, t0, "crm")
	p, _ := db.Profile("a1")
	head, _, err := p.NextBatch("crm", now, 1)
	if err != nil || len(head) != 1 || head[0].CallKey != logs[0].Key {
		t.Fatalf("head %+v %v", head, err)
	}
	ambAt := now.Add(10 * time.Second)
	if _, err := p.Transition([]Change{{ID: head[0].ID, To: StateInFlight}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Transition([]Change{{ID: head[0].ID, To: StateAmbiguous, LastError: "timeout", NextAt: ambAt}}); err != nil {
		t.Fatal(err)
	}
	const settle = time.Minute
	// Strict order holds everything behind the ambiguous head.
	if got, at, _ := p.NextBatch("crm", now, 10); len(got) != 0 || !at.Equal(ambAt) {
		t.Fatalf("NextBatch: %d entries, %v", len(got), at)
	}
	// NextDue passes it: the three behind it are due.
	got, _, err := p.NextDue("crm", now, 10, settle)
	if err != nil || len(got) != 3 {
		t.Fatalf("NextDue: %d entries, %v", len(got), err)
	}
	for i, e := range got {
		if e.CallKey != logs[i+1].Key {
			t.Fatalf("entry %d is %s, want %s", i, e.CallKey, logs[i+1].Key)
		}
	}
	// Past its next attempt time but not settled: still passed over.
	now = ambAt
	if got, _, _ := p.NextDue("crm", now, 1, settle); len(got) != 1 || got[0].CallKey != logs[1].Key {
		t.Fatalf("unsettled ambiguous entry not passed: %+v", got)
	}
	// The second backs off (pending): it stops the batch, and with nothing
	// due NextDue says when the earliest becomes due.
	second := got[0]
	backoffAt := t0.Add(30 * time.Second)
	if _, err := p.Transition([]Change{{ID: second.ID, To: StateInFlight}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Transition([]Change{{ID: second.ID, To: StatePending, LastError: "503", NextAt: backoffAt}}); err != nil {
		t.Fatal(err)
	}
	if got, at, _ := p.NextDue("crm", now, 10, settle); len(got) != 0 || !at.Equal(backoffAt) {
		t.Fatalf("behind a backing-off entry: %d entries, next at %v, want none until %v", len(got), at, backoffAt)
	}
	// Settled: the ambiguous entry is due again, first in queue order.
	now = t0.Add(settle)
	got, _, err = p.NextDue("crm", now, 10, settle)
	if err != nil || len(got) != 4 || got[0].CallKey != logs[0].Key || got[0].State != StateAmbiguous {
		t.Fatalf("settled: %+v %v", got, err)
	}
}
