// Package hubspot is the HubSpot connector.
//
// Sign-in. HubSpot's OAuth token endpoint wants the client_secret on every
// call, which a desktop binary cannot keep, so the primary path is the
// portal token: IT creates a private app (or installs our app) once per
// portal and provisions its access token into the OS keyring
// (SetPortalToken, machine-wide or for one agent). SignIn then verifies the
// token (account-info), resolves the agent's HubSpot owner from the
// agent's e-mail address (GET /crm/v3/owners/?email=) and keeps a copy of
// the token under the agent, which is what Resume and SignOut act on; every
// call is attributed with hubspot_owner_id. When the admin chooses
// per-agent OAuth (AuthOAuth), SignIn runs the authorization code flow
// with PKCE through a loopback redirect, with the client secret IT
// provisioned into the keyring (SetClientSecret); the 30-minute access
// token is refreshed through crm/oauth.Tokens (single flight, refresh
// token persisted first) and the token's user is read by introspection.
// HubSpot has no forced-login parameter: on shared PCs the agent must use
// a private browser window (see README.md).
//
// Lookup: contacts search with up to five OR'ed filter groups over the
// hs_searchable_calculated_phone_number / _mobile_number properties and
// phone / mobilephone, plus companies by phone, every hit verified again
// with crm.Normalizer.Match and ranked exact E.164 first.
//
// Logging: calls engagements (outcomes mapped by name to the portal's call
// outcome GUIDs, read at sign-in) through POST
// /crm/v3/objects/calls/batch/upsert on the admin's unique call property
// (default cti_call_id, hasUniqueValue), 100 a request, so a replay can
// never create a second call; a log that may already exist is read first
// by that property (batch/read) and never rewritten. The call is then
// associated with the matched contact (type 194) or company (182); a
// deleted record leaves the call logged unassociated.
//
// Every failure is a *crm.Error classified per crm-apis.md §1.2/§3.4: 429
// with its policy name and Retry-After, 401 refreshed once and replayed
// (OAuth) or a sign-in needed (portal token), VALIDATION_ERROR and
// MISSING_SCOPES permanent with HubSpot's message, 409 CONFLICT already
// exists, unreadable JSON transient (reads) or ambiguous (writes). The
// connector never sleeps or retries beyond the single refresh-and-replay.
//
// It imports crm, crm/oauth, agent/domain and secrets (the Kind names);
// never agent, store, ui, sip or audio. No log line or error carries a
// token, a phone number or a note.
//
// # Concurrency contract
//
// A Connector and its Sessions are safe for concurrent use; every method
// that does I/O blocks and takes a context, so call it off the UI
// goroutine and never from the agent's actor.
package hubspot
