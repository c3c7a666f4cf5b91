package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/store"
)

var quiet = slog.New(slog.DiscardHandler)

// agent is the softphone agent whose logs every subtest delivers.
const agent = "alice"

// WriteCounter is optionally implemented by a Harness whose emulator
// counts the writes each call record received. Run then also asserts that
// every record was written exactly once: a replay after an ambiguous
// failure found the record (read first, or an idempotent create the CRM
// refused) instead of writing it again.
type WriteCounter interface {
	// Writes maps each call key to the number of writes (the create plus
	// any updates) its record received.
	Writes() map[string]int
}

// Rejecter is optionally implemented by a Harness whose emulator can refuse
// one log's data the way the CRM's validation does (a permanent error).
// Run then adds the DeadLetter subtest: the refused log is dead-lettered
// with the CRM's message without blocking the others, and delivered once
// by Resend after the rule is lifted.
type Rejecter interface {
	// Reject makes the CRM refuse every write of log, whose call key
	// (crm.LogItem.Key) is key, with its validation error until AcceptAll
	// (match whichever of the two the emulator sees in the record).
	Reject(key string, log domain.CallLog)
	// AcceptAll lifts every Reject (the admin fixed the rule).
	AcceptAll()
}

// Run runs the exactly-once suite on h: the subtests OfflineBacklog,
// EachFault (one subtest per Fault), KilledMidDrain and AuthRevoked. A
// failure names the subtest and, in EachFault, the fault.
func Run(t *testing.T, h Harness, opts ...Option) {
	c := defaults()
	for _, o := range opts {
		o(&c)
	}
	s := &suite{h: h, c: c}
	t.Run("OfflineBacklog", s.offlineBacklog)
	t.Run("EachFault", func(t *testing.T) {
		for _, f := range Faults {
			t.Run(f.String(), func(t *testing.T) { s.eachFault(t, f) })
		}
	})
	t.Run("KilledMidDrain", s.killedMidDrain)
	t.Run("AuthRevoked", s.authRevoked)
	if _, ok := h.(Rejecter); ok {
		t.Run("DeadLetter", s.deadLetter)
	} else {
		t.Log("DeadLetter not run: the harness does not implement conformance.Rejecter")
	}
}

type suite struct {
	h Harness
	c config
}

// offlineBacklog: logs queued while the CRM is down wait with the worker
// reporting Offline; once the CRM is back, with every fault kind armed at
// a different position, each is delivered exactly once.
func (s *suite) offlineBacklog(t *testing.T) {
	n := s.c.logs
	conn, _ := s.start(t, s.c.timeout)
	db := openStore(t, t.TempDir())
	s.h.Stop(t) // the CRM goes down
	w := s.worker(db, conn)
	runWorker(t, w)
	keys := s.enqueue(t, db, logs(0, n))
	deadline := time.Now().Add(time.Minute)
	for st := w.Status(); !(st.Offline && st.Pending == n) && time.Now().Before(deadline); st = w.Status() {
		time.Sleep(20 * time.Millisecond)
	}
	if st := w.Status(); !st.Offline || st.Pending != n {
		t.Fatalf("while the crm is down the worker should be offline with %d pending: %+v", n, st)
	}
	if got := total(s.h.Logs()); got != 0 {
		t.Fatalf("the crm holds %d records while it was down", got)
	}
	// Every fault kind, each at its own position among the requests it
	// matches (writes; reads for FaultReadError).
	for i, f := range Faults {
		nth := 2 + 2*i
		if f == FaultReadError {
			nth = 2
		}
		s.h.Arm(f, nth)
	}
	s.h.Restart(t)
	start := time.Now()
	s.waitDrained(t, db, w)
	t.Logf("%d logs drained in %v after the crm came back; %d faults fired", n, time.Since(start).Round(time.Millisecond), s.h.Fired())
	s.assertExactlyOnce(t, keys)
	assertDone(t, db, n)
	s.driveReads(t, conn, len(Faults))
	if fired := s.h.Fired(); fired < len(Faults) {
		t.Fatalf("only %d of the %d armed faults fired: more requests are needed (WithLogs, WithBatchSize)", fired, len(Faults))
	}
	st := w.Status()
	for end := time.Now().Add(10 * time.Second); (st.Pending != 0 || st.Offline) && time.Now().Before(end); st = w.Status() {
		time.Sleep(20 * time.Millisecond) // the worker recounts from the store once a second
	}
	if st.Pending != 0 || st.Offline || st.LastSuccess.IsZero() {
		t.Fatalf("worker status after the drain: %+v", st)
	}
}

