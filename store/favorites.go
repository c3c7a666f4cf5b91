package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Favorite is a speed-dial entry.
type Favorite struct {
	Name    string    `json:"name"`
	Number  string    `json:"number"` // E.164, or the digits of an internal extension
	AddedAt time.Time `json:"added_at"`
}

// AddFavorite adds a favorite, or renames it when the number is already a
// favorite. A profile holds at most MaxFavorites; beyond that it returns
// ErrFavoritesFull.
func (p *Profile) AddFavorite(name, number string) (Favorite, error) {
	num, err := p.db.canonicalNumber(number)
	if err != nil {
		return Favorite{}, fmt.Errorf("add favorite: %w", err)
	}
	f := Favorite{Name: strings.TrimSpace(name), Number: num, AddedAt: p.db.cfg.now()}
	if f.Name == "" {
		f.Name = num
	}
	err = p.db.update(func(tx *bolt.Tx) error {
		b, err := p.bucket(tx, bFavorites)
		if err != nil {
			return err
		}
		if old := b.Get([]byte(num)); old != nil {
			var prev Favorite
			if err := json.Unmarshal(old, &prev); err == nil {
				f.AddedAt = prev.AddedAt
			}
		} else if n := b.Stats().KeyN; n >= MaxFavorites {
			return fmt.Errorf("%w: at most %d, remove one first", ErrFavoritesFull, MaxFavorites)
		}
		v, err := json.Marshal(f)
		if err != nil {
			return err
		}
		return b.Put([]byte(num), v)
	})
	if err != nil {
		return Favorite{}, fmt.Errorf("add favorite: %w", err)
	}
	return f, nil
}

// RemoveFavorite removes the favorite with this number (ErrNotFound if it
// is not one).
func (p *Profile) RemoveFavorite(number string) error {
	num, err := p.db.canonicalNumber(number)
	if err != nil {
		return fmt.Errorf("remove favorite: %w", err)
	}
	err = p.db.update(func(tx *bolt.Tx) error {
		b, err := p.bucket(tx, bFavorites)
		if err != nil {
			return err
		}
		if b.Get([]byte(num)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(num))
	})
	if err != nil {
		return fmt.Errorf("remove favorite: %w", err)
	}
	return nil
}

// Favorites lists the favorites alphabetically by name (case-insensitive),
// then by number.
func (p *Profile) Favorites() ([]Favorite, error) {
	var fs []Favorite
	err := p.db.view(func(tx *bolt.Tx) error {
		b, err := p.bucket(tx, bFavorites)
		if err != nil {
			return err
		}
		return b.ForEach(func(_, v []byte) error {
			var f Favorite
			if err := json.Unmarshal(v, &f); err != nil {
				return err
			}
			fs = append(fs, f)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list favorites: %w", err)
	}
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := strings.ToLower(fs[i].Name), strings.ToLower(fs[j].Name)
		if a != b {
			return a < b
		}
		return fs[i].Number < fs[j].Number
	})
	return fs, nil
}
