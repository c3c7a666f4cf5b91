// Package crm is the softphone's CRM boundary: the provider-neutral
// Connector and Session contracts every CRM adapter implements (Salesforce
// in crm/salesforce, the local directory in crm/local, the generic webhook
// in crm/webhook; HubSpot, Dynamics 365, ServiceNow and Zendesk later), the
// typed Error whose Kind tells the outbox worker what to do, phone-number
// normalisation to E.164 (github.com/nyaruka/phonenumbers), and Directory,
// which implements domain.Directory (caller lookup with an offline cache and
// screen pops through an injectable URL opener).
//
// Sub-packages: crm/sfemu is the Salesforce REST emulator the tests (and
// demo mode) run against over real HTTP; crm/outbox is the worker that
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
