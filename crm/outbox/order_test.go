package outbox_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/crm/sfemu"
	"github.com/callcentre/softphone/store"
)

// TestAmbiguousLogDoesNotHoldBackLaterLogs: the first of five logs ends
// ambiguous (the CRM commits it, then the connection drops). With a
// two-minute ambiguous delay the four logs behind it are still delivered
// at once: they pass it while it waits. Once its delay is over (the
// worker's clock jumps ahead) it is replayed through the read-first path:
// every log exactly once, none written twice.
func TestAmbiguousLogDoesNotHoldBackLaterLogs(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.signIn(t, "alice")
	db := openStore(t, t.TempDir())
	defer db.Close()
	var ahead atomic.Int64 // the worker's clock: real time plus this
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	const amb = 2 * time.Minute
	w := outbox.New(db, e.conn, outbox.WithLogger(logger()), outbox.WithBatchSize(1),
		outbox.WithBackoff(20*time.Millisecond, 300*time.Millisecond), outbox.WithAmbiguousDelay(amb),
		outbox.WithPoll(100*time.Millisecond), outbox.WithClock(clock))
	e.emu.AddFault(sfemu.Fault{Match: sfemu.Match{Method: "PATCH"}, CommitThenDrop: true})

	logs := make([]domain.CallLog, 5)
	for i := range logs {
		logs[i] = mkLog("alice", i)
	}
	keys := enqueue(t, db, logs)
	runWorker(t, w)
	p, err := db.Profile("alice")
	if err != nil {
		t.Fatal(err)
	}

	// Well within the ambiguous delay, only the ambiguous log is left.
	deadline := time.Now().Add(amb / 2)
	for {
		c, err := p.CountTarget("salesforce")
		if err != nil {
			t.Fatal(err)
		}
		if c.Queued == 1 && c.Done == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the logs behind an ambiguous one wait for it: %+v, status %+v", c, w.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	head, _, err := p.NextBatch("salesforce", clock().Add(time.Hour), 5)
	if err != nil || len(head) != 1 || head[0].CallKey != logs[0].Key || head[0].State != store.StateAmbiguous {
		t.Fatalf("left in the outbox: %+v %v, want the first log, ambiguous", head, err)
	}
	if e.emu.FaultsFired() != 1 {
		t.Fatalf("%d faults fired, want the commit-then-drop", e.emu.FaultsFired())
	}

	// Its delay over, it is replayed idempotently: found, not written again.
	ahead.Store(int64(amb + time.Minute))
	w.Wake()
	waitDrained(t, db, w, 2*time.Minute)
	assertExactlyOnce(t, e.emu, keys)
}
