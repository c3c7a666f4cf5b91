package crm

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Phone is a caller number in the forms CRMs match on.
type Phone struct {
	Raw      string // as received
	E164     string // "+14155551212"
	National string // national significant number, digits only: "4155551212"
	Country  int    // country calling code: 1
}

// Digits is the E.164 number without the plus sign.
func (p Phone) Digits() string { return strings.TrimPrefix(p.E164, "+") }

// Normalizer parses numbers with a default region for national input.
// It is safe for concurrent use.
type Normalizer struct {
	region string
}

// NewNormalizer returns a normaliser whose national numbers belong to
// region, an ISO 3166 code such as "US" or "GB" (default "US").
func NewNormalizer(region string) *Normalizer {
	if region == "" {
		region = "US"
	}
	return &Normalizer{region: strings.ToUpper(region)}
}

// Parse normalises raw ("(415) 555-1212", "+44 20 7946 0018",
// "tel:+1-415-555-1212", "00441632960961") to a Phone.
func (n *Normalizer) Parse(raw string) (Phone, error) {
	s := strings.TrimSpace(raw)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "tel:"), "sip:")
	if i := strings.IndexAny(s, "@;"); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return Phone{}, fmt.Errorf("%w: empty", ErrInvalidNumber)
	}
	num, err := phonenumbers.Parse(s, n.region)
	if err != nil {
		return Phone{}, fmt.Errorf("%w: %w", ErrInvalidNumber, err)
	}
	if !phonenumbers.IsPossibleNumber(num) {
		return Phone{}, fmt.Errorf("%w: not a possible number", ErrInvalidNumber)
	}
	return Phone{
		Raw:      raw,
		E164:     phonenumbers.Format(num, phonenumbers.E164),
		National: phonenumbers.GetNationalSignificantNumber(num),
		Country:  int(num.GetCountryCode()),
	}, nil
}

// E164 normalises raw to E.164; it fits store.WithNormalizer.
func (n *Normalizer) E164(raw string) (string, error) {
	p, err := n.Parse(raw)
	if err != nil {
		return "", err
	}
	return p.E164, nil
}

// Match says how well a stored number matches p: 2 for the same E.164
// number, 1 for the same national number (stored without a country code,
// or in another format of it), 0 for no match.
func (n *Normalizer) Match(p Phone, stored string) int {
	if stored == "" || p.E164 == "" {
		return 0
	}
	q, err := n.Parse(stored)
	if err == nil && q.E164 == p.E164 {
		return 2
	}
	d := digitsOf(stored)
	if len(p.National) >= 7 && (d == p.National || strings.HasSuffix(d, p.National)) {
		return 1
	}
	return 0
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
