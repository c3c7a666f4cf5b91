// Package zendeskemu is the in-repository Zendesk Support emulator the
// zendesk connector's tests (and a demo instance) run against over real
// HTTP on 127.0.0.1. It is built on crm/emukit, which gives it the OAuth
// server (authorize at /oauth/authorizations/new with PKCE, a JSON token
// endpoint at /oauth/tokens rotating the refresh token on every refresh),
// bearer authentication, Stop/Restart on the same port, the journal and
// fault injection with the Salesforce emulator's semantics.
//
// The subset emulated, with Zendesk's shapes (crm-apis.md §6):
//
//   - GET /api/v2/users/me.json: the signed-in agent.
//   - GET /api/v2/users/search.json?query=...: users by free text over
//     name, email and phone; phone:VALUE compares digits only and matches
//     a stored number ending with VALUE's digits (so it over-matches like
//     the real tokenised search and the connector must verify);
//     external_id=... matches exactly.
//   - GET /api/v2/users/{id}.json.
//   - POST /api/v2/tickets.json: creates a ticket. The Idempotency-Key
//     header is honoured for a configurable retention window: a replay
//     answers the original ticket with x-idempotency-lookup: hit, the same
//     key with a different payload is refused with 400
//     IdempotentRequestError, a first use answers 201 with
//     x-idempotency-lookup: miss. requester_id must be an existing user
//     and assignee_id an agent (422 RecordInvalid with details otherwise);
//     a ticket needs a subject or a comment body.
//   - GET /api/v2/tickets.json?external_id=...: tickets by external id
//     (the connector's read-before-write), GET /api/v2/tickets/{id}.json.
//   - DELETE /api/v2/oauth/tokens/current.json: revokes the bearer's
//     grant, access and refresh token (204).
//   - POST /api/v2/channels/voice/agents/{agent}/users/{user}/display.json
//     and .../tickets/{ticket}/display.json: the Talk Partner Edition
//     screen pop; 403 when Talk Partner Edition is off, 404 when the agent
//     has no open Zendesk tab (SetAgentOnline) or the record is unknown.
//
// Errors use Zendesk's envelopes: {"error":"invalid_token",
// "error_description":...} for 401, {"error":"RecordInvalid",
// "description":...,"details":{...}} for 422, {"error":code,
// "description":...} otherwise; 429 carries Retry-After when a fault sets
// it. Every API answer carries X-Rate-Limit and X-Rate-Limit-Remaining.
//
// The control plane adds, under /__emu__/: POST contacts (seed an end
// user: {"name","phone","email"}) and GET tickets, besides emukit's.
//
// It imports crm/emukit and the standard library only; tests and demo
// modes use it, the connector never does.
//
// # Concurrency contract
//
// Server is safe for concurrent use: the records live under one mutex,
// held for the whole of each request's handling (so an idempotency key is
// checked and recorded atomically), and every accessor copies.
package zendeskemu
