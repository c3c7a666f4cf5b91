package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/callcentre/softphone/agent/domain"
)

// CachedContacts are the CRM records last matched to a number, kept so
// caller ID works while the CRM is unreachable.
type CachedContacts struct {
	Number   string             `json:"number"` // normalised
	Records  []domain.CRMRecord `json:"records"`
	CachedAt time.Time          `json:"cached_at"`
}

// CacheContacts stores the records matched to number (replacing what was
// cached for it). An empty list caches "no match".
func (p *Profile) CacheContacts(number string, recs []domain.CRMRecord) error {
	num, err := p.db.canonicalNumber(number)
	if err != nil {
		return fmt.Errorf("cache contacts: %w", err)
	}
	c := CachedContacts{Number: num, Records: slices.Clone(recs), CachedAt: p.db.cfg.now()}
	v, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("cache contacts: %w", err)
	}
	err = p.db.update(func(tx *bolt.Tx) error {
		b, err := p.bucket(tx, bContacts)
		if err != nil {
			return err
		}
		return b.Put([]byte(num), v)
	})
	if err != nil {
		return fmt.Errorf("cache contacts: %w", err)
	}
	return nil
}

// LookupContacts returns what is cached for number in any format the
// normaliser accepts ("020 7946 0018", "+44 20 7946 0018" ...).
func (p *Profile) LookupContacts(number string) (CachedContacts, bool, error) {
	num, err := p.db.canonicalNumber(number)
	if err != nil {
		return CachedContacts{}, false, fmt.Errorf("lookup contacts: %w", err)
	}
	var c CachedContacts
	var found bool
	err = p.db.view(func(tx *bolt.Tx) error {
		b, err := p.bucket(tx, bContacts)
		if err != nil {
			return err
		}
		v := b.Get([]byte(num))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &c)
	})
	if err != nil {
		return CachedContacts{}, false, fmt.Errorf("lookup contacts: %w", err)
	}
	return c, found, nil
}
