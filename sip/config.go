package sip

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/emiago/diago/media"
)

// Transport is the SIP transport of an account. Values are persisted: never
// renumber.
type Transport uint8

// Transport values.
const (
	TransportUnknown Transport = 0
	TransportUDP     Transport = 1
	TransportTCP     Transport = 2
	TransportTLS     Transport = 3
)

func (t Transport) String() string {
	switch t {
	case TransportUnknown:
		return "unknown"
	case TransportUDP:
		return "udp"
	case TransportTCP:
		return "tcp"
	case TransportTLS:
		return "tls"
	}
	return "transport(" + strconv.Itoa(int(t)) + ")"
}

// SRTPMode says whether calls are encrypted. Values are persisted: never
// renumber.
type SRTPMode uint8

// SRTPMode values.
const (
	SRTPUnknown  SRTPMode = 0
	SRTPOff      SRTPMode = 1
	SRTPOptional SRTPMode = 2
	SRTPRequired SRTPMode = 3
)

func (s SRTPMode) String() string {
	switch s {
	case SRTPUnknown:
		return "unknown"
	case SRTPOff:
		return "off"
	case SRTPOptional:
		return "optional"
	case SRTPRequired:
		return "required"
	}
	return "srtp(" + strconv.Itoa(int(s)) + ")"
}

// Account is one SIP account's settings. The password is not part of it:
// New takes a function that reads it (from the OS keyring) when needed.
type Account struct {
	DisplayName string // shown to the called party
	User        string // SIP user (the AoR is sip:User@Domain)
	AuthUser    string // digest user name; User when empty
	// Domain is the SIP domain, "host" or "host:port".
	Domain string
	// Registrar is "host:port" of the registrar; Domain when empty.
	Registrar string
	// SecondaryRegistrar is an optional "host:port" of a registrar to fail
	// over to when Registrar does not answer (timeout, network error,
	// 5xx); it serves the same domain. Calls are then routed through it.
	SecondaryRegistrar string
	// OutboundProxy is an optional "host:port" every request is routed
	// through (a loose Route header).
	OutboundProxy string
	// STUNServer is an optional "host[:port]" (default port 3478) asked at
	// Start for the public IPv4 address advertised in SDP (behind NAT).
	STUNServer string
	// Transport is UDP (default), TCP or TLS.
	Transport Transport
	// CAFile is an optional PEM file of a custom CA trusted for TLS in
	// addition to the system roots. Verification is never skipped.
	CAFile string
	// SRTP is Off (default), Optional (offered, plain RTP accepted) or
	// Required (unencrypted calls fail); SDES keys, so only with TLS.
	SRTP SRTPMode
	// Codecs in order of preference: "PCMU", "PCMA", "opus", "G722"
	// (case-insensitive; default PCMU and PCMA).
	Codecs []string
	// DTMF is how digits are sent: RFC 4733 (default) or SIP INFO as a
	// fallback for PBXs without telephone-event. Both are always received.
	DTMF DTMFMode
	// Expiry is the registration lifetime asked for (default 300 s).
	Expiry time.Duration
	// AllowDirectCalls accepts INVITEs that do not come from the registrar
	// or outbound proxy (peer-to-peer); off by default (ghost calls).
	AllowDirectCalls bool
}

// authUser is the digest user name.
func (a Account) authUser() string {
	if a.AuthUser != "" {
		return a.AuthUser
	}
	return a.User
}

// registrar is the registrar's host:port.
func (a Account) registrar() string {
	if a.Registrar != "" {
		return withPort(a.Registrar)
	}
	return withPort(a.Domain)
}

func withPort(hostport string) string {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	return net.JoinHostPort(hostport, "5060")
}

// validate checks the account and returns the codecs to offer.
func (a Account) validate() ([]media.Codec, error) {
	if a.User == "" || strings.ContainsAny(a.User, "@:;<> \t\r\n") {
		return nil, fmt.Errorf("%w: user %q", ErrInvalidAccount, a.User)
	}
	if strings.ContainsFunc(a.DisplayName, unicode.IsControl) || !utf8.ValidString(a.DisplayName) {
		return nil, fmt.Errorf("%w: display name with a control character or invalid UTF-8", ErrInvalidAccount)
	}
	if a.Domain == "" || strings.ContainsAny(a.Domain, "@;<> \t\r\n") {
		return nil, fmt.Errorf("%w: domain %q", ErrInvalidAccount, a.Domain)
	}
	for _, hp := range []string{a.registrar(), a.SecondaryRegistrar, a.OutboundProxy} {
		if hp == "" {
			continue
		}
		h, p, err := net.SplitHostPort(withPort(hp))
		if err != nil || h == "" {
			return nil, fmt.Errorf("%w: address %q", ErrInvalidAccount, hp)
		}
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			return nil, fmt.Errorf("%w: port in %q", ErrInvalidAccount, hp)
		}
	}
	switch a.Transport {
	case TransportUnknown, TransportUDP, TransportTCP, TransportTLS:
	default:
		return nil, fmt.Errorf("%w: transport %d", ErrInvalidAccount, a.Transport)
	}
	switch a.SRTP {
	case SRTPUnknown, SRTPOff:
	case SRTPOptional, SRTPRequired:
		if a.Transport != TransportTLS {
			// SDES keys travel in the SDP: in clear text without TLS.
			return nil, fmt.Errorf("%w: srtp (sdes) needs the tls transport", ErrInvalidAccount)
		}
	default:
		return nil, fmt.Errorf("%w: srtp mode %d", ErrInvalidAccount, a.SRTP)
	}
	if a.DTMF > DTMFInfo {
		return nil, fmt.Errorf("%w: dtmf mode %d", ErrInvalidAccount, a.DTMF)
	}
	if a.Expiry < 0 {
		return nil, fmt.Errorf("%w: negative expiry", ErrInvalidAccount)
	}
	names := a.Codecs
	if len(names) == 0 {
		names = []string{"PCMU", "PCMA"}
	}
	var codecs []media.Codec
	for _, n := range names {
		c, ok := codecByName(n)
		if !ok {
			return nil, fmt.Errorf("%w: codec %q (PCMU, PCMA, opus and G722 are supported)", ErrUnsupported, n)
		}
		for _, have := range codecs {
			if have.PayloadType == c.PayloadType {
				return nil, fmt.Errorf("%w: codec %q listed twice", ErrInvalidAccount, n)
			}
		}
		codecs = append(codecs, c)
	}
	// telephone-event is always offered: RFC 4733 DTMF, and it avoids
	// diago's deadlock when DTMF is the first packet written.
	return append(codecs, media.CodecTelephoneEvent8000), nil
}

func (a Account) transport() string {
	switch a.Transport {
	case TransportTCP:
		return "tcp"
	case TransportTLS:
		return "tls"
	}
	return "udp"
}
