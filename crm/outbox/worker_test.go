package outbox_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/crm/sfemu"
)

func runWorker(t *testing.T, w *outbox.Worker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// TestDrainAfterOutageUnderFaults is the first "done when": 10 000
// logs queued while the CRM is down are all delivered when it returns,
// through Collections batches, with zero duplicates and zero losses while
// sessions expire, the edge answers 503, rows are locked, the daily limit
// trips, connections drop after the commit or before it, answers are
// truncated and a response is slower than the client's timeout.
// drainLogs is the size of the outage test: the 10 000 logs, also
// under -race (the drain costs a constant three store transactions per
// batch of up to 200, whatever its size).
const drainLogs = 10000

// ambDelay is longer than the latency fault minus the client timeout, so the
// slow write lands before the replay reads first.
const ambDelay = 1600 * time.Millisecond

func TestDrainAfterOutageUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("10 000-log drain skipped in -short mode")
	}
	e := newEnv(t, time.Second)
	e.signIn(t, "alice")
	db := openStore(t, t.TempDir())
	defer db.Close()
	if err := e.emu.Stop(); err != nil { // the CRM goes down
		t.Fatal(err)
	}
	w := outbox.New(db, e.conn, outbox.WithLogger(logger()), outbox.WithBackoff(20*time.Millisecond, 300*time.Millisecond),
		outbox.WithRateLimitPause(300*time.Millisecond), outbox.WithAmbiguousDelay(ambDelay), outbox.WithPoll(200*time.Millisecond))
	runWorker(t, w)

	n := drainLogs
	logs := make([]domain.CallLog, n)
	for i := range logs {
		logs[i] = mkLog("alice", i)
	}
	keys := enqueue(t, db, logs)
	deadline := time.Now().Add(time.Minute)
	for st := w.Status(); !(st.Offline && st.Pending == n) && time.Now().Before(deadline); st = w.Status() {
		time.Sleep(20 * time.Millisecond)
	}
	if st := w.Status(); !st.Offline || st.Pending != n {
		t.Fatalf("while the crm is down: %+v", st)
	}

	write := sfemu.Match{Method: "PATCH", Path: "/composite/sobjects/Task/*"}
	at := func(nth int) sfemu.Match { m := write; m.Nth = nth; return m }
	for _, f := range []sfemu.Fault{
		{Match: at(2), ExpireAccessTokens: true},
		{Match: at(3), Status: 503, Body: "<html><body>Service Unavailable</body></html>"},
		{Match: at(4), Status: 400, ErrorCode: "UNABLE_TO_LOCK_ROW"},
		{Match: at(5), Status: 403, ErrorCode: "REQUEST_LIMIT_EXCEEDED"},
		{Match: at(6), CommitThenDrop: true},
		{Match: at(7), TruncateBody: true},
		{Match: at(8), Latency: 1300 * time.Millisecond}, // past the client timeout; the write still lands
		{Match: at(9), DropBeforeCommit: true},
		{Match: sfemu.Match{Method: "GET", Path: "/query", Nth: 2}, Status: 500, ErrorCode: "UNKNOWN_EXCEPTION"},
	} {
		e.emu.AddFault(f)
	}
	if err := e.emu.Restart(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitDrained(t, db, w, 3*time.Minute)
	t.Logf("%d logs drained in %v after the crm came back; %d faults fired", n, time.Since(start).Round(time.Millisecond), e.emu.FaultsFired())
	if fired := e.emu.FaultsFired(); fired < 9 {
		t.Fatalf("only %d of 9 faults fired", fired)
	}
	assertExactlyOnce(t, e.emu, keys)
	p, _ := db.Profile("alice")
	c, err := p.Counts()
	if err != nil || c.Done != n || c.Dead != 0 {
		t.Fatalf("counts %+v %v", c, err)
	}
	st := w.Status()
	for end := time.Now().Add(10 * time.Second); st.Pending != 0 && time.Now().Before(end); st = w.Status() {
		time.Sleep(20 * time.Millisecond) // the last MarkDone is in the store just before the worker counts it
	}
	if st.Pending != 0 || st.Offline || st.LastSuccess.IsZero() || st.LastError == "" {
		t.Fatalf("status %+v", st)
	}
	batches := 0
	for _, r := range e.emu.Journal() {
		if r.Method == "PATCH" && r.Status == 200 {
			batches++
		}
	}
	if batches > n/100+10 {
		t.Fatalf("%d collection requests for %d logs: not batched", batches, n)
	}
}

