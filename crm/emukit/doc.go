// Package emukit is the common core of the in-repository CRM emulators
// (crm/hubspotemu, crm/dynamicsemu, crm/servicenowemu, crm/zendeskemu): a real
// HTTP server on 127.0.0.1 that can be stopped and restarted on the same
// port (the CRM going offline), an OAuth 2.0 authorization server (the
// authorize "login page" that signs the browser user in at once, PKCE,
// a token endpoint taking forms or JSON, refresh-token rotation, access
// token expiry, revocation), bearer-token authentication of API requests,
// a request journal, and fault injection with the same semantics as the
// Salesforce emulator's (crm/sfemu): an HTTP status with the CRM's own
// error envelope and headers, latency, expired access tokens, revoked
// refresh tokens, commit-then-drop, drop-before-commit and a truncated
// answer. Faults are armed from Go or over the /__emu__/ control plane.
//
// An emulator built on it supplies a Handler for its API and a function
// rendering its error envelope; it keeps its own records under its own
// lock.
//
// It imports only the standard library; it is used by tests, by the
// conformance suite (crm/conformance) and by demo modes, never by the
// connectors themselves.
//
// # Concurrency contract
//
// Server is safe for concurrent use; the Handler runs on net/http's
// goroutines, concurrently, with no emukit lock held.
package emukit
