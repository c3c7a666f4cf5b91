package store

import (
	"fmt"
	"strings"
)

// NormalizeE164 turns a dialled or presented number into E.164 ("+4420...")
// for the store's needs (contact cache, favorites). countryCode is the
// default country calling code without "+" ("44", "1"). It strips visual
// separators and a "tel:" prefix, accepts "+" and "00" international
// prefixes, and replaces a national trunk prefix "0" (or "1" in North
// America) by the country code. It does not know numbering plans: short
// internal extensions are refused with ErrInvalidNumber, and countries whose
// national numbers keep a leading 0 (Italy) are not handled. Callers that
// need exact results (package crm) should use a maintained phone-number
// library and pass it in with WithNormalizer.
func NormalizeE164(raw, countryCode string) (string, error) {
	s := strings.TrimSpace(raw)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "tel:"), "TEL:")
	if i := strings.IndexAny(s, ";@"); i >= 0 {
		s = s[:i]
	}
	intl := false
	var digits strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' && digits.Len() == 0 && !intl:
			intl = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/' || r == '\u00a0' || r == '\t':
		default:
			return "", fmt.Errorf("%w: unexpected character at %d", ErrInvalidNumber, i)
		}
	}
	d := digits.String()
	cc := strings.TrimPrefix(countryCode, "+")
	if !validCountryCode(cc) {
		return "", fmt.Errorf("%w: bad default country code", ErrInvalidNumber)
	}
	switch {
	case intl:
	case strings.HasPrefix(d, "00"):
		d = d[2:]
	case cc == "1" && len(d) == 11 && d[0] == '1':
	case cc == "1" && len(d) == 10:
		d = cc + d
	case strings.HasPrefix(d, "0") && cc != "":
		d = cc + d[1:]
	case len(d) >= 7 && cc != "":
		d = cc + d
	default:
		return "", fmt.Errorf("%w: not a full number (%d digits)", ErrInvalidNumber, len(d))
	}
	if len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return "", fmt.Errorf("%w: %d digits is not an e.164 number", ErrInvalidNumber, len(d))
	}
	return "+" + d, nil
}

func validCountryCode(cc string) bool {
	if cc == "" {
		return true // international numbers only
	}
	if len(cc) > 3 || cc[0] == '0' {
		return false
	}
	for _, r := range cc {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// canonicalNumber is the key numbers are stored under: E.164 when the
// normaliser accepts the number, otherwise its digits (internal
// extensions such as "2001").
func (db *DB) canonicalNumber(raw string) (string, error) {
	if n, err := db.cfg.normalize(raw); err == nil {
		return n, nil
	}
	var b strings.Builder
	for _, r := range raw {
		if r >= '0' && r <= '9' || r == '*' || r == '#' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 || b.Len() > 32 {
		return "", fmt.Errorf("%w: no digits", ErrInvalidNumber)
	}
	return b.String(), nil
}