// eachFault drains a few logs with one fault armed on the first matching
// request.
func (s *suite) eachFault(t *testing.T, f Fault) {
	conn, _ := s.start(t, s.c.timeout)
	db := openStore(t, t.TempDir())
	keys := s.enqueue(t, db, logs(0, s.c.faultLogs))
	want := 1
	if f == FaultReadError {
		// A read that fails on its own changes nothing; make the worker
		// replay an ambiguous write, which reads before writing.
		s.h.Arm(FaultCommitThenDrop, 1)
		want = 2
	}
	s.h.Arm(f, 1)
	w := s.worker(db, conn)
	runWorker(t, w)
	s.waitDrained(t, db, w)
	s.assertExactlyOnce(t, keys)
	assertDone(t, db, len(keys))
	s.driveReads(t, conn, want)
	if fired := s.h.Fired(); fired < want {
		t.Fatalf("the %v fault did not fire (%d of %d fired)", f, fired, want)
	}
}

// killedMidDrain: the app process (this test binary, re-executed by Main)
// is killed with SIGKILL three times while it drains slowed-down writes;
// after a restart in this process every log is delivered exactly once.
func (s *suite) killedMidDrain(t *testing.T) {
	n := s.c.crashLogs
	const timeout = 10 * time.Second // well above the slowed writes: no FaultSlow here
	_, kr := s.start(t, timeout)
	dir := t.TempDir()
	db := openStore(t, dir)
	keys := s.enqueue(t, db, logs(0, n))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	kfile := filepath.Join(t.TempDir(), "keyring.json")
	if err := kr.SaveFile(kfile); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), envChild+"=1", envDir+"="+dir, envBatch+"="+strconv.Itoa(max(s.c.batch/2, 1)),
		envAmb+"="+s.c.amb.String(), envKeyring+"="+kfile)
	env = append(env, s.h.ChildEnv(t, kr, agent)...)
	s.h.Slow(s.c.slow) // so that kills land while requests are in flight
	step := max(n/12, 1)
	for round := range 3 {
		before := total(s.h.Logs())
		var stderr bytes.Buffer
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env, cmd.Stderr = env, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		deadline := time.Now().Add(time.Minute)
		for total(s.h.Logs()) < before+step+round*step/3 && time.Now().Before(deadline) {
			select {
			case err := <-exited:
				t.Fatalf("round %d: the child exited by itself (%v): %s", round, err, stderr.String())
			case <-time.After(5 * time.Millisecond):
			}
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL on unix
			t.Fatal(err)
		}
		<-exited
		if total(s.h.Logs()) == before {
			t.Fatalf("round %d: the child delivered nothing within a minute: %s", round, stderr.String())
		}
		t.Logf("round %d: killed with %d of %d logs in the crm", round, total(s.h.Logs()), n)
	}
	if got := total(s.h.Logs()); got >= n {
		t.Fatalf("the drain finished before the last kill (%d records); more logs are needed (WithCrashLogs)", got)
	}
	s.h.Slow(0)

	// Restart: this process is the app now, with the tokens the child
	// left in the keyring.
	if err := kr.LoadFile(kfile); err != nil {
		t.Fatal(err)
	}
	conn := s.h.Connector(t, kr, timeout)
	db = openStore(t, dir)
	p, err := db.Profile(agent)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Counts()
	if err != nil || c.InFlight != 0 {
		t.Fatalf("entries left in flight after reopening: %+v %v", c, err)
	}
	t.Logf("after the kills: %d ambiguous (interrupted in flight), %d pending, %d done", c.Ambiguous, c.Pending, c.Done)
	w := s.worker(db, conn)
	runWorker(t, w)
	s.waitDrained(t, db, w)
	s.assertExactlyOnce(t, keys)
	assertDone(t, db, n)
}

