// Package outbox is the CRM outbox worker. It drains the store's durable
// outbox for one CRM target (a crm.Connector), agent by agent, each agent
// strictly with its own session: a log is never sent with another agent's
// token.
//
// Delivery is exactly once per call and target: an entry is marked in
// flight (durably) before its request; success or "already exists" marks it
// done; a request that may have been applied (connection lost after
// sending, timeout, unreadable answer, or a crash while in flight) makes it
// ambiguous, and an ambiguous entry is only ever replayed through the
// connector's idempotent path (read first, then upsert). Permanent
// refusals are dead-lettered with the CRM's message and stop blocking the
// queue; Resend puts them back. Transient failures back off exponentially
// with jitter; rate limits pause the CRM until Retry-After (or a default);
// when the CRM is unreachable the worker pauses and probes with a growing
// interval, resuming by itself; a revoked sign-in parks that agent's
// entries until the agent signs in again. Entries of a target are sent in
// queue order, up to the connector's MaxBatch per request, except that an
// ambiguous entry waiting out its AmbiguousDelay is passed by the entries
// behind it (exactly-once holds per entry, through its own idempotency
// key, so no order across calls is needed; the CRM orders activities by
// their call times); after a whole request ended ambiguous, the agent's
// next request waits its back-off.
//
// It imports crm, store and agent/domain; never agent, ui, sip or audio.
//
// # Concurrency contract
//
// Run drains on the calling goroutine until its context ends; run one
// Worker per target. Wake, Status, Resend, DeadLetters and Flush are safe
// from any goroutine (Status never blocks on I/O; Resend, DeadLetters and
// Flush read or write the store, so call them off the UI goroutine). The
// OnChange callback runs on the worker's goroutine and must not block.
package outbox
