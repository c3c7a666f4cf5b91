// Package control is the local control API: a loopback-only HTTP server
// (net/http) that lets CRM pages (click-to-dial) and local automation drive
// the agent — dial, answer, hang up, hold, transfer, consult, merge, set
// the status, wrap up — and follow call and agent state as a Server-Sent
// Events stream. openapi.yaml in this directory documents every endpoint.
//
// It is a client of the core exactly like the UI: commands go through
// package agent's client API (fire and forget; outcomes arrive as state),
// and state comes from agent.Watch folded into an agent.Mirror. It never
// touches an adapter.
//
// # Security
//
// A random web page must not be able to make the agent dial (premium-rate
// fraud), so every request passes these checks, in this order:
//
//  1. the peer address is a loopback address (403 otherwise);
//  2. the Host header names a loopback address or localhost, which
//     defeats DNS rebinding (403 otherwise);
//  3. a request carrying an Origin header must come from one of the
//     configured CRM origins, compared exactly as scheme://host[:port]
//     (403 otherwise); CORS preflights (OPTIONS) from those origins are
//     answered with the allowed methods and headers and need no token;
//  4. the per-install token is presented as "Authorization: Bearer ..."
//     (or, for the event stream only, because EventSource cannot set
//     headers, as the access_token query parameter), compared in constant
//     time (401 otherwise).
//
// Listen refuses to bind anything but a loopback address.
//
// It must not import ui, sip, audio, crm, store or secrets; the token is
// kept by whoever constructs the server (package app keeps it in the OS
// keyring).
//
// # Concurrency contract
//
// A Server is safe for concurrent use; each request runs on its own
// net/http goroutine. The server's mirror of the core's state is updated by
// one watcher goroutine and read under a mutex. Each event-stream client
// has its own watcher with an unbounded queue, so a slow client delays
// only itself and never loses an update.
package control
