// Package store is the softphone's local database: one bbolt file
// (softphone.db, mode 0600, in a 0700 directory from DefaultDir) holding a
// profile per agent (hot desk) with settings, call history, favorites, the
// contact cache, the local contact directory (the embedded CRM of
// crm/local, indexed by number), the CRM outbox and the recordings index,
// plus machine-level settings such as the shared-PC flag. It implements
// domain.CallLogger through CallLogger. The outbox worker moves whole
// batches in one transaction (NextBatch, Transition).
//
// Store is the only package that imports go.etcd.io/bbolt. It imports
// agent/domain and the standard library, never another adapter (sip, audio,
// crm, secrets, ui) and never agent: the shared-PC logout takes the secrets
// store through the small SecretRemover interface. Secrets never go in the
// database: PutSettings refuses values that look like passwords or tokens.
//
// # Durability
//
// Every write is a managed bbolt transaction (Update/View), committed with
// fsync. A call log, its history indexes and one outbox entry per CRM target
// are written in one transaction, and CallLogSaved is posted only after that
// transaction has committed. Saving a call key that is already stored writes
// nothing and is acknowledged again, so the core may retry freely.
// Sequence keys come from NextSequence, encoded big-endian so cursors walk
// them in order. The file carries a schema version; Open runs the ordered
// migrations in one transaction and turns outbox entries a crash left in
// flight into ambiguous ones.
//
// # Concurrency contract
//
//   - DB and Profile methods are safe from any goroutine. They block on
//     disk (an Update waits for fsync), so the UI calls them off its event
//     goroutine and the actor never calls them.
//   - CallLogger.SaveCallLog is the one method the actor calls: it only
//     validates and enqueues. A single writer goroutine per DB commits the
//     queued logs (grouping what is queued into one transaction) and then
//     posts the results to the sink, outside any transaction. Post may block
//     while the agent's inbox is full; SaveCallLog never waits for it and
//     fails with ErrQueueFull when the queue is full.
//   - Open holds an exclusive file lock; a second Open of the same file, in
//     this or another process, fails with ErrAlreadyRunning after the
//     timeout.
//
// # Caveats
//
// bbolt does not zero freed pages, so data deleted by retention stays in
// free pages of the file until they are reused; a wiping shared-PC Logout
// therefore compacts the file (Compact), which briefly releases the
// single-instance file lock. The built-in E.164 normaliser knows no numbering plans;
// package crm should use a maintained phone-number library and pass it in
// with WithNormalizer.
//
// No log line carries a secret, a phone number or a notes body: the store
// logs call keys, agent IDs, counts and errors only.
package store
