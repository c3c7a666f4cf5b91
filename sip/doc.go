// Package sip is the telephony adapter: the only package that imports
// github.com/emiago/diago and github.com/emiago/sipgo. An Engine serves one
// SIP account; it implements domain.Telephony (registration, calls, hold,
// DTMF, transfer) and domain.AudioSource (each connected call's decoded
// PCM and RTP statistics), and posts domain events to the EventSink given
// with Attach.
//
// Wiring (cmd/softphone):
//
//	eng, err := sip.New(account, func() (string, error) { return secrets.Get(...) },
//		sip.WithLogger(log),
//		sip.WithDTMFHandler(func(id domain.CallID, digit string) { ... }))
//	err = eng.Start(ctx)       // binds the SIP port; does not register
//	a := agent.New(agent.Ports{Telephony: eng, ...})
//	eng.Attach(a)              // events go to the agent
//	... audio reads eng.CallAudio(id) / eng.CallStats(id)
//	eng.Reregister()           // on network change or resume from sleep
//	eng.Close()                // unregisters, hangs up, stops (bounded: a
//	                           // call already ending is left to finish)
//
// diago v0.31.0 defects and what this package does instead (diago-notes):
//   - Register panics on an unreachable registrar: registration is our own
//     loop of sipgo REGISTER requests with digest auth, refresh at 3/4 of
//     the granted expiry (read from the Contact's expires too), back-off
//     with jitter, and a plain-words reason for each failure.
//   - The DTMF-first deadlock: telephone-event is always in the offer.
//   - Referred-By carries the transferee's contact: we pass our own AoR.
//   - Refer returns on the 202: the outcome comes from the NOTIFY, with
//     our own timeout.
//   - SIP INFO is never received and the far end's REFER is mishandled: a
//     server middleware sees every request first; it refuses ghost INVITEs
//     (not from the registrar or outbound proxy, or not for our user),
//     tracks far-end hold from re-INVITE SDP, answers in-dialog INFO DTMF
//     (application/dtmf-relay and application/dtmf) with 200 and reports
//     the digit to the WithDTMFHandler function, and refuses REFER from
//     the far end cleanly (403) so the call stays up. Account.DTMF =
//     DTMFInfo sends digits as INFO requests of our own in the dialog.
//   - An INVITE with Replaces (we are the target of an attended transfer)
//     would ring as a new call: the middleware checks it names one of our
//     connected dialogs (Call-ID, to-tag = our tag, from-tag = theirs;
//     else 481, without ringing), the new dialog is answered at once, the
//     replaced one gets BYE, and the call carries on under the same
//     domain.CallID (the audio engine re-attaches when the old streams
//     end). A matching Replaces is accepted from any source address: the
//     dialog identifiers are its credential. As transferor, the Refer-To
//     carries our consult dialog's Replaces, escaped.
//   - NAT: while registered a keep-alive runs (WithKeepAlive, default
//     25 s): OPTIONS to the registrar on UDP, a double CRLF on the TCP/TLS
//     connection (RFC 5626); a failed keep-alive re-registers at once.
//     Requests carry rport (sipgo client NAT mode) and UDP requests leave
//     from the listening socket; RTP is symmetric (one socket per call,
//     sent from the port we advertise). Account.STUNServer asks a STUN
//     server (our own minimal RFC 5389 client) for the address put in SDP.
//     diago v0.31.0 drops that external address in its own re-INVITEs,
//     so with STUN our hold and resume are our own re-INVITEs carrying
//     the original SDP (as on encrypted and TLS calls).
//   - Account.SecondaryRegistrar: when the registrar does not answer
//     (timeout, network error, 5xx, not a credentials refusal) the next
//     attempt goes to the other registrar at once; while registered
//     through the secondary, calls are routed through it (Route header).
//   - sipgo logs a message it cannot parse whole (phone numbers, the
//     Authorization header) through its process-wide default logger, not
//     the one a server is given: that default, diago's media one and the
//     loggers we hand both libraries go through a redacting handler
//     (liblog.go) that drops raw messages and blanks every run of five or
//     more digits; the defaults write to the newest Engine's logger.
//   - The RTCP round-trip time is bogus: ours comes from the far end's
//     reception reports on our sender reports (RFC 3550 §6.4.1, arrival -
//     LSR - DLSR in the middle 32 bits of NTP time, modulo 2^32), through
//     diago's RTCP hooks; CallStats.RTT is 0 until the first one (RTCP
//     goes every 5 s each way). Packets, loss and jitter are counted on
//     the received packets.
//   - Codecs are matched field by field, payload type included (issue
//     #113: Opus only at PT 96; an Opus-only offer got 480): a new INVITE's
//     offer is read by our own SDP parser before it rings; without a codec
//     the account allows it is answered 488 Not Acceptable Here and never
//     offered to the agent; otherwise the answer uses per-call codecs that
//     carry the offer's payload types (Opus at any dynamic PT,
//     telephone-event too). We offer Opus at PT 111.
//
// TLS: Account.Transport = TransportTLS verifies the registrar/proxy
// certificate against the system roots plus Account.CAFile (never
// skipped; there is no setting to skip it); an untrusted certificate is a
// registration failure with reason "tls error: ...". Requests use sip:
// URIs with transport=tls (diago's sips: contact breaks far-end
// re-INVITEs); our TLS listener has a throwaway self-signed certificate.
// Ghost-call protection checks the source ip:port on UDP and only the
// host on TCP/TLS (a proxy's new connection has an ephemeral port).
//
// SRTP (SDES, RFC 4568; only with TLS, else ErrInvalidAccount): Off,
// Optional (offered; a plain answer or offer is accepted; our offer is
// RTP/SAVP, and when a phone without SRTP refuses it with 488, 606 or 415
// we call again at once offering plain RTP/AVP, a new dialog behind the
// same call; a best-effort RTP/AVP offer with crypto lines is refused by
// phones that require SRTP; a best-effort offer, RTP/AVP with crypto
// lines, is answered encrypted but as RTP/SAVP, diago's package-wide
// choice: baresip's "srtp" mode takes it, a strict RFC 3264 offerer may
// not) or Required
// (an unencrypted offer gets 488, an unencrypted answer is hung up and
// reported as CallFailed). diago drops the SRTP contexts on any
// re-INVITE (MediaSession.Fork), so on an encrypted call our hold/resume
// re-INVITEs are our own sipgo requests and we answer the far end's
// re-INVITEs ourselves, both with our original SDP (same key, address and
// o= session id, new version, direction changed); the contexts of the
// first exchange stay in use. A far end that re-keys in a re-INVITE gets
// 488 (the call keeps its media) and a re-key in an answer to our hold is
// reported as HoldFailed. This also avoids diago's o= session-id change
// and lost external address on those calls. Our own hold re-INVITE is
// also used on every TLS call (diago's dials a new TLS connection whose
// handshake fails), with STUN, and when the far end already holds us:
// then it offers inactive (RFC 3264 8.4), where diago only offers
// sendonly. Our answers to the far end's re-INVITEs on encrypted calls
// keep our own hold (sendonly or inactive).
//
// One INVITE transaction at a time in a dialog (RFC 3261 14): our hold or
// resume waits while the far end's re-INVITE is being answered, the far
// end's re-INVITE that crosses ours gets 491 Request Pending, and a 491 to
// ours is retried after a random wait (up to 2 s on a call we received,
// 2.1 to 4 s on one we placed; diago's own re-INVITE does the same). What
// the far end says in the dialog (RemoteHold, RemotePartyChanged, INFO
// digits) is posted after the call's CallAnswered, and RemoteHold after
// its re-INVITE was answered.
//
// Codecs (Account.Codecs, in order of preference, case-insensitive):
// PCMU, PCMA, opus and G722.
// Opus is our own cgo binding of libopus (no build tag; pkg-config opus):
// mono 48 kHz VoIP at 28 kbit/s with in-band FEC, 20 ms frames; on a gap
// of up to 5 packets the last lost frame is recovered from the next
// packet's FEC and the others concealed (PLC); late packets are dropped.
//   - G.722 (64 kbit/s, mode 1) is our own pure-Go SB-ADPCM (g722.go, no
//     cgo, so every platform builds it alike) at the static payload type 9
//     (a=rtpmap:9 G722/8000/1: diago always writes the channel count).
//     Its RTP clock is 8000 as RFC 3551 fixes it although the audio is
//     16 kHz: a 20 ms packet is 160 octets, 320 samples, and advances the
//     timestamp by 160. It is bit-exact with libspandsp's (baresip's,
//     Asterisk's) and maps 16-bit PCM at their level. A call's encoder and
//     decoder are new per call; late or duplicate packets are dropped
//     (they would upset the adaptive state) and there is no concealment
//     of its own (gaps go to the audio engine's jitter buffer, as for
//     G.711). An offer of payload type 9 without an rtpmap line is not
//     matched (diago skips such formats).
//
// CallAudio carries 48 kHz PCM for Opus, 16 kHz for G.722, 8 kHz for
// G.711. Its Rx also has ReadFrame (the audio engine's FrameReader): one
// 20 ms frame at a time with the timestamp of its first sample, counted in
// PCM samples (the RTP timestamp; twice it for G.722, whose RTP clock is
// 8000), so the jitter buffer orders frames by timestamp; packets of other
// durations are cut or joined on a 20 ms grid (rxframe.go). Not in this build (refused with ErrUnsupported, never silently
// downgraded): DTLS-SRTP.
//
// Received DTMF (RFC 4733 events seen while Rx is read, and SIP INFO) is
// posted as domain.DTMFReceived, one event per digit, in order (and given
// to the optional WithDTMFHandler function). Digits are never logged.
//
// The far end's identity after a transfer is posted as
// domain.RemotePartyChanged: from the replacing INVITE (Replaces; its
// P-Asserted-Identity, Remote-Party-ID or From), and from a
// P-Asserted-Identity or Remote-Party-ID in a re-INVITE or an UPDATE. diago
// has no UPDATE handler (sipgo would answer 405): ours answers an UPDATE
// without a body 200, one with an SDP offer 488, one outside a dialog 481.
//
// CANCEL: a CANCEL that arrives after our 200 OK (it crossed the answer)
// is answered 200 by sipgo's INVITE transaction, still alive in the
// Accepted state (RFC 6026), and changes nothing: the caller ACKs and
// ends the call with BYE. A CANCEL matching no transaction gets 481. When
// the CANCEL wins the race with the agent's answer, the call is reported
// once as CallEnded with CauseMissed, never as answered; an Answer,
// Reject or Hangup that reaches the engine after that is a no-op (the
// call stays known for a minute for this).
//
// It must not import agent (only agent/domain), ui, audio, store, secrets
// or crm.
//
// # Concurrency contract
//
// Port methods (Register, Dial, Answer, ...) may be called from any
// goroutine and return at once; the work runs on the registration goroutine
// or on the call's own goroutine, which owns the diago dialog for the
// call's whole life (diago hangs up when an inbound handler returns). Each
// call executes its commands in order. Events are posted from those
// goroutines. CallAudio's Rx must be read by one goroutine and Tx written
// by one goroutine.
package sip
