package crm

import (
	"strings"
	"unicode"
	"unicode/utf16"
)

// CallSubject is the agent's call subject (domain.CallLog.Subject) as a
// connector writes it into a CRM field of at most max characters: trimmed
// of surrounding white space and cut at a character boundary. Characters
// are counted as the CRMs' platforms count them (UTF-16 code units, so a
// character outside the Basic Multilingual Plane counts two), which is
// never more than the number of runes either. It returns "" for a blank
// subject or a max below 1: the connector then writes its own text
// ("Inbound call from ...").
func CallSubject(subject string, max int) string {
	s := strings.TrimSpace(subject)
	if s == "" || max < 1 {
		return ""
	}
	units := 0
	for i, r := range s {
		n := utf16.RuneLen(r)
		if n < 0 {
			n = 1 // invalid UTF-8 decodes as U+FFFD, one unit
		}
		if units+n > max {
			return strings.TrimRightFunc(s[:i], unicode.IsSpace)
		}
		units += n
	}
	return s
}
