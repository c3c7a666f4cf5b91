// Package salesforce is the Salesforce connector: OAuth 2.0 authorization
// code with PKCE through a loopback redirect in the system browser (with
// prompt=login on shared PCs), tokens in the OS keyring only, refresh on
// INVALID_SESSION_ID with one replay, revoke at sign-out; caller lookup by
// SOSL over phone fields (Contacts, Leads, Accounts and person accounts)
// re-verified client-side with the phonenumbers normaliser; call logging as
// a Task upserted on an External ID field (default CTI_Call_Id__c), singly
// or through sObject Collections upsert (200 records a request), written
// once and never patched: a log that may already exist is read first; and
// Lightning record URLs for screen pops.
//
// Every failure is a *crm.Error classified per the taxonomy in
// crm-apis.md §1.2/§2.6; the connector never sleeps or retries except the
// single refresh-and-replay. The outbox worker (crm/outbox) decides.
//
// It imports crm, agent/domain and secrets (the Kind names only); never
// agent, store, ui, sip or audio.
//
// # Concurrency contract
//
// A Connector and its Sessions are safe for concurrent use. A session's
// token refresh is single-flight: concurrent requests that hit an expired
// token wait for one refresh and replay once. Every method blocks on the
// network and takes a context.
package salesforce
