package local

import (
	"fmt"

	"github.com/callcentre/softphone/store"
)

// StoreBackend keeps one agent's directory in that agent's store profile
// (store.Profile's directory bucket, indexed by number there too), so an
// imported directory survives restarts and a shared-PC logout that wipes
// contacts removes it.
type StoreBackend struct {
	p *store.Profile
}

var _ Backend = (*StoreBackend)(nil)

// NewStoreBackend returns the backend over the profile.
func NewStoreBackend(p *store.Profile) *StoreBackend { return &StoreBackend{p: p} }

// Load reads the profile's directory.
func (b *StoreBackend) Load() ([]Contact, error) {
	cs, err := b.p.DirectoryContacts()
	if err != nil {
		return nil, err
	}
	out := make([]Contact, len(cs))
	for i, c := range cs {
		out[i] = Contact{ID: c.ID, Name: c.Name, Company: c.Company, Email: c.Email, Phones: c.Phones}
	}
	return out, nil
}

// Save replaces the profile's directory with cs in one transaction:
// either all of it is durable or nothing changed.
func (b *StoreBackend) Save(cs []Contact) error {
	in := make([]store.DirectoryContact, len(cs))
	for i, c := range cs {
		in[i] = store.DirectoryContact{ID: c.ID, Name: c.Name, Company: c.Company, Email: c.Email, Phones: c.Phones}
	}
	if err := b.p.ReplaceDirectory(in); err != nil {
		return fmt.Errorf("store directory: %w", err)
	}
	return nil
}
