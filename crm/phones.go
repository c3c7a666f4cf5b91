package crm

import "strings"

// Phones is the phone list of a record (domain.CRMRecord.Phones) from
// its stored numbers in order of preference: each in E.164 when it
// parses, else as stored (trimmed), without blanks or duplicates. Nil
// when none is left.
func (n *Normalizer) Phones(stored ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, raw := range stored {
		s := strings.TrimSpace(raw)
		if s == "" {
			continue
		}
		if e, err := n.E164(s); err == nil {
			s = e
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
