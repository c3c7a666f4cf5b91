package store

import (
	"errors"
	"testing"
	"time"
)

func TestIdempotencyKey(t *testing.T) {
	k := IdempotencyKey("a1", "call-1", "salesforce")
	if k != IdempotencyKey("a1", "call-1", "salesforce") {
		t.Fatal("not deterministic")
	}
	if len(k) != 36 || k[14] != '5' || !containsAny(k[19:20], "89ab") {
		t.Errorf("%q is not a UUIDv5", k)
	}
	for _, other := range []string{IdempotencyKey("a2", "call-1", "salesforce"), IdempotencyKey("a1", "call-2", "salesforce"), IdempotencyKey("a1", "call-1", "zendesk")} {
		if other == k {
			t.Errorf("collision %s", k)
		}
	}
}

func containsAny(s, chars string) bool {
	for _, c := range s {
		for _, d := range chars {
			if c == d {
				return true
			}
		}
	}
	return false
}

func TestOutboxTransitions(t *testing.T) {
	now := t0
	type step struct {
		op      string // inflight, done, retry, ambiguous, dead, resend
		wantErr bool
		want    EntryState
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"happy path", []step{{"inflight", false, StateInFlight}, {"done", false, StateDone}}},
		{"retry then done", []step{{"inflight", false, StateInFlight}, {"retry", false, StatePending}, {"inflight", false, StateInFlight}, {"done", false, StateDone}}},
		{"ambiguous stays ambiguous on retry", []step{{"inflight", false, StateInFlight}, {"ambiguous", false, StateAmbiguous}, {"inflight", false, StateInFlight}, {"retry", false, StateAmbiguous}}},
		{"dead and resend", []step{{"inflight", false, StateInFlight}, {"dead", false, StateDead}, {"resend", false, StatePending}, {"inflight", false, StateInFlight}, {"done", false, StateDone}}},
		{"done needs in flight", []step{{"done", true, StatePending}}},
		{"retry needs in flight", []step{{"retry", true, StatePending}}},
		{"no double in flight", []step{{"inflight", false, StateInFlight}, {"inflight", true, StateInFlight}}},
		{"resend needs dead", []step{{"resend", true, StatePending}}},
		{"done is final", []step{{"inflight", false, StateInFlight}, {"done", false, StateDone}, {"inflight", true, StateDone}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, _ := openTest(t, WithClock(func() time.Time { return now }))
			fill(t, db, "a1", 1, t0, "crm")
			p, _ := db.Profile("a1")
			e, ok, err := p.Next("crm", now)
			if err != nil || !ok {
				t.Fatalf("Next: %v %v", ok, err)
			}
			attempts := 0
			for i, s := range tt.steps {
				var err error
				switch s.op {
				case "inflight":
					err = p.MarkInFlight(e.ID)
					if err == nil {
						attempts++
					}
				case "done":
					err = p.MarkDone(e.ID)
				case "retry":
					err = p.MarkRetry(e.ID, "503 from crm", now)
				case "ambiguous":
					err = p.MarkAmbiguous(e.ID, "timeout after send", now)
				case "dead":
					err = p.MarkDead(e.ID, "validation rule")
				case "resend":
					err = p.Resend(e.ID)
					if err == nil {
						attempts = 0
					}
				}
				if (err != nil) != s.wantErr {
					t.Fatalf("step %d %s: err %v, wantErr %v", i, s.op, err, s.wantErr)
				}
				if err != nil && !errors.Is(err, ErrBadTransition) {
					t.Fatalf("step %d %s: %v, want ErrBadTransition", i, s.op, err)
				}
				got, err := p.Entry(e.ID)
				if err != nil {
					t.Fatal(err)
				}
				if got.State != s.want || got.Attempts != attempts {
					t.Fatalf("step %d %s: state %s attempts %d; want %s %d", i, s.op, got.State, got.Attempts, s.want, attempts)
				}
			}
		})
	}
}

