package domain

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dial-string errors. They are user-facing: the messages are plain.
var (
	ErrEmptyNumber   = errors.New("enter a number to dial")
	ErrInvalidNumber = errors.New("that is not a phone number or SIP address")
	ErrNumberTooLong = errors.New("the number is too long")
)

// maxDigits bounds a dialled number (E.164 allows 15; extensions, prefixes
// and DTMF-style suffixes need a little more).
const maxDigits = 32

// maxURI bounds a SIP URI typed or pasted by the agent.
const maxURI = 256

// NormalizeDialString turns what an agent typed, pasted or clicked into a
// dial target: a number (digits with an optional leading '+', '*' and '#'
// allowed for feature codes), a SIP user name ("alice", resolved by the
// telephony adapter against the account's domain), or a sip:/sips: URI.
// tel: and callto: links are unwrapped. Visual separators (spaces, dashes,
// dots, brackets, slashes, non-breaking and zero-width spaces) are removed
// from numbers. Anything else is refused with an error saying why.
func NormalizeDialString(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", ErrInvalidNumber
	}
	s = strings.TrimFunc(s, isSpaceLike)
	if s == "" {
		return "", ErrEmptyNumber
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "tel:"):
		s = s[len("tel:"):]
		if i := strings.IndexByte(s, ';'); i >= 0 { // ;phone-context=..., ;ext=...
			s = s[:i]
		}
		return normalizeNumber(s)
	case strings.HasPrefix(lower, "callto:"):
		s = strings.TrimPrefix(s[len("callto:"):], "//")
		if strings.HasPrefix(strings.ToLower(s), "callto:") {
			return "", ErrInvalidNumber
		}
		return NormalizeDialString(s)
	case strings.HasPrefix(lower, "sip:"), strings.HasPrefix(lower, "sips:"):
		return normalizeSIPURI(s)
	}
	if n, err := normalizeNumber(s); err == nil {
		return n, nil
	} else if errors.Is(err, ErrNumberTooLong) || errors.Is(err, ErrEmptyNumber) {
		return "", err
	}
	// Only something with a letter in it can be a user name; digits mixed
	// with stray '+' signs are a mistyped number.
	if strings.IndexFunc(s, unicode.IsLetter) >= 0 && isSIPUser(s) {
		return s, nil
	}
	return "", ErrInvalidNumber
}

func isSpaceLike(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\u200e' || r == '\u200f' || r == '\ufeff' || r == '\u2060'
}

func isSeparator(r rune) bool {
	switch r {
	case '-', '.', '(', ')', '/', '\u2010', '\u2011', '\u2012', '\u2013', '\u2212':
		return true
	}
	return isSpaceLike(r)
}

func normalizeNumber(s string) (string, error) {
	var b strings.Builder
	digits := 0
	for i, r := range s {
		switch {
		case isSeparator(r):
			continue
		case r >= '0' && r <= '9', r == '*', r == '#':
			digits++
			b.WriteRune(r)
		case r == '+' && b.Len() == 0 && i < len(s)-1:
			b.WriteRune(r)
		default:
			return "", ErrInvalidNumber
		}
	}
	if digits == 0 {
		if b.Len() == 0 {
			return "", ErrEmptyNumber
		}
		return "", ErrInvalidNumber
	}
	if digits > maxDigits {
		return "", ErrNumberTooLong
	}
	return b.String(), nil
}

func isSIPUser(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '.', r == '_', r == '-', r == '+', r == '*', r == '#', r == '!', r == '~':
		default:
			return false
		}
	}
	return true
}

// normalizeSIPURI checks a sip:/sips: URI for characters that cannot appear
// in one and lower-cases the scheme. Full parsing is the SIP adapter's job.
func normalizeSIPURI(s string) (string, error) {
	if len(s) > maxURI {
		return "", ErrNumberTooLong
	}
	i := strings.IndexByte(s, ':')
	scheme, rest := strings.ToLower(s[:i]), s[i+1:]
	if rest == "" {
		return "", ErrInvalidNumber
	}
	for _, r := range rest {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("<>\"{}|\\^`", r) {
			return "", ErrInvalidNumber
		}
	}
	host := rest
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if at == 0 {
			return "", ErrInvalidNumber
		}
		host = rest[at+1:]
	}
	if host == "" || host[0] == ';' || host[0] == ':' || host[0] == '?' {
		return "", ErrInvalidNumber
	}
	return scheme + ":" + rest, nil
}

// NewCallID returns a new random, globally unique call ID. It is the only
// source of randomness in the package and is called by the actor and the
// adapters, never by Step.
func NewCallID() CallID {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // never happens on supported OSes
	}
	return CallID(hex.EncodeToString(b[:]))
}

// ValidDTMF reports whether digits are all DTMF symbols (0-9 * # A-D).
func ValidDTMF(digits string) bool {
	if digits == "" || len(digits) > 64 {
		return false
	}
	for _, r := range digits {
		switch {
		case r >= '0' && r <= '9', r == '*', r == '#', r >= 'A' && r <= 'D', r >= 'a' && r <= 'd':
		default:
			return false
		}
	}
	return true
}
