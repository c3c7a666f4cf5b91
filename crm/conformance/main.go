package conformance

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/store"
)

// Environment of the re-executed child process (KilledMidDrain).
const (
	envChild   = "CRM_CONFORMANCE_CHILD"
	envDir     = "CRM_CONFORMANCE_DIR"
	envBatch   = "CRM_CONFORMANCE_BATCH"
	envAmb     = "CRM_CONFORMANCE_AMBIGUOUS_DELAY"
	envKeyring = "CRM_CONFORMANCE_KEYRING"
)

// Main is the TestMain of a connector's test package. In the child process
// KilledMidDrain re-executes, it builds the connector with
// h.ChildConnector and runs the outbox worker on the store in the parent's
// directory until it is killed; otherwise it runs the tests.
func Main(m *testing.M, h Harness) {
	if os.Getenv(envChild) == "1" {
		os.Exit(child(h))
	}
	os.Exit(m.Run())
}

// ChildKeyring returns the keyring of the child process: the secrets the
// parent handed over, written back to their file on every change. It
// fails with ErrNotChild outside the child.
func ChildKeyring() (*crmtest.Keyring, error) {
	path := os.Getenv(envKeyring)
	if os.Getenv(envChild) != "1" || path == "" {
		return nil, ErrNotChild
	}
	return crmtest.NewKeyringFile(path)
}

// child is the app process KilledMidDrain kills: a real store in the
// parent's directory, the real connector and worker, draining until killed.
func child(h Harness) int {
	conn, err := h.ChildConnector()
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance child: connector:", err)
		return 2
	}
	if conn.Name() != h.Target() {
		fmt.Fprintf(os.Stderr, "conformance child: connector %q, harness target %q\n", conn.Name(), h.Target())
		return 2
	}
	batch, err := strconv.Atoi(os.Getenv(envBatch))
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance child: batch:", err)
		return 2
	}
	amb, err := time.ParseDuration(os.Getenv(envAmb))
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance child: ambiguous delay:", err)
		return 2
	}
	db, err := store.Open(os.Getenv(envDir), store.WithLogger(quiet), store.WithOpenTimeout(10*time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance child: store:", err)
		return 2
	}
	defer func() { _ = db.Close() }()
	w := outbox.New(db, conn, outbox.WithLogger(quiet), outbox.WithBatchSize(batch), outbox.WithPoll(50*time.Millisecond),
		outbox.WithBackoff(20*time.Millisecond, 200*time.Millisecond), outbox.WithAmbiguousDelay(amb))
	_ = w.Run(context.Background())
	return 0
}
