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
// delivered once the agent signs in again). Each ends by asserting exactly
// one CRM record per call key and none extra (Harness.Logs) and the store's
// counts (every log done, none dead).
//
// It is imported by tests only, never by the app. It imports crm,
// crm/crmtest, crm/outbox, store, secrets and agent/domain; never an
// emulator or a connector (those come in through the Harness), never agent,
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
