package conformance

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
)

// Fault is one kind of failure the suite makes the CRM emulator inject. The
// numbers only name subtests; they are never persisted.
type Fault int

// Fault kinds, with the sfemu/emukit semantics a Harness maps them to.
const (
	// FaultExpiredToken: access tokens expire just before the write, which
	// is answered 401; the connector refreshes and replays.
	FaultExpiredToken Fault = iota + 1
	// FaultServerError: 503 with an HTML page from the edge; not applied.
	FaultServerError
	// FaultRateLimited: the CRM's rate-limit answer (429 with
	// Retry-After: 1, or its own signal); not applied.
	FaultRateLimited
	// FaultCommitThenDrop: applied, then the connection is reset before
	// the answer.
	FaultCommitThenDrop
	// FaultDropBeforeCommit: the connection is reset; not applied.
	FaultDropBeforeCommit
	// FaultTruncated: applied, and half of the answer is sent.
	FaultTruncated
	// FaultSlow: applied after longer than the client's HTTP timeout (the
	// timeout last passed to Harness.Connector), by at most 500 ms more,
	// so the replay (after the suite's ambiguous delay) finds it.
	FaultSlow
	// FaultReadError: a read (lookup or read-before-write) fails with 500.
	FaultReadError
)

// Faults lists every Fault, in order.
var Faults = []Fault{FaultExpiredToken, FaultServerError, FaultRateLimited, FaultCommitThenDrop,
	FaultDropBeforeCommit, FaultTruncated, FaultSlow, FaultReadError}

// String names the fault (the EachFault subtest names).
func (f Fault) String() string {
	switch f {
	case FaultExpiredToken:
		return "ExpiredToken"
	case FaultServerError:
		return "ServerError"
	case FaultRateLimited:
		return "RateLimited"
	case FaultCommitThenDrop:
		return "CommitThenDrop"
	case FaultDropBeforeCommit:
		return "DropBeforeCommit"
	case FaultTruncated:
		return "Truncated"
	case FaultSlow:
		return "Slow"
	case FaultReadError:
		return "ReadError"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Harness plugs one connector and its emulator into the suite. Run calls
// Start once per subtest (and per EachFault case) before anything else;
// the other methods act on the emulator of the last Start.
type Harness interface {
	// Target is the connector's Name(), the outbox target.
	Target() string
	// Start starts a fresh, empty emulator for one test (register its
	// shutdown with tb.Cleanup).
	Start(tb testing.TB)
	// Connector builds a connector on the running emulator with keyring kr
	// and an HTTP client of the given timeout.
	Connector(tb testing.TB, kr *crmtest.Keyring, timeout time.Duration) crm.Connector
	// SignIn makes agent a user of the CRM and signs it in through conn
	// (browser or provisioned-token path), so conn's keyring holds its
	// tokens. Called again for the same agent (after RevokeAll) it signs
	// the same CRM user in again.
	SignIn(tb testing.TB, conn crm.Connector, agent string)
	// Stop takes the CRM offline (connection refused); Restart brings it
	// back on the same address with its records, users and armed faults.
	Stop(tb testing.TB)
	Restart(tb testing.TB)
	// Arm makes the nth matching request from now fail with f. For every
	// fault but FaultReadError the matching requests are the log writes
	// (whatever the connector sends to create or upsert a call record);
	// for FaultReadError they are reads (lookups and reads before a
	// write). Fired counts the requests that faults armed with Arm have hit
	// so far (latency from Slow may be counted too; the suite checks Fired
	// only while Slow is off). Arm may be called while the CRM is stopped.
	Arm(f Fault, nth int)
	Fired() int
	// Slow delays every log write from now on by d before applying it (0
	// turns it off), so that KilledMidDrain's kills land while requests
	// are in flight. d stays well below the client timeout. The suite
	// never has faults armed with Arm while Slow is on, so a harness may
	// implement Slow(0) by disarming every fault.
	Slow(d time.Duration)
	// RevokeAll revokes every refresh token and invalidates every access
	// token (an admin revoked the app's sessions): the next request of any
	// session is refused and its refresh fails (crm.KindAuthRevoked).
	RevokeAll()
	// Logs maps every call key (crm.LogItem.Key, i.e. store.IdempotencyKey)
	// of the call records the CRM holds to the number of records with it.
	Logs() map[string]int
	// ChildEnv returns the environment a re-executed test binary needs to
	// build the same connector on the same emulator for agent (the
	// emulator's URL, the client id ...). ChildConnector runs in that child
	// and builds it from the environment; its keyring should be
	// ChildKeyring(), which holds kr's secrets and writes through to a
	// file, so tokens rotated by the child survive SIGKILL and the parent
	// resumes with them. (A harness that copies agent's tokens from kr into
	// the environment instead only works for CRMs that never rotate
	// refresh tokens.)
	ChildEnv(tb testing.TB, kr *crmtest.Keyring, agent string) []string
	ChildConnector() (crm.Connector, error)
}

// Option tunes Run.
type Option func(*config)

type config struct {
	logs      int           // OfflineBacklog size
	faultLogs int           // EachFault size
	crashLogs int           // KilledMidDrain size
	batch     int           // worker batch size (capped by MaxBatch)
	timeout   time.Duration // client HTTP timeout in the fault tests
	amb       time.Duration // outbox ambiguous delay
	slow      time.Duration // KilledMidDrain write latency
	drain     time.Duration // the longest wait for one drain
	log       *slog.Logger
}

func defaults() config {
	return config{logs: 400, faultLogs: 5, crashLogs: 240, batch: 20, timeout: time.Second,
		amb: 1500 * time.Millisecond, slow: 60 * time.Millisecond, drain: 2 * time.Minute,
		log: slog.New(slog.DiscardHandler)}
}

// WithLogs sets the number of logs of OfflineBacklog (default 400).
func WithLogs(n int) Option { return func(c *config) { c.logs = n } }

// WithFaultLogs sets the number of logs of each EachFault case (default 5).
func WithFaultLogs(n int) Option { return func(c *config) { c.faultLogs = n } }

// WithCrashLogs sets the number of logs of KilledMidDrain (default 240).
func WithCrashLogs(n int) Option { return func(c *config) { c.crashLogs = n } }

// WithBatchSize sets the worker's batch size (default 20, capped by the
// connector's MaxBatch), so OfflineBacklog makes enough requests for every
// armed fault to fire.
func WithBatchSize(n int) Option { return func(c *config) { c.batch = n } }

// WithTimeout sets the client HTTP timeout passed to Connector in the
// fault tests (default 1 s); FaultSlow must exceed it.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithAmbiguousDelay sets the outbox's ambiguous delay (default 1.5 s);
// it must exceed how much longer than the timeout FaultSlow takes.
func WithAmbiguousDelay(d time.Duration) Option { return func(c *config) { c.amb = d } }

// WithSlowWrites sets the write latency of KilledMidDrain (default 60 ms).
func WithSlowWrites(d time.Duration) Option { return func(c *config) { c.slow = d } }

// WithDrainTimeout bounds each wait for a drain (default 2 min).
func WithDrainTimeout(d time.Duration) Option { return func(c *config) { c.drain = d } }

// WithLogger sets the worker's logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }
