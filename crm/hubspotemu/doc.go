// Package hubspotemu is an in-repository emulator of the subset of the
// HubSpot APIs the softphone's HubSpot connector (crm/hubspot) uses, over
// real HTTP on 127.0.0.1, built on crm/emukit:
//
//   - OAuth: GET /oauth/authorize (the login page signs the browser user in
//     at once; PKCE), POST /oauth/v3/token (client_secret required on every
//     call, 30-minute access tokens enforced, refresh tokens kept),
//     POST /oauth/2026-03/token/introspect, DELETE
//     /oauth/v1/refresh-tokens/{token}; private-app (portal) tokens through
//     PrivateAppToken.
//   - GET /account-info/v3/details (portalId, uiDomain), GET
//     /crm/v3/owners/?email=, GET /crm/v3/properties/calls/{name}, GET
//     /calling/v1/dispositions (the defaults plus AddDisposition's).
//   - POST /crm/v3/objects/{contacts|companies}/search with filterGroups
//     (at most 5, filters AND'ed inside a group, groups OR'ed; EQ, NEQ, IN,
//     HAS_PROPERTY) or a free-text query, and the calculated
//     hs_searchable_calculated_phone_number / _mobile_number properties
//     (the national number without the country code).
//   - POST /crm/v3/objects/calls/batch/upsert on a unique property
//     (hasUniqueValue enforced: one call per key, "new" tells), POST
//     /crm/v3/objects/calls/batch/read with idProperty, at most 100 inputs,
//     per-input validation of the calls properties (timestamp, direction,
//     status, disposition GUIDs, duration, https .mp3/.wav recording URL,
//     owner) answered with 207 multi-status.
//   - POST /crm/v4/associations/calls/{contacts|companies}/batch/create
//     (type ids 194 and 182).
//   - Error envelopes {"status":"error","message","correlationId",
//     "category"} and 429 {"errorType":"RATE_LIMIT","policyName"} with
//     Retry-After, armed through emukit faults (Code is the category, or
//     the policy name for 429).
//   - Record pages /contacts/{portalId}/record/{0-1|0-2}/{id} as HTML, for
//     demo mode screen pops; /__emu__/contacts, /__emu__/companies (POST to
//     seed) and /__emu__/calls (GET) on the control plane.
//
// It imports crm/emukit and the phone-number library; it is used by tests,
// the conformance suite and demo modes, never by the connector.
//
// # Concurrency contract
//
// Server is safe for concurrent use: records live under the emulator's own
// mutex; handlers run on net/http's goroutines.
package hubspotemu
