package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// DirectoryContact is one contact of a profile's local contact directory,
// the embedded CRM (package crm/local) used when no external CRM is
// configured. Phones are stored canonical (E.164 through the normaliser).
type DirectoryContact struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Company   string    `json:"company,omitempty"`
	Email     string    `json:"email,omitempty"`
	Phones    []string  `json:"phones"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Limits of directory contacts.
const (
	maxContactID    = 128
	maxContactField = 512
	maxPhones       = 16
)

// dirPhoneKey is the phone index key: number, a zero byte, contact ID.
func dirPhoneKey(num, id string) []byte {
	return append(append([]byte(num), 0), id...)
}

// cleanContact validates c and canonicalises its phones.
func (p *Profile) cleanContact(c DirectoryContact) (DirectoryContact, error) {
	c.ID, c.Name = strings.TrimSpace(c.ID), strings.TrimSpace(c.Name)
	c.Company, c.Email = strings.TrimSpace(c.Company), strings.TrimSpace(c.Email)
	switch {
	case c.ID == "" || len(c.ID) > maxContactID || strings.ContainsRune(c.ID, 0):
		return c, fmt.Errorf("%w: contact id of %d bytes", ErrInvalidContact, len(c.ID))
	case c.Name == "":
		return c, fmt.Errorf("%w: contact %s has no name", ErrInvalidContact, c.ID)
	case len(c.Name) > maxContactField || len(c.Company) > maxContactField || len(c.Email) > maxContactField:
		return c, fmt.Errorf("%w: contact %s has a field over %d bytes", ErrInvalidContact, c.ID, maxContactField)
	case len(c.Phones) == 0 || len(c.Phones) > maxPhones:
		return c, fmt.Errorf("%w: contact %s has %d phone numbers (1 to %d)", ErrInvalidContact, c.ID, len(c.Phones), maxPhones)
	}
	phones := make([]string, 0, len(c.Phones))
	for _, raw := range c.Phones {
		num, err := p.db.canonicalNumber(raw)
		if err != nil {
			return c, fmt.Errorf("contact %s: %w", c.ID, err)
		}
		if !slices.Contains(phones, num) {
			phones = append(phones, num)
		}
	}
	c.Phones = phones
	c.UpdatedAt = p.db.cfg.now()
	return c, nil
}

func putContact(dir, idx *bolt.Bucket, c DirectoryContact) error {
	if err := deleteContact(dir, idx, c.ID); err != nil {
		return err
	}
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := dir.Put([]byte(c.ID), v); err != nil {
		return err
	}
	for _, num := range c.Phones {
		if err := idx.Put(dirPhoneKey(num, c.ID), nil); err != nil {
			return err
		}
	}
	return nil
}

// deleteContact removes id and its index entries; a missing id is no error.
func deleteContact(dir, idx *bolt.Bucket, id string) error {
	v := dir.Get([]byte(id))
	if v == nil {
		return nil
	}
	var old DirectoryContact
	if err := json.Unmarshal(v, &old); err != nil {
		return fmt.Errorf("decode contact %s: %w", id, err)
	}
	for _, num := range old.Phones {
		if err := idx.Delete(dirPhoneKey(num, id)); err != nil {
			return err
		}
	}
	return dir.Delete([]byte(id))
}

func (p *Profile) dirBuckets(tx *bolt.Tx) (dir, idx *bolt.Bucket, err error) {
	if dir, err = p.bucket(tx, bDirectory); err != nil {
		return nil, nil, err
	}
	if idx, err = p.bucket(tx, bDirPhone); err != nil {
		return nil, nil, err
	}
	return dir, idx, nil
}

// UpsertContacts adds or replaces contacts (by ID) in one transaction. A
// contact without an ID or a name, without a usable phone number or with
// an oversized field fails the whole call with ErrInvalidContact or
// ErrInvalidNumber, and nothing is written.
func (p *Profile) UpsertContacts(cs ...DirectoryContact) error {
	clean := make([]DirectoryContact, len(cs))
	for i, c := range cs {
		var err error
		if clean[i], err = p.cleanContact(c); err != nil {
			return fmt.Errorf("save contacts: %w", err)
		}
	}
	err := p.db.update(func(tx *bolt.Tx) error {
		dir, idx, err := p.dirBuckets(tx)
		if err != nil {
			return err
		}
		for _, c := range clean {
			if err := putContact(dir, idx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save contacts: %w", err)
	}
	return nil
}

// ReplaceDirectory makes the directory exactly cs, in one transaction
// (contacts not in cs are deleted). Validation is as in UpsertContacts.
func (p *Profile) ReplaceDirectory(cs []DirectoryContact) error {
	clean := make([]DirectoryContact, len(cs))
	keep := make(map[string]bool, len(cs))
	for i, c := range cs {
		var err error
		if clean[i], err = p.cleanContact(c); err != nil {
			return fmt.Errorf("save directory: %w", err)
		}
		keep[clean[i].ID] = true
	}
	err := p.db.update(func(tx *bolt.Tx) error {
		dir, idx, err := p.dirBuckets(tx)
		if err != nil {
			return err
		}
		var gone []string
		err = dir.ForEach(func(k, _ []byte) error {
			if !keep[string(k)] {
				gone = append(gone, string(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, id := range gone {
			if err := deleteContact(dir, idx, id); err != nil {
				return err
			}
		}
		for _, c := range clean {
			if err := putContact(dir, idx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save directory: %w", err)
	}
	return nil
}

// DeleteContact removes one contact; ErrNotFound when there is none.
func (p *Profile) DeleteContact(id string) error {
	err := p.db.update(func(tx *bolt.Tx) error {
		dir, idx, err := p.dirBuckets(tx)
		if err != nil {
			return err
		}
		if dir.Get([]byte(id)) == nil {
			return fmt.Errorf("contact %w", ErrNotFound)
		}
		return deleteContact(dir, idx, id)
	})
	if err != nil {
		return fmt.Errorf("delete contact: %w", err)
	}
	return nil
}

// DirectoryContacts lists the whole directory in ID order.
func (p *Profile) DirectoryContacts() ([]DirectoryContact, error) {
	return p.scanDirectory(func(DirectoryContact) bool { return true }, 0)
}

// SearchDirectory lists the contacts whose name or company contains text
// (case-insensitive), at most limit (0: all), in ID order.
func (p *Profile) SearchDirectory(text string, limit int) ([]DirectoryContact, error) {
	t := strings.ToLower(strings.TrimSpace(text))
	if t == "" {
		return nil, nil
	}
	return p.scanDirectory(func(c DirectoryContact) bool {
		return strings.Contains(strings.ToLower(c.Name), t) || strings.Contains(strings.ToLower(c.Company), t)
	}, limit)
}

func (p *Profile) scanDirectory(match func(DirectoryContact) bool, limit int) ([]DirectoryContact, error) {
	var out []DirectoryContact
	err := p.db.view(func(tx *bolt.Tx) error {
		dir, err := p.bucket(tx, bDirectory)
		if err != nil {
			return err
		}
		c := dir.Cursor()
		for k, v := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var ct DirectoryContact
			if err := json.Unmarshal(v, &ct); err != nil {
				return fmt.Errorf("decode contact %s: %w", k, err)
			}
			if match(ct) {
				out = append(out, ct)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read directory: %w", err)
	}
	return out, nil
}

// ContactsByNumber returns the contacts with number, in any format the
// normaliser accepts, through the phone index (no scan).
func (p *Profile) ContactsByNumber(number string) ([]DirectoryContact, error) {
	num, err := p.db.canonicalNumber(number)
	if err != nil {
		return nil, fmt.Errorf("look up directory: %w", err)
	}
	var out []DirectoryContact
	err = p.db.view(func(tx *bolt.Tx) error {
		dir, idx, err := p.dirBuckets(tx)
		if err != nil {
			return err
		}
		prefix := dirPhoneKey(num, "")
		c := idx.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			id := k[len(prefix):]
			v := dir.Get(id)
			if v == nil {
				return fmt.Errorf("phone index names missing contact %s", id)
			}
			var ct DirectoryContact
			if err := json.Unmarshal(v, &ct); err != nil {
				return fmt.Errorf("decode contact %s: %w", id, err)
			}
			out = append(out, ct)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look up directory: %w", err)
	}
	return out, nil
}
