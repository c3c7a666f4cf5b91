// Package dynamicsemu is a Microsoft Dynamics 365 / Dataverse Web API
// emulator built on crm/emukit: a real HTTP server on 127.0.0.1 that
// implements the subset the softphone's connector (crm/dynamics) uses,
// with Dataverse's response shapes, OData error envelopes
// ({"error":{"code":"0x...","message":...}}) and status codes, plus
// emukit's fault injection.
//
// Implemented:
//   - Entra ID endpoints under /{tenant}/oauth2/v2.0/: authorize (a public
//     client, PKCE required, the loopback redirect http://localhost with
//     any port, prompt recorded) and token (authorization_code,
//     refresh_token with rotation on every use), and the device code flow:
//     devicecode, the page the user enters the code on (GET
//     /devicelogin?otc=CODE, approved by the browser user) and the token
//     grant with authorization_pending, slow_down, authorization_declined
//     and expired_token; AADSTS7000218 when public client flows are off
//     (Config.NoPublicClient). There is no revocation endpoint, as in
//     Entra.
//   - /api/data/v9.0 to v9.2: WhoAmI; systemusers(id) (one per emukit
//     user, id SystemUserID(user)); contacts, accounts and leads with
//     $select, $top and a $filter subset (eq, ne, endswith, startswith,
//     contains, and, or, not, parentheses; case-insensitive; unknown
//     columns refused with 0x80060888); phonecalls(id) GET with $select
//     and PATCH with Dataverse's upsert rules: If-None-Match: * creates
//     only (412 0x80040237 when the row exists), If-Match: * updates only
//     (404 0x80040217 when it does not), statecode/statuscode not valid
//     for create, the state/status pairs of a phone call, completed and
//     canceled phone calls read-only (400), lengths of subject and
//     description, @odata.bind references that must exist (404
//     0x80040217), activity parties, unknown columns refused unless
//     listed in Config.CustomColumns.
//   - Service protection: Config.RequestLimit requests per user in a
//     sliding Config.Window, then 429 with Retry-After and 0x80072322;
//     x-ms-ratelimit-burst-remaining-xrm-requests on every answer while a
//     limit is set.
//   - A 401 carries WWW-Authenticate and no body, as Dataverse's does.
//
// Go accessors seed contacts, accounts and leads, delete them (a stale
// reference), and read phone calls by activityid. The emukit control
// plane (/__emu__/) arms faults, adds users and expires or revokes tokens.
//
// It imports crm/emukit and the standard library only. It is a test and
// demo peer, not production code.
//
// # Concurrency contract
//
// A Server is safe for concurrent use: one mutex guards the records; a
// request holds it only while it reads or applies state.
package dynamicsemu