// TestValidationDeadLetters is the third "done when": a validation
// error dead-letters one entry with the CRM's message without blocking the
// others, and Resend delivers it once fixed.
func TestValidationDeadLetters(t *testing.T) {
	for _, batch := range []int{1, 200} {
		t.Run(map[int]string{1: "one by one", 200: "batched"}[batch], func(t *testing.T) {
			e := newEnv(t, 5*time.Second)
			e.signIn(t, "alice")
			e.emu.AddValidationRule(sfemu.ValidationRule{Field: "CallDisposition", Equals: "Bogus", Message: "Call Result is required for outbound calls"})
			db := openStore(t, t.TempDir())
			defer db.Close()
			var logs []domain.CallLog
			for i := range 30 {
				l := mkLog("alice", i)
				if i == 3 {
					l.Outcome = "Bogus"
				}
				logs = append(logs, l)
			}
			keys := enqueue(t, db, logs)
			w := outbox.New(db, e.conn, outbox.WithLogger(logger()), outbox.WithBatchSize(batch),
				outbox.WithBackoff(20*time.Millisecond, 200*time.Millisecond), outbox.WithPoll(100*time.Millisecond))
			runWorker(t, w)
			waitDrained(t, db, w, time.Minute)
			dead, err := w.DeadLetters("alice")
			if err != nil || len(dead) != 1 || dead[0].CallKey != logs[3].Key ||
				dead[0].LastError != "FIELD_CUSTOM_VALIDATION_EXCEPTION: Call Result is required for outbound calls" {
				t.Fatalf("dead letters %+v %v", dead, err)
			}
			if got := len(e.emu.Records("Task")); got != 29 {
				t.Fatalf("%d tasks, want the 29 valid ones", got)
			}
			st := w.Status()
			for end := time.Now().Add(10 * time.Second); st.Dead != 1 && time.Now().Before(end); st = w.Status() {
				time.Sleep(20 * time.Millisecond)
			}
			if st.Dead != 1 || !strings.Contains(st.LastError, "Call Result is required") {
				t.Fatalf("status %+v", st)
			}
			e.emu.ClearValidationRules() // the admin fixes the rule
			if err := w.Resend("alice", dead[0].ID); err != nil {
				t.Fatal(err)
			}
			waitDrained(t, db, w, time.Minute)
			assertExactlyOnce(t, e.emu, keys)
		})
	}
}

// TestAgentsUseOwnTokens: two agents' logs go out with their own sessions;
// a signed-out agent's logs wait (and the other's still drain) until the
// agent signs in again.
func TestAgentsUseOwnTokens(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	alice := e.signIn(t, "alice")
	bob := e.signIn(t, "bob")
	db := openStore(t, t.TempDir())
	defer db.Close()
	var logs []domain.CallLog
	for i := range 40 {
		logs = append(logs, mkLog("alice", i), mkLog("bob", i))
	}
	keys := enqueue(t, db, logs)
	// Bob signed out at the end of his shift while offline: his session
	// is gone from this PC.
	sess, _ := e.conn.Resume(context.Background(), "bob")
	_ = sess.SignOut(context.Background())

	w := outbox.New(db, e.conn, outbox.WithLogger(logger()), outbox.WithBackoff(20*time.Millisecond, 200*time.Millisecond),
		outbox.WithPoll(50*time.Millisecond))
	runWorker(t, w)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		st := w.Status()
		if agents, _ := db.OutboxAgents(); slices.Equal(agents, []string{"bob"}) && slices.Equal(st.SignInNeeded, []string{"bob"}) && st.Pending == 40 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := w.Status(); !slices.Equal(st.SignInNeeded, []string{"bob"}) || st.Pending != 40 {
		t.Fatalf("status with bob signed out: %+v", st)
	}
	bob = e.signIn(t, "bob")
	w.Wake()
	waitDrained(t, db, w, time.Minute)
	assertExactlyOnce(t, e.emu, keys)
	if st := w.Status(); len(st.SignInNeeded) != 0 {
		t.Fatalf("still asking for a sign-in after bob signed in: %+v", st)
	}
	for _, task := range e.emu.Records("Task") {
		agent := strings.SplitN(task["CallObject"].(string), "-", 2)[0]
		want := map[string]string{"alice": alice.ID, "bob": bob.ID}[agent]
		if task["OwnerId"] != want {
			t.Fatalf("task of %s written by %v, want %v", agent, task["OwnerId"], want)
		}
	}
}