func TestOutboxOrderAndBackoff(t *testing.T) {
	now := t0
	db, _ := openTest(t, WithClock(func() time.Time { return now }))
	fill(t, db, "a1", 3, t0, "crm", "other")
	p, _ := db.Profile("a1")
	first, ok, _ := p.Next("crm", now)
	if !ok || first.CallKey != mkLog("a1", 0, "", t0).Key {
		t.Fatalf("first = %+v", first)
	}
	if err := p.MarkInFlight(first.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := p.Next("crm", now); ok {
		t.Error("Next returned an entry behind one in flight")
	}
	// Another target is independent.
	if o, ok, _ := p.Next("other", now); !ok || o.CallKey != first.CallKey {
		t.Errorf("other target: %+v %v", o, ok)
	}
	if err := p.MarkRetry(first.ID, "503", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := p.Next("crm", now.Add(30*time.Second)); ok {
		t.Error("Next ignored the head's backoff")
	}
	if e, ok, _ := p.Next("crm", now.Add(time.Minute)); !ok || e.ID != first.ID || e.LastError != "503" {
		t.Errorf("after backoff: %+v %v", e, ok)
	}
	// Dead letters leave the queue; the next one moves up; resend puts it back first.
	if err := p.MarkDead(first.ID, "permanent"); err != nil {
		t.Fatal(err)
	}
	if e, ok, _ := p.Next("crm", now); !ok || e.CallKey != mkLog("a1", 1, "", t0).Key {
		t.Errorf("after dead: %+v", e)
	}
	dead, _ := p.DeadLetters()
	if len(dead) != 1 || dead[0].ID != first.ID || dead[0].LastError != "permanent" {
		t.Errorf("DeadLetters = %+v", dead)
	}
	c, _ := p.Counts()
	if c != (OutboxCounts{Pending: 5, Dead: 1}) || c.Queued() != 5 {
		t.Errorf("Counts = %+v", c)
	}
	if err := p.Resend(first.ID); err != nil {
		t.Fatal(err)
	}
	if e, ok, _ := p.Next("crm", now); !ok || e.ID != first.ID {
		t.Errorf("after resend: %+v", e)
	}
	if _, ok, err := p.Next("nosuchtarget", now); ok || err != nil {
		t.Errorf("unknown target: %v %v", ok, err)
	}
	agents, _ := db.OutboxAgents()
	if len(agents) != 1 || agents[0] != "a1" {
		t.Errorf("OutboxAgents = %v", agents)
	}
	ts, _ := p.OutboxTargets()
	if len(ts) != 2 {
		t.Errorf("OutboxTargets = %v", ts)
	}
}

func TestOutboxInFlightBecomesAmbiguousOnOpen(t *testing.T) {
	db, dir := openTest(t)
	fill(t, db, "a1", 2, t0, "crm")
	p, _ := db.Profile("a1")
	e, _, _ := p.Next("crm", time.Now())
	if err := p.MarkInFlight(e.ID); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	p2, _ := db2.Profile("a1")
	got, err := p2.Entry(e.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != StateAmbiguous || !got.MayExist || got.Attempts != 1 || got.IdempotencyKey != e.IdempotencyKey {
		t.Errorf("after reopen: %+v", got)
	}
	if n, ok, _ := p2.Next("crm", time.Now()); !ok || n.ID != e.ID {
		t.Errorf("Next after reopen = %+v %v", n, ok)
	}
}

func TestPurgeDone(t *testing.T) {
	now := t0
	db, _ := openTest(t, WithClock(func() time.Time { return now }))
	fill(t, db, "a1", 2, t0, "crm")
	p, _ := db.Profile("a1")
	e, _, _ := p.Next("crm", now)
	_ = p.MarkInFlight(e.ID)
	_ = p.MarkDone(e.ID)
	if n, err := p.PurgeDoneBefore(now); n != 0 || err != nil {
		t.Errorf("purge at now: %d %v", n, err)
	}
	if n, err := p.PurgeDoneBefore(now.Add(time.Second)); n != 1 || err != nil {
		t.Errorf("purge later: %d %v", n, err)
	}
	if c, _ := p.Counts(); c != (OutboxCounts{Pending: 1}) {
		t.Errorf("Counts = %+v", c)
	}
}

func TestOutboxNextBatchAndTransition(t *testing.T) {
	now := t0
	db, _ := openTest(t, WithClock(func() time.Time { return now }))
	logs := fill(t, db, "a1", 6, t0, "crm", "other")
	p, _ := db.Profile("a1")

	batch, at, err := p.NextBatch("crm", now, 4)
	if err != nil || len(batch) != 4 || !at.IsZero() {
		t.Fatalf("NextBatch = %d entries, %v, %v", len(batch), at, err)
	}
	for i, e := range batch {
		if e.CallKey != logs[i].Key || e.ID.Target != "crm" {
			t.Fatalf("entry %d = %s, want %s in order", i, e.CallKey, logs[i].Key)
		}
	}
	// One transaction marks the batch in flight; a change that does not
	// fit (an unknown entry, a second in-flight mark) is refused alone.
	changes := []Change{}
	for _, e := range batch {
		changes = append(changes, Change{ID: e.ID, To: StateInFlight})
	}
	changes = append(changes, Change{ID: batch[0].ID, To: StateInFlight}, Change{ID: EntryID{Target: "crm", Seq: 999}, To: StateInFlight},
		Change{ID: EntryID{Target: "nosuch", Seq: 1}, To: StateDone})
	res, err := p.Transition(changes)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if res[i].Err != nil || res[i].Entry.State != StateInFlight || res[i].Entry.Attempts != 1 || !res[i].Entry.UpdatedAt.Equal(now) {
			t.Fatalf("result %d = %+v", i, res[i])
		}
	}
	if !errors.Is(res[4].Err, ErrBadTransition) || !errors.Is(res[5].Err, ErrNotFound) || !errors.Is(res[6].Err, ErrNotFound) {
		t.Fatalf("refused changes: %v / %v / %v", res[4].Err, res[5].Err, res[6].Err)
	}
	if got, _, _ := p.NextBatch("crm", now, 10); len(got) != 0 {
		t.Fatalf("NextBatch behind an in-flight head returned %d", len(got))
	}
	if got, _, _ := p.NextBatch("other", now, 10); len(got) != 6 {
		t.Fatalf("other target: %d entries, want its 6", len(got))
	}

	// The results of the request, again in one transaction: done, retry,
	// ambiguous, dead.
	later := now.Add(time.Minute)
	res, err = p.Transition([]Change{
		{ID: batch[0].ID, To: StateDone},
		{ID: batch[1].ID, To: StatePending, LastError: "503", NextAt: later},
		{ID: batch[2].ID, To: StateAmbiguous, LastError: "timeout", NextAt: later},
		{ID: batch[3].ID, To: StateDead, LastError: "validation rule"},
		{ID: batch[0].ID, To: StateDone}, // done is final
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []EntryState{StateDone, StatePending, StateAmbiguous, StateDead}
	for i, w := range want {
		if res[i].Err != nil || res[i].Entry.State != w {
			t.Fatalf("result %d = %+v, want %s", i, res[i], w)
		}
		if got, _ := p.Entry(batch[i].ID); got.State != w {
			t.Fatalf("stored entry %d is %s, want %s", i, got.State, w)
		}
	}
	if !errors.Is(res[4].Err, ErrBadTransition) {
		t.Fatalf("second done: %v", res[4].Err)
	}
	if e, _ := p.Entry(batch[2].ID); !e.MayExist || e.LastError != "timeout" || !e.NextAttemptAt.Equal(later) {
		t.Fatalf("ambiguous entry %+v", e)
	}

	// The head now backs off: nothing is due, and NextBatch says when.
	if got, at, err := p.NextBatch("crm", now, 10); len(got) != 0 || !at.Equal(later) || err != nil {
		t.Fatalf("while backing off: %d, %v, %v", len(got), at, err)
	}
	// Due again: the batch stops at the first entry that is not due.
	got, _, err := p.NextBatch("crm", later, 10)
	if err != nil || len(got) != 4 || got[0].ID != batch[1].ID || got[1].State != StateAmbiguous {
		t.Fatalf("after backoff: %+v %v", got, err)
	}
	c, err := p.CountTarget("crm")
	if err != nil || c != (TargetCounts{Queued: 4, Dead: 1, Done: 1}) {
		t.Fatalf("CountTarget = %+v %v", c, err)
	}
	if c, err := p.CountTarget("nosuch"); err != nil || c != (TargetCounts{}) {
		t.Fatalf("CountTarget(unknown) = %+v %v", c, err)
	}
	all, _ := p.Counts()
	if all.Queued() != 4+6 || all.Dead != 1 || all.Done != 1 {
		t.Fatalf("Counts = %+v", all)
	}
	// A retry of an entry that may exist stays ambiguous, as with MarkRetry.
	if _, err := p.Transition([]Change{{ID: batch[2].ID, To: StateInFlight}}); err != nil {
		t.Fatal(err)
	}
	res, _ = p.Transition([]Change{{ID: batch[2].ID, To: StatePending, NextAt: later}})
	if res[0].Err != nil || res[0].Entry.State != StateAmbiguous {
		t.Fatalf("retry after ambiguous = %+v", res[0])
	}
	if res, err := p.Transition(nil); err != nil || len(res) != 0 {
		t.Fatalf("empty batch: %v %v", res, err)
	}
}

func TestOutboxTransitionAfterClose(t *testing.T) {
	db, _ := openTest(t)
	fill(t, db, "a1", 1, t0, "crm")
	p, _ := db.Profile("a1")
	e, _, _ := p.Next("crm", time.Now())
	db.Close()
	if _, err := p.Transition([]Change{{ID: e.ID, To: StateInFlight}}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Transition after close: %v", err)
	}
	if _, _, err := p.NextBatch("crm", time.Now(), 5); !errors.Is(err, ErrClosed) {
		t.Fatalf("NextBatch after close: %v", err)
	}
}
