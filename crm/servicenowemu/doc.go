// Package servicenowemu is a ServiceNow emulator for tests and demos: a
// real HTTP server on 127.0.0.1 (built on crm/emukit) that implements the
// subset of a ServiceNow instance the softphone's connector
// (crm/servicenow) uses, with ServiceNow's request and response shapes.
//
// Implemented:
//   - OAuth at /oauth_auth.do (authorization code with PKCE, a public
//     client, or with a client secret when Config.ClientSecret is set),
//     /oauth_token.do (form; authorization_code and refresh_token, optional
//     rotation, access token lifespan) and /oauth_revoke_token.do?token=.
//   - The Table API, v1 (/api/now/table/...) and v2 (/api/now/v2/table/...),
//     on sys_user (the emulator's users, with javascript:gs.getUserName()
//     and gs.getUserID() in queries), customer_contact, customer_account and
//     interaction: GET lists with sysparm_query (encoded queries: = != LIKE
//     STARTSWITH ENDSWITH IN ISEMPTY ..., ^, ^OR, ^NQ, ORDERBY), sysparm_limit,
//     sysparm_offset, sysparm_fields, sysparm_exclude_reference_link,
//     X-Total-Count and Link headers; v1 answers an empty list with 404;
//     GET by sys_id; POST to insert. Values are strings; unknown fields
//     are dropped silently on insert, and conditions on unknown fields are
//     dropped silently from queries (so a typo returns unfiltered rows)
//     unless Config.InvalidQueryReturnsNoRows.
//   - The interaction table's unique custom call key field (default
//     u_cti_call_id): a second insert with the same key is aborted with 403
//     {"error":{"message":"Operation Failed","detail":"Error during insert
//     of interaction (...)"},"status":"failure"}; Config.NoCallKeyField plays
//     an instance where the field was never created.
//   - The Import Set API (POST /api/now/import/{staging}) with a synchronous
//     transform into interaction coalescing on the call key (Config.ImportSet).
//   - Data policies (AddDataPolicy) refusing an insert with 403, and an
//     inbound rate-limit rule (Config.RateLimit) with X-RateLimit-Limit,
//     X-RateLimit-Reset, X-RateLimit-Rule and 429 + Retry-After.
//   - Every error in ServiceNow's envelope
//     {"error":{"message":...,"detail":...},"status":"failure"}.
//
// Faults, Stop/Restart, the journal and token expiry or revocation come
// from emukit (AddFault or POST /__emu__/faults); a status fault's Code is
// the envelope's message and its Message the detail. Rows can be read and
// seeded over HTTP at /__emu__/records/{table} for demos.
//
// It imports crm/emukit and the standard library only; it is a test and
// demo peer, never used by the connector.
//
// # Concurrency contract
//
// A Server is safe for concurrent use: one mutex guards the tables and is
// never held while emukit sleeps for a latency fault.
package servicenowemu
