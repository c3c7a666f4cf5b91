// Package sfemu is a Salesforce REST emulator: a real HTTP server on
// loopback that implements the subset of the Salesforce API the softphone
// uses, with the real response shapes, error envelopes and status codes,
// plus fault injection. Tests run the real connector (net/http client, JSON,
// OAuth) against it; demo mode can run it in place of an org; the emulators
// of the other CRMs should follow the same pattern.
//
// Implemented: OAuth 2.0 authorize (authorization code with PKCE, state,
// prompt=login, exact callback match), token (authorization_code,
// refresh_token with optional rotation), revoke, userinfo and the identity
// URL; under /services/data/vNN.N: the version list, limits, Task describe,
// SOSL search (FIND {...} IN PHONE|NAME|ALL FIELDS RETURNING ...), a SOQL
// subset (SELECT ... FROM ... WHERE a = 'x' AND b IN (...) LIMIT n), Task
// create, read and upsert by external ID, and sObject Collections upsert
// (up to 200 records, allOrNone). Every data response carries
// Sforce-Limit-Info and counts against the daily limit.
//
// Faults (AddFault, or POST /__emu__/faults): an error status with an
// errorCode or a raw (HTML) body, expired access tokens, revoked refresh
// tokens, latency, a dropped connection before or after the write is
// committed, and a truncated JSON body after the commit. Stop and Restart
// take the server down and back up on the same address (the CRM is down).
// The control plane lives under /__emu__/, never under /services.
//
// It imports only the standard library. It is a test and demo peer, not
// production code: tokens are random but kept in memory only.
//
// # Concurrency contract
//
// A Server is safe for concurrent use: one mutex guards the org state; a
// request holds it only while it reads or applies state, never while it
// sleeps for a latency fault.
package sfemu