// authRevoked: the agent's sign-in is revoked after a first drain with a
// working session; the worker parks the logs queued next (kept, nothing
// written) until the agent signs in again, and then delivers them exactly
// once.
func (s *suite) authRevoked(t *testing.T) {
	n := max(s.c.faultLogs*4, 20)
	conn, _ := s.start(t, 5*time.Second)
	db := openStore(t, t.TempDir())
	w := s.worker(db, conn)
	runWorker(t, w)
	keys := s.enqueue(t, db, logs(0, n))
	s.waitDrained(t, db, w) // the session works

	s.h.RevokeAll()
	later := s.enqueue(t, db, logs(n, n))
	w.Wake()
	deadline := time.Now().Add(time.Minute)
	for st := w.Status(); !(slices.Equal(st.SignInNeeded, []string{agent}) && st.Pending == n) && time.Now().Before(deadline); st = w.Status() {
		time.Sleep(20 * time.Millisecond)
	}
	if st := w.Status(); !slices.Equal(st.SignInNeeded, []string{agent}) || st.Pending != n {
		t.Fatalf("with the sign-in revoked the worker should ask %s to sign in with %d logs kept: %+v", agent, n, st)
	}
	if got := total(s.h.Logs()); got != n {
		t.Fatalf("the crm holds %d records, want the %d written before the revocation", got, n)
	}
	p, err := db.Profile(agent)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := p.Counts(); err != nil || c.Queued() != n || c.Dead != 0 {
		t.Fatalf("the logs must wait for the sign-in: counts %+v %v", c, err)
	}
	s.h.SignIn(t, conn, agent)
	w.Wake()
	s.waitDrained(t, db, w)
	for k := range later {
		keys[k] = true
	}
	s.assertExactlyOnce(t, keys)
	assertDone(t, db, 2*n)
	st := w.Status()
	for end := time.Now().Add(10 * time.Second); len(st.SignInNeeded) != 0 && time.Now().Before(end); st = w.Status() {
		time.Sleep(20 * time.Millisecond)
	}
	if len(st.SignInNeeded) != 0 {
		t.Fatalf("still asking for a sign-in after it: %+v", st)
	}
}

