// Package oauth is the OAuth 2.0 client side shared by the CRM connectors
// that sign agents in through the system browser (RFC 8252): the
// authorization code flow with PKCE (S256) through a one-shot loopback
// listener on 127.0.0.1, the token endpoint exchange with RFC 6749 error
// classification, and Tokens, an agent's token pair kept in the OS keyring
// with a single-flight refresh that persists a rotated refresh token
// before the new access token is used (Zendesk, Entra ID and optionally
// Salesforce rotate; a crash in between must never sign the agent out).
//
// It imports crm (errors, the Keyring interface) and secrets (the Kind
// names), never agent, ui, sip, audio or store. No log line or error
// carries a token.
//
// # Concurrency contract
//
// Authorize blocks until the browser comes back, the context ends or the
// timeout passes; run it off the UI goroutine. Tokens is safe for
// concurrent use: concurrent requests that see a 401 cause one refresh.
package oauth
