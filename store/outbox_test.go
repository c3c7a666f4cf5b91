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
