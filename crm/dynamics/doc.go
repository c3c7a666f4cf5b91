// Package dynamics is the Microsoft Dynamics 365 / Dataverse connector
// (crm.Connector and crm.Session) over the Dataverse Web API v9.2.
//
// Sign-in is Entra ID's authorization code flow with PKCE for a public
// client through a loopback redirect on http://localhost (Entra ignores
// the port, so each sign-in listens on a free one); prompt=login on
// shared PCs, else prompt=select_account. Tokens live only in the keyring
// (crm/oauth.Tokens): Entra rotates the refresh token on every use, and
// the new one is persisted before the new access token is used. The
// identity is WhoAmI plus the systemuser's name. Sign-out removes the
// tokens (Entra has no revocation endpoint for public clients).
// Connector.SignInDeviceCode is the device code flow for desks without a
// usable browser (not part of crm.Connector: the app type-asserts it).
//
// Lookup queries contacts, accounts (and leads when configured) with
// OData eq on the E.164 and national forms and endswith on the national
// number, verifies every hit with crm.Normalizer.Match and ranks exact
// E.164 matches first. A call is logged as a phonecall activity whose
// activityid is UUIDv5 of the idempotency key: PATCH with If-None-Match: *
// creates it (412 means it already exists), then a second PATCH closes it
// (Received or Made). A log that may already exist is read first, so the
// close is never repeated and nothing is written twice.
//
// Errors map to crm.Kind: 401 refresh once and replay; invalid_grant
// KindAuthRevoked with crm.ErrSignInRequired; 429 (service protection)
// KindRateLimited with Retry-After; 412 or 0x80040237 KindAlreadyExists;
// 5xx transient (ambiguous for writes); 400/403/404 permanent with
// Dataverse's message; an unreadable answer transient for reads and
// ambiguous for writes.
//
// It imports crm, crm/oauth, agent/domain and secrets (through crm), never
// agent, ui, sip, audio or store; net/http for Dataverse lives here only.
// No log line or error carries a token, a phone number or notes.
//
// # Concurrency contract
//
// Connector and its sessions are safe for concurrent use. Every method
// that does I/O takes a context and blocks: call it from the outbox
// worker's goroutine or crm.Directory's lookup goroutines, never from the
// agent's actor or the UI goroutine.
package dynamics
