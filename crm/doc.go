// Package crm holds the CRM connectors (Salesforce first; HubSpot, Dynamics
// 365, ServiceNow and Zendesk next), the local contact directory, the
// webhook connector and the outbox worker that delivers every call log
// exactly once. It implements domain.Directory.
//
// Status: built in the CRM sync issue.
//
// It must not import agent (only agent/domain), ui, sip or audio.
package crm
