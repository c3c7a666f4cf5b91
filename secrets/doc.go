// Package secrets keeps the softphone's secrets (SIP passwords, CRM OAuth
// access and refresh tokens, client secrets) in the OS keyring only: the
// Secret Service on Linux, the Keychain on macOS and the Credential Manager
// on Windows. Each secret is keyed by agent, account and kind under one
// service name, so agents sharing a PC (hot desk) never see each other's
// credentials and DeleteAgent removes everything of one agent at logout.
//
// Secrets longer than DefaultChunkSize are split into numbered items with
// a manifest carrying a checksum, so long OAuth tokens fit the Windows
// credential limit (2560 bytes) and macOS's; Delete removes every chunk.
//
// When no keyring answers, every call fails with ErrNoKeyring, whose
// message tells the user what to do; the package never falls back to
// storing a secret anywhere else (no file, no database, no log). Secret
// values are never logged.
//
// It is the only package that imports github.com/zalando/go-keyring. It
// imports nothing else of the project and must not import store, agent or
// any other adapter; store reaches it through store.SecretRemover.
//
// # Concurrency contract
//
// A Store is safe for concurrent use; updates that touch several keyring
// items (chunks, the per-agent index) are serialised. Every method blocks
// on the keyring (a D-Bus round trip, possibly a user prompt), bounded by
// WithTimeout, so call it off the UI goroutine and never from the agent's
// actor.
//
// # Caveats
//
// go-keyring calls cannot be cancelled: after a timeout the call's goroutine
// stays blocked until the keyring answers. On Linux the godbus library
// caches the session bus connection for the whole process.
package secrets
