package store

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/callcentre/softphone/agent/domain"
)

// ackSink prints the key of every saved log to stdout (one write per line,
// atomic on a pipe) once the store has posted CallLogSaved.
type ackSink struct{}

func (ackSink) Post(in domain.Input) error {
	if s, ok := in.(domain.CallLogSaved); ok {
		_, err := os.Stdout.WriteString("ACK " + s.Key + "\n")
		return err
	}
	return nil
}

var crashTargets = []string{"crm1", "crm2"}

// crashChild writes call logs as fast as the store takes them (re-saving
// some earlier keys) while another goroutine works the outbox, until it is
// killed.
func crashChild(dir string, round int) {
	db, err := Open(dir, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	go func() { // outbox worker on crm1, batch by batch: in flight, then done or retry
		p, _ := db.Profile("crash-agent")
		for {
			batch, _, err := p.NextBatch("crm1", time.Now().Add(time.Hour), 16)
			if err != nil || len(batch) == 0 {
				time.Sleep(time.Millisecond)
				continue
			}
			var fly, results []Change
			for _, e := range batch {
				fly = append(fly, Change{ID: e.ID, To: StateInFlight})
				r := Change{ID: e.ID, To: StateDone}
				switch e.ID.Seq % 5 {
				case 0:
					r = Change{ID: e.ID, To: StatePending, LastError: "503", NextAt: time.Now()}
				case 1:
					r = Change{ID: e.ID, To: StateAmbiguous, LastError: "timeout", NextAt: time.Now()}
				}
				results = append(results, r)
			}
			_, _ = p.Transition(fly)
			_, _ = p.Transition(results)
		}
	}()
	go func() { // outbox worker on crm2, one entry at a time
		p, _ := db.Profile("crash-agent")
		for {
			e, ok, err := p.Next("crm2", time.Now().Add(time.Hour))
			if err != nil || !ok {
				time.Sleep(time.Millisecond)
				continue
			}
			_ = p.MarkInFlight(e.ID)
			if e.ID.Seq%3 == 0 {
				_ = p.MarkRetry(e.ID, "503", time.Now())
			} else {
				_ = p.MarkDone(e.ID)
			}
		}
	}()
	c := db.NewCallLogger(crashTargets...)
	c.Attach(ackSink{})
	kinds := []string{"in", "out", "missed"}
	for i := 0; ; i++ {
		r, n := round, i
		if i%7 == 3 && round > 0 { // an earlier round's key again: must stay single
			r, n = round-1, i/7
		}
		l := mkLog("crash-agent", n, kinds[n%3], t0.Add(time.Duration(n)*time.Second))
		l.Key = fmt.Sprintf("r%d-%d", r, n)
		for {
			err := c.SaveCallLog(l)
			if err == nil {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
}

func TestCrashConsistency(t *testing.T) {
	if os.Getenv(childEnv) == "crash" {
		round, _ := strconv.Atoi(os.Getenv("STORE_TEST_ROUND"))
		crashChild(os.Getenv("STORE_TEST_DIR"), round)
		return
	}
	if testing.Short() {
		t.Skip("crash test runs child processes for several seconds")
	}
	dir := t.TempDir()
	acked := map[string]bool{}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	deadline := time.Now().Add(8 * time.Second)
	rounds := 0
	for round := 0; round < 12 && (round < 4 || time.Now().Before(deadline)); round++ {
		rounds++
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashConsistency$")
		cmd.Env = append(os.Environ(), childEnv+"=crash", "STORE_TEST_DIR="+dir, fmt.Sprint("STORE_TEST_ROUND=", round))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		got := make(chan []string)
		first := make(chan struct{})
		go func() {
			var keys []string
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if k, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
					if keys = append(keys, k); len(keys) == 1 {
						close(first)
					}
				}
			}
			got <- keys
		}()
		// Kill at a random point once the child is writing.
		select {
		case <-first:
		case <-time.After(5 * time.Second):
		}
		time.Sleep(time.Duration(rng.IntN(700)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		keys := <-got
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: child ended on its own: %v\n%s", round, err, stderr.String())
		}
		for _, k := range keys {
			acked[k] = true
		}
		n := checkConsistency(t, dir, acked)
		t.Logf("round %d: %d acked this round, %d stored in total", round, len(keys), n)
	}
	if len(acked) < 100 {
		t.Errorf("only %d logs acknowledged over %d rounds: the test did not exercise much", len(acked), rounds)
	}
}

// checkConsistency reopens the store and checks every invariant; it returns
// the number of stored calls.
func checkConsistency(t *testing.T, dir string, acked map[string]bool) int {
	t.Helper()
	db, err := Open(dir, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	p, err := db.Profile("crash-agent")
	if err != nil {
		t.Fatal(err)
	}
	var stored int
	err = db.view(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return fmt.Errorf("bbolt check: %w", err)
		}
		pb := tx.Bucket(bProfiles).Bucket([]byte("crash-agent"))
		if pb == nil {
			return nil
		}
		h, hk, ht := pb.Bucket(bHistory), pb.Bucket(bHKey), pb.Bucket(bHTime)
		keys := map[string]uint64{}
		err := h.ForEach(func(k, v []byte) error {
			var rec historyRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			if _, dup := keys[rec.Log.Key]; dup {
				return fmt.Errorf("duplicate history entry for %s", rec.Log.Key)
			}
			keys[rec.Log.Key] = btoi(k)
			if idx := hk.Get([]byte(rec.Log.Key)); idx == nil || btoi(idx) != btoi(k) {
				return fmt.Errorf("key index wrong for %s", rec.Log.Key)
			}
			if ht.Get(timeKey(historyTime(&rec), btoi(k))) == nil {
				return fmt.Errorf("time index misses %s", rec.Log.Key)
			}
			if vb := viewBucket(viewFlags(&rec.Log)); vb != nil && pb.Bucket(vb).Get(k) == nil {
				return fmt.Errorf("view index %s misses %s", vb, rec.Log.Key)
			}
			return nil
		})
		if err != nil {
			return err
		}
		stored = len(keys)
		views := pb.Bucket(bVMissed).Stats().KeyN + pb.Bucket(bVIn).Stats().KeyN + pb.Bucket(bVOut).Stats().KeyN
		if hk.Stats().KeyN != stored || ht.Stats().KeyN != stored || views != stored {
			return fmt.Errorf("index sizes key=%d time=%d views=%d, history=%d", hk.Stats().KeyN, ht.Stats().KeyN, views, stored)
		}
		for k := range acked {
			if _, ok := keys[k]; !ok {
				return fmt.Errorf("acknowledged log %s missing from history", k)
			}
		}
		// One outbox entry per stored log and target, never two.
		for _, target := range crashTargets {
			tb := pb.Bucket(bOutbox).Bucket([]byte(target))
			seen := map[string]bool{}
			for _, sub := range [][]byte{bActive, bDead, bDone} {
				err := tb.Bucket(sub).ForEach(func(_, v []byte) error {
					var e Entry
					if err := json.Unmarshal(v, &e); err != nil {
						return err
					}
					if seen[e.CallKey] {
						return fmt.Errorf("%s: two outbox entries for %s", target, e.CallKey)
					}
					seen[e.CallKey] = true
					if _, ok := keys[e.CallKey]; !ok {
						return fmt.Errorf("%s: outbox entry without history: %s", target, e.CallKey)
					}
					if e.State == StateInFlight {
						return fmt.Errorf("%s: entry still in flight after reopen", target)
					}
					if e.IdempotencyKey != IdempotencyKey("crash-agent", e.CallKey, target) {
						return fmt.Errorf("%s: wrong idempotency key", target)
					}
					return nil
				})
				if err != nil {
					return err
				}
			}
			if len(seen) != stored {
				return fmt.Errorf("%s: %d outbox entries for %d logs", target, len(seen), stored)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.History(ViewAll, 0); err != nil {
		t.Fatal(err)
	}
	return stored
}
