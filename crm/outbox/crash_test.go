package outbox_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/sfemu"
	"github.com/callcentre/softphone/secrets"
	"github.com/callcentre/softphone/store"
)

// Environment of the re-executed child process.
const (
	envChild   = "CRM_OUTBOX_CHILD"
	envDir     = "CRM_OUTBOX_DIR"
	envURL     = "CRM_OUTBOX_URL"
	envRefresh = "CRM_OUTBOX_REFRESH" // test-only: the child's keyring is in memory
	envBatch   = "CRM_OUTBOX_BATCH"
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) == "1" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// child is the app process the crash test kills: a real store in the
// parent's temp dir, the real connector and worker, draining until killed.
func child() int {
	kr := crmtest.NewKeyring()
	_ = kr.Set("alice", salesforce.Name, secrets.KindRefreshToken, os.Getenv(envRefresh))
	conn, err := salesforce.New(salesforce.Config{LoginURL: os.Getenv(envURL), ClientID: sfemu.DefaultClientID,
		Keyring: kr, Logger: quiet, Opener: func(string) error { return fmt.Errorf("no browser in the child") }})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	db, err := store.Open(os.Getenv(envDir), store.WithLogger(quiet), store.WithOpenTimeout(10*time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer db.Close()
	batch, _ := strconv.Atoi(os.Getenv(envBatch))
	w := outbox.New(db, conn, outbox.WithLogger(quiet), outbox.WithBatchSize(batch), outbox.WithPoll(50*time.Millisecond),
		outbox.WithBackoff(20*time.Millisecond, 200*time.Millisecond), outbox.WithAmbiguousDelay(time.Second))
	_ = w.Run(context.Background())
	return 0
}

// TestKilledMidDrain is the second "done when": the app process is
// killed with SIGKILL in the middle of a drain, several times, and after
// the restart every call still has exactly one Task, never patched.
func TestKilledMidDrain(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.signIn(t, "alice")
	rt, err := e.keyring.Get("alice", salesforce.Name, secrets.KindRefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	// Slow writes, so that kills land while requests are in flight.
	e.emu.AddFault(sfemu.Fault{Match: sfemu.Match{Method: "PATCH", Path: "/composite/*", Every: true}, Latency: 80 * time.Millisecond})
	dir := t.TempDir()
	db := openStore(t, dir)
	const n = 1500
	logs := make([]domain.CallLog, n)
	for i := range logs {
		logs[i] = mkLog("alice", i)
	}
	keys := enqueue(t, db, logs)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	kills := 0
	for round := range 3 {
		before := len(e.emu.Records("Task"))
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), envChild+"=1", envDir+"="+dir, envURL+"="+e.emu.URL(),
			envRefresh+"="+rt, envBatch+"=25")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(time.Minute)
		for len(e.emu.Records("Task")) < before+150+round*37 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		kills++
		t.Logf("round %d: killed with %d of %d tasks written", round, len(e.emu.Records("Task")), n)
	}
	if got := len(e.emu.Records("Task")); got >= n {
		t.Fatalf("the drain finished before the last kill (%d tasks)", got)
	}

	// Restart: this process is the app now.
	db = openStore(t, dir)
	defer db.Close()
	p, _ := db.Profile("alice")
	c, err := p.Counts()
	if err != nil || c.InFlight != 0 {
		t.Fatalf("entries left in flight after reopening: %+v %v", c, err)
	}
	t.Logf("after the kills: %d ambiguous (interrupted in flight), %d pending", c.Ambiguous, c.Pending)
	w := outbox.New(db, e.conn, outbox.WithLogger(logger()), outbox.WithPoll(50*time.Millisecond),
		outbox.WithBackoff(20*time.Millisecond, 200*time.Millisecond), outbox.WithAmbiguousDelay(time.Second))
	runWorker(t, w)
	waitDrained(t, db, w, 2*time.Minute)
	assertExactlyOnce(t, e.emu, keys)
	if c, err := p.Counts(); err != nil || c.Done != n || c.Dead != 0 {
		t.Fatalf("counts %+v %v", c, err)
	}
}
