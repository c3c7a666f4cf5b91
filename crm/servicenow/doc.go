// Package servicenow is the ServiceNow connector: OAuth 2.0 authorization
// code with PKCE at the instance's oauth_auth.do through a loopback
// redirect in the system browser (a public client; a client secret
// provisioned by IT into the keyring is sent too when the registry entry
// requires one), tokens at oauth_token.do kept only in the OS keyring with
// single-flight refresh (crm/oauth.Tokens), revoke at oauth_revoke_token.do
// on sign-out; the signed-in user from sys_user (its sys_id is the
// interaction's assigned_to); caller lookup through the Table API v2 with
// ENDSWITH on the phone fields of configurable tables (customer_contact by
// default), re-verified client-side because the instance silently drops
// query conditions it cannot apply; free-text search with LIKE; call
// logging as one interaction record per call carrying the call key in a
// custom field with a unique index (u_cti_call_id), read before write when
// an earlier attempt may have been applied, or through an import set
// whose transform coalesces on that field; classic-form or workspace URLs
// for screen pops.
//
// Every failure is a *crm.Error classified per crm-apis.md §1.2/§5.4:
// ServiceNow's envelope {"error":{"message","detail"},"status":"failure"}
// gives the code and text; 401 refreshes once and replays, a dead refresh
// token is crm.ErrSignInRequired, 429 waits for Retry-After (or
// X-RateLimit-Reset), 403 (ACL, data policy) is permanent, an insert that
// hits the unique index is success. The connector never sleeps or retries
// otherwise; the outbox worker (crm/outbox) decides.
//
// It imports crm, crm/oauth, agent/domain and secrets (the Kind names);
// never agent, store, ui, sip or audio, and never its emulator
// (crm/servicenowemu), which only its tests use.
//
// # Concurrency contract
//
// A Connector and its Sessions are safe for concurrent use; every method
// that does I/O blocks on the network and takes a context, so it runs on
// the outbox worker's or the Directory's goroutines, never on the agent's
// actor. No log line carries a token, a phone number or notes.
package servicenow
