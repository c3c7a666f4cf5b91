// Package zendesk is the Zendesk Support connector (crm-apis.md §6).
//
// Sign-in is OAuth 2.0 authorization code with PKCE for a public client,
// through a one-shot loopback redirect in the system browser
// (crm/oauth.Loopback), at https://{subdomain}.zendesk.com/oauth/authorizations/new;
// the token endpoint /oauth/tokens takes JSON and every refresh rotates
// both tokens, so the new refresh token is written to the OS keyring
// before the new access token is used (crm/oauth.Tokens). Zendesk has no
// forced-login parameter: on shared PCs the admin guide asks for a
// private browser profile. The signed-in user comes from
// GET /api/v2/users/me.json; sign-out revokes the grant with
// DELETE /api/v2/oauth/tokens/current.json and clears the keyring.
//
// Caller lookup searches users with phone:+E164 and phone:NATIONAL
// (GET /api/v2/users/search.json) and keeps only the hits that the shared
// normaliser verifies, ranked exact E.164 first. A call log is a ticket
// (POST /api/v2/tickets.json) with a private comment holding the call's
// details, the matched user as requester, the signed-in agent as
// assignee, configurable tags and status; it carries the call key as the
// Idempotency-Key header and as the ticket's external_id, and a log that
// may already exist is looked up by external_id before it is written.
// With Config.TalkDisplay the session is a crm.ServerPopper: the Talk
// Partner Edition display API pops the record in the agent's open
// Zendesk tab.
//
// Every failure is a *crm.Error classified per crm-apis.md §1.2/§6.4; the
// connector never sleeps or retries except the single refresh-and-replay
// after a 401.
//
// It imports crm, crm/oauth, agent/domain and secrets (the Kind names),
// never agent, store, ui, sip or audio, and no emulator. No log line or
// error carries a token, a phone number or a notes body.
//
// # Concurrency contract
//
// A Connector and its Sessions are safe for concurrent use. Refresh is
// single-flight per agent: concurrent requests refused with 401 wait for
// one refresh and replay once. Every method that does I/O blocks and
// takes a context; call them off the agent's goroutine (the outbox worker,
// crm.Directory's lookup goroutines, the sign-in UI's goroutine).
package zendesk
