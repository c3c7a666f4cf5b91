// Package domain is the vocabulary of the agent desktop and its only state
// machine: agent status, calls, interactions, wrap-up and call logs, the
// inputs (commands from the agent, events from adapters) that change them,
// the effects that the actor carries out through ports, and the pure
// function Step that is the only place any transition happens.
//
// Step(state, input, now) returns the next state and the effects to run. It
// does no I/O, starts no goroutines, reads no clock and draws no random
// numbers: time comes in as now, identifiers come in with the inputs. That
// makes every transition a table-test row and lets a fuzz test drive random
// input sequences against the invariants (see invariants.go).
//
// Some outputs are derived rather than commanded: whether the ringer rings,
// which calls' audio is routed to the headset, whether the microphone is
// muted, the local ringback tone and every timer. They are computed from the
// state by derive and Step turns the difference between the state before and
// after an input into effects. A timer therefore cannot outlive the state it
// belongs to: when a ringing call ends its ring timer is cancelled because the
// derived timer set no longer contains it.
//
// The package imports only the standard library (a test enforces it), so
// every adapter (sip, audio, crm, store, ui) can import it without import
// cycles and without pulling any other adapter's library.
//
// # Interactions
//
// An interaction is what the agent handles for one customer: the first call
// plus any consult and conference legs placed from it. Its key (the first
// call's ID) is the stable unique call key of the call log. Wrap-up belongs to
// an interaction and starts when its last live call ends, provided one of its
// legs was connected; an interaction that never connected (missed, rejected,
// failed outbound) is logged at once without wrap-up. Each interaction yields
// exactly one call log unless "do not log" is set when it is finalised.
package domain
