package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
)

// DefaultSearchTimeout bounds one CRM search of the desk's finder.
const DefaultSearchTimeout = 5 * time.Second

// CRMContact is a record SearchCRM found in the external CRM.
type CRMContact struct {
	// Record is the CRM record (its URL opens it).
	Record domain.CRMRecord
	// Number is the E.164 number the record matched when the query was a
	// number; "" for a search by name (the record's own numbers are in
	// Record.Phones).
	Number string
}

// SearchCRM searches the external CRM with the signed-in agent's session
// for the desk's finder: a query that reads as a phone number is looked up
// by number (the connector's phone lookup, the same as caller ID, and the
// matches refresh the contact cache); any other text is searched by name
// where the connector supports it (a connector without a name search
// answers nothing, not an error). It blocks on the network for at most
// DefaultSearchTimeout or until ctx ends (the desk cancels it when the
// query changes). ErrNoCRM without an external CRM, ErrNotSignedIn while
// nobody is signed in, crm.ErrNoSession while the CRM needs its sign-in.
func (a *App) SearchCRM(ctx context.Context, query string, limit int) ([]CRMContact, error) {
	if a.Connector == nil || a.crmSess == nil {
		return nil, ErrNoCRM
	}
	query = strings.TrimSpace(query)
	if query == "" || limit <= 0 {
		return nil, nil
	}
	cs := a.crmSess
	cs.mu.Lock()
	id, sess := cs.agentID, cs.sess
	cs.mu.Unlock()
	if id == "" {
		return nil, ErrNotSignedIn
	}
	if sess == nil {
		return nil, fmt.Errorf("%s: %w", crm.DisplayName(a.Connector.Name()), crm.ErrNoSession)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultSearchTimeout)
	defer cancel()
	if looksLikeNumber(query) {
		if p, err := a.Normalizer.Parse(query); err == nil {
			recs, err := sess.LookupPhone(ctx, p)
			if err != nil {
				return nil, fmt.Errorf("crm search: %w", err)
			}
			if prof, perr := a.Store.Profile(id); perr == nil {
				if err := prof.CacheContacts(p.E164, recs); err != nil {
					a.log.Warn("contact cache not updated", "err", err)
				}
			}
			out := make([]CRMContact, 0, min(len(recs), limit))
			for _, r := range recs[:min(len(recs), limit)] {
				if r.URL == "" {
					r.URL, _ = sess.RecordURL(r)
				}
				out = append(out, CRMContact{Record: r, Number: p.E164})
			}
			return out, nil
		}
	}
	recs, err := sess.Search(ctx, query, limit)
	if errors.Is(err, crm.ErrUnsupported) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("crm search: %w", err)
	}
	out := make([]CRMContact, 0, min(len(recs), limit))
	for _, r := range recs[:min(len(recs), limit)] {
		if r.URL == "" {
			r.URL, _ = sess.RecordURL(r)
		}
		out = append(out, CRMContact{Record: r})
	}
	return out, nil
}

// looksLikeNumber: at least three digits, and digits are most of the text
// (so "Flat 22b" is a name search, "+44 20 7946 0018" a number).
func looksLikeNumber(s string) bool {
	digits, other := 0, 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '+' || r == '-' || r == '(' || r == ')' || r == '.' || r == '/':
		default:
			other++
		}
	}
	return digits >= 3 && other*2 <= digits
}
