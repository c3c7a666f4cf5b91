// Package conformance is the exactly-once suite every CRM connector passes:
// the tests the Salesforce connector passed first (crm/outbox), made
// reusable. A connector's test package implements Harness over its
// emulator (built on crm/emukit, or crm/sfemu for Salesforce) and calls
//
//	func TestMain(m *testing.M) { conformance.Main(m, newHarness()) }
//	func TestConformance(t *testing.T) { conformance.Run(t, newHarness()) }
//
// Run drives the real store (store.NewCallLogger, the path the agent uses),
// the real outbox worker (crm/outbox) and the real connector over real HTTP
// on 127.0.0.1 through four subtests: OfflineBacklog (logs queued while the
// CRM is down, drained under every fault kind), EachFault (one fault at a
// time, so a failure names it), KilledMidDrain (the app process, a
// re-executed test binary, is killed with SIGKILL three times mid-drain)
// and AuthRevoked (the agent's sign-in is revoked: the logs wait, and are
// delivered once the agent signs in again), plus DeadLetter (a log the CRM
// refuses is dead-lettered with its message without blocking the others,
// and Resend delivers it) when the harness implements Rejecter. Each ends
// by asserting exactly one CRM record per call key and none extra
// (Harness.Logs) and the store's counts (every log done, none dead).
//
// Bench reports a connector's drain throughput (logs/s, batched and one by
// one) for make crm-bench:
//
//	func BenchmarkConformanceDrain(b *testing.B) { conformance.Bench(b, newHarness()) }
//
// # Writing a Harness
//
// Start a fresh emulator per Start; Connector gives the connector an
// http.Client with the timeout asked for; SignIn reuses the CRM user of an
// agent it signed in before. Arm maps each Fault onto an emukit.Fault (or
// sfemu.Fault) whose Match selects the connector's writes (reads for
// FaultReadError) with Nth set:
//
//	FaultExpiredToken      ExpireAccessTokens: true
//	FaultServerError       Status: 503, Body: "<html>...</html>"
//	FaultRateLimited       Status: 429, Header: Retry-After: 1 (or the CRM's own signal)
//	FaultCommitThenDrop    CommitThenDrop: true
//	FaultDropBeforeCommit  DropBeforeCommit: true
//	FaultTruncated         TruncateBody: true
//	FaultSlow              Latency: the Connector timeout + 300 ms
//	FaultReadError         Status: 500 on GET (lookups and reads before a write)
//
// Slow is an Every latency fault on writes (Slow(0) may disarm everything).
// A harness over an emukit emulator embeds EmukitBase, which does all of
// that (and Start, Stop, Restart, RevokeAll and the browser sign-in) from
// the matches of the connector's writes and reads and the CRM's own
// answers where they differ from the defaults above.
// ChildConnector builds its keyring with ChildKeyring, so tokens a rotating
// CRM issues to the killed child are what the parent resumes with. A
// harness whose emulator counts writes per record also implements
// WriteCounter, and the suite then fails a replay that wrote a record
// twice; one whose emulator has validation rules implements Rejecter. CatchesBroken
// proves, over a counting harness, that the suite fails a connector that
// fakes success and one that replays without reading first
// (crm/salesforce and crm/hubspot run it).
//
// It is imported by tests only, never by the app. It imports crm,
// crm/crmtest, crm/emukit, crm/outbox, store, secrets and agent/domain;
// never an emulator or a connector (those come in through the Harness), never agent,
// ui, sip or audio.
//
// # Concurrency contract
//
// Run runs its subtests one after another on the test's goroutine (they
// start a worker goroutine each and stop it before returning); it calls
// Harness methods from that goroutine only, except Logs and Fired, which
// it may call while the worker is delivering, so a Harness must make those
// two safe for concurrent use with the emulator's handlers. Main must be
// the package's TestMain: in the re-executed child it never returns (the
// parent kills it).
package conformance
