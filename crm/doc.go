// Package crm is the softphone's CRM boundary: the provider-neutral
// Connector and Session contracts every CRM adapter implements, the typed
// Error whose Kind tells the outbox worker what to do, phone-number
// normalisation to E.164 (github.com/nyaruka/phonenumbers), the shared
// HTTP classification of the REST connectors (Send, TransportError,
// StatusError, RetryAfter), and Directory, which implements
// domain.Directory (caller lookup with an offline cache and screen pops
// through an injectable URL opener or the CRM's own ServerPopper).
//
// Every connector writes the agent's call subject (domain.CallLog.Subject,
// through CallSubject: trimmed and cut to the CRM field's length) as the
// logged record's subject or title, and its own "Inbound call from ..."
// without one. The records a connector's LookupPhone and Search answer
// carry the record's phone numbers (domain.CRMRecord.Phones, best first,
// E.164 where Normalizer.Phones can parse them).
//
// Connectors: crm/salesforce, crm/hubspot, crm/dynamics (Dynamics 365 /
// Dataverse), crm/servicenow, crm/zendesk, the generic crm/webhook and the
// local directory crm/local. crm/oauth is the browser sign-in (PKCE,
// loopback redirect) and keyring-backed token handling they share.
//
// Emulators the tests (and demo setups) run against over real HTTP:
// crm/sfemu, and crm/hubspotemu, crm/dynamicsemu, crm/servicenowemu and
// crm/zendeskemu on the common core crm/emukit. crm/conformance is the
// exactly-once suite every connector passes (offline backlog, every fault
// kind, SIGKILL mid-drain, revoked sign-in); crm/outbox is the worker that
// drains the store's durable outbox exactly once per call and target.
//
// It imports agent/domain, store (the contact cache) and secrets (only the
// Kind type and its ErrNotFound; tokens go through the Keyring interface),
// never agent, ui, sip or audio. net/http for CRMs lives only under crm/.
//
// # Concurrency contract
//
// Connectors and Sessions are safe for concurrent use; every method that
// does I/O takes a context and blocks, so it is called from the outbox
// worker's goroutine or from Directory's lookup goroutines, never from the
// agent's actor. Directory's domain.Directory methods return at once: the
// lookup runs on its own goroutine and posts domain.CallerMatched.
//
// No log line carries a token, a phone number or a notes body.
package crm
