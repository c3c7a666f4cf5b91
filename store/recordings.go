package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Recording lists the recording files of one call.
type Recording struct {
	CallKey   string    `json:"call_key"`
	Paths     []string  `json:"paths"`
	CreatedAt time.Time `json:"created_at"`
}

func addRecordings(b *bolt.Bucket, key string, paths []string, now time.Time) error {
	r := Recording{CallKey: key, CreatedAt: now}
	if v := b.Get([]byte(key)); v != nil {
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("decode recording index: %w", err)
		}
	}
	for _, p := range paths {
		if p != "" && !slices.Contains(r.Paths, p) {
			r.Paths = append(r.Paths, p)
		}
	}
	v, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), v)
}

// AddRecording indexes a recording file of the call key. Call logs with
// Recordings are indexed by SaveCallLog already.
func (p *Profile) AddRecording(callKey, path string) error {
	err := p.db.update(func(tx *bolt.Tx) error {
		b, err := p.bucket(tx, bRecordings)
		if err != nil {
			return err
		}
		return addRecordings(b, callKey, []string{path}, p.db.cfg.now())
	})
	if err != nil {
		return fmt.Errorf("index recording: %w", err)
	}
	return nil
}

// Recordings returns the recording files of a call.
func (p *Profile) Recordings(callKey string) (Recording, bool, error) {
	var r Recording
	var found bool
	err := p.db.view(func(tx *bolt.Tx) error {
		b, err := p.bucket(tx, bRecordings)
		if err != nil {
			return err
		}
		v := b.Get([]byte(callKey))
		if v == nil {
			return nil
		}
		found = true
		return json.Unmarshal(v, &r)
	})
	if err != nil {
		return Recording{}, false, fmt.Errorf("read recording index: %w", err)
	}
	return r, found, nil
}

// AllRecordings lists every indexed recording of the profile.
func (p *Profile) AllRecordings() ([]Recording, error) {
	var rs []Recording
	err := p.db.view(func(tx *bolt.Tx) error {
		b, err := p.bucket(tx, bRecordings)
		if err != nil {
			return err
		}
		return b.ForEach(func(_, v []byte) error {
			var r Recording
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			rs = append(rs, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	return rs, nil
}