// deadLetter: a log the CRM refuses is dead-lettered with the CRM's message
// while the others are delivered; Resend delivers it once the rule is
// lifted.
func (s *suite) deadLetter(t *testing.T) {
	rj := s.h.(Rejecter)
	n := max(s.c.faultLogs*2, 10)
	conn, _ := s.start(t, 5*time.Second)
	db := openStore(t, t.TempDir())
	all := logs(0, n)
	bad := all[3]
	badKey := store.IdempotencyKey(agent, bad.Key, s.h.Target())
	rj.Reject(badKey, bad)
	keys := s.enqueue(t, db, all)
	w := s.worker(db, conn)
	runWorker(t, w)
	s.waitDrained(t, db, w)
	dead, err := w.DeadLetters(agent)
	if err != nil || len(dead) != 1 || dead[0].CallKey != bad.Key || dead[0].LastError == "" {
		t.Fatalf("want the refused log dead-lettered with the crm's message: %+v %v", dead, err)
	}
	got := s.h.Logs()
	if got[badKey] != 0 || total(got) != n-1 {
		t.Fatalf("%d records (%d of the refused log), want the %d others", total(got), got[badKey], n-1)
	}
	p, err := db.Profile(agent)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := p.Counts(); err != nil || c.Done != n-1 || c.Dead != 1 || c.Queued() != 0 {
		t.Fatalf("counts %+v %v", c, err)
	}
	rj.AcceptAll()
	if err := w.Resend(agent, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	s.waitDrained(t, db, w)
	s.assertExactlyOnce(t, keys)
	assertDone(t, db, n)
}

// start starts a fresh emulator, builds a connector with an in-memory
// keyring and signs the agent in.
func (s *suite) start(t testing.TB, timeout time.Duration) (crm.Connector, *crmtest.Keyring) {
	t.Helper()
	s.h.Start(t)
	kr := crmtest.NewKeyring()
	conn := s.h.Connector(t, kr, timeout)
	if conn.Name() != s.h.Target() {
		t.Fatalf("connector %q, harness target %q", conn.Name(), s.h.Target())
	}
	s.h.SignIn(t, conn, agent)
	if kr.Len() == 0 {
		t.Fatalf("signed in, but the keyring holds no token")
	}
	return conn, kr
}

func (s *suite) worker(db *store.DB, conn crm.Connector) *outbox.Worker {
	return outbox.New(db, conn, outbox.WithLogger(s.c.log), outbox.WithBatchSize(s.c.batch),
		outbox.WithBackoff(20*time.Millisecond, 300*time.Millisecond), outbox.WithRateLimitPause(300*time.Millisecond),
		outbox.WithAmbiguousDelay(s.c.amb), outbox.WithPoll(100*time.Millisecond), outbox.WithRequestTimeout(30*time.Second))
}

func runWorker(t *testing.T, w *outbox.Worker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = w.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

func openStore(t testing.TB, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(dir, store.WithLogger(quiet), store.WithQueueSize(4096))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// logs returns n call logs of agent, numbered from first.
func logs(first, n int) []domain.CallLog {
	out := make([]domain.CallLog, n)
	for i := range out {
		t0 := time.Date(2026, 5, 7, 9, 0, 0, 0, time.UTC).Add(time.Duration(first+i) * time.Minute)
		out[i] = domain.CallLog{Key: fmt.Sprintf("%s-call-%05d", agent, first+i), AgentID: agent,
			Direction: domain.DirectionInbound, Remote: domain.Party{Number: "+14155551212"},
			StartedAt: t0, AnsweredAt: t0.Add(3 * time.Second), EndedAt: t0.Add(2 * time.Minute),
			Talk: 117 * time.Second, Outcome: "Resolved", Notes: "notes"}
	}
	return out
}

// enqueue saves logs through the store's CallLogger for the harness's
// target (the path the agent uses), waits until all are durable and
// returns their idempotency keys.
func (s *suite) enqueue(t testing.TB, db *store.DB, logs []domain.CallLog) map[string]bool {
	t.Helper()
	target := s.h.Target()
	sink := crmtest.NewSink(len(logs))
	cl := db.NewCallLogger(target)
	cl.Attach(sink)
	keys := map[string]bool{}
	for _, l := range logs {
		for {
			err := cl.SaveCallLog(l)
			if err == nil {
				break
			}
			if !errors.Is(err, store.ErrQueueFull) {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond)
		}
		keys[store.IdempotencyKey(l.AgentID, l.Key, target)] = true
	}
	for range logs {
		select {
		case in := <-sink.C:
			if f, ok := in.(domain.CallLogFailed); ok {
				t.Fatalf("save failed: %v", f.Reason)
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("call logs not saved within 2 minutes")
		}
	}
	return keys
}

// waitDrained waits until no agent has anything left to deliver.
func (s *suite) waitDrained(t testing.TB, db *store.DB, w *outbox.Worker) {
	t.Helper()
	s.waitDrainedEvery(t, db, w, 50*time.Millisecond)
}

// waitDrainedEvery is waitDrained looking every poll.
func (s *suite) waitDrainedEvery(t testing.TB, db *store.DB, w *outbox.Worker, poll time.Duration) {
	t.Helper()
	deadline := time.Now().Add(s.c.drain)
	for time.Now().Before(deadline) {
		agents, err := db.OutboxAgents()
		if err != nil {
			t.Fatal(err)
		}
		if len(agents) == 0 {
			return
		}
		time.Sleep(poll)
	}
	t.Fatalf("outbox not drained within %v: %+v", s.c.drain, w.Status())
}

// driveReads makes lookups until want faults fired (at most a few), for
// connectors that never read before a write: a read the CRM answers with
// 500 must fail as transient, never look like "no match".
func (s *suite) driveReads(t *testing.T, conn crm.Connector, want int) {
	t.Helper()
	if s.h.Fired() >= want {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sess, err := conn.Resume(ctx, agent)
	if err != nil {
		t.Fatalf("resume for a lookup: %v", err)
	}
	p, err := crm.NewNormalizer("US").Parse("+14155551212")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5 && s.h.Fired() < want; i++ {
		before := s.h.Fired()
		_, err := sess.LookupPhone(ctx, p)
		if s.h.Fired() > before && (err == nil || crm.KindOf(err) != crm.KindTransient) {
			t.Fatalf("a lookup answered 500 returned %v (kind %v), want a transient error", err, crm.KindOf(err))
		}
	}
}

// assertExactlyOnce checks one record per key and nothing else.
func (s *suite) assertExactlyOnce(t testing.TB, keys map[string]bool) {
	t.Helper()
	seen := s.h.Logs()
	lost, dup, extra := 0, 0, 0
	for k := range keys {
		switch seen[k] {
		case 0:
			lost++
		case 1:
		default:
			dup++
		}
	}
	for k := range seen {
		if !keys[k] {
			extra++
		}
	}
	if lost != 0 || dup != 0 || extra != 0 {
		t.Fatalf("%d records for %d logs: %d lost, %d duplicated, %d unexpected keys", total(seen), len(keys), lost, dup, extra)
	}
	if wc, ok := s.h.(WriteCounter); ok {
		rewritten := 0
		for k, n := range wc.Writes() {
			if keys[k] && n != 1 {
				rewritten++
			}
		}
		if rewritten != 0 {
			t.Fatalf("%d records were written again by a replay", rewritten)
		}
	}
}

// assertDone checks the store: n logs done, none dead or still queued.
func assertDone(t testing.TB, db *store.DB, n int) {
	t.Helper()
	p, err := db.Profile(agent)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Counts()
	if err != nil || c.Done != n || c.Dead != 0 || c.Queued() != 0 {
		t.Fatalf("store counts %+v (want %d done) %v", c, n, err)
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
