// Package demopbx is the built-in lab PBX: an in-process SIP registrar and
// a handful of simulated phones on loopback, used by demo mode (no account
// configured) and by the end-to-end tests. It lives under sip/ because it
// is the only other code allowed to import diago and sipgo.
//
// Extensions (Extensions lists them with their labels):
//
//   - *43 echo test: answers and sends back what it hears.
//   - 201-204 colleagues: answer after a short ring, echo, take blind and
//     attended transfers (REFER, with Replaces for attended ones) and stay
//     in conferences the agent merges them into.
//   - 486 is always busy (486 Busy Here); 480 rings and is never answered
//     (480 Temporarily Unavailable after NoAnswerAfter); every other
//     unknown number is invalid (404 Not Found).
//   - The numbers of the sample contacts (Contacts) are customers the
//     agent can call back: they answer after a short ring.
//   - The customer line calls the agent: on demand (CallAgent, the demo
//     "ring me" button) and, with CustomerEvery set, every so often, with a
//     caller ID taken from the sample contacts.
//
// The agent registers as Options.User with digest authentication against
// Options.Password; INVITEs to the agent go to the registered contact and
// come from the PBX's own address, so the agent's engine accepts them as
// coming from its registrar (ghost-call protection stays on).
//
// Transfers are simulated inside the PBX: a blind transfer to a colleague
// is reported with NOTIFY 100 then 200 once the colleague "answers"; an
// attended transfer replaces the consult dialog named in Refer-To's
// Replaces header, ends it and reports NOTIFY 200. Transfers() records
// who ended up with the customer, so tests can check the outcome.
//
// It imports agent/domain only for the dial-string rules; never agent,
// ui, audio, store, crm or secrets.
//
// # Concurrency contract
//
// All exported methods are safe for concurrent use. Each simulated call
// runs on its own goroutine for its whole life (diago hangs up when a
// handler returns); the PBX's bookkeeping is guarded by one mutex that is
// never held across network I/O. Close ends every call and waits for the
// goroutines.
package demopbx
