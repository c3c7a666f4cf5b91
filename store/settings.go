package store

import (
	"encoding/json"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// GetSettings decodes the profile's settings into v and reports whether
// any were stored.
func (p *Profile) GetSettings(v any) (bool, error) {
	var found bool
	err := p.db.view(func(tx *bolt.Tx) error {
		b, err := p.bucket(tx, bSettings)
		if err != nil {
			return err
		}
		raw := b.Get(kSettings)
		if raw == nil {
			return nil
		}
		found = true
		return json.Unmarshal(raw, v)
	})
	if err != nil {
		return false, fmt.Errorf("read settings: %w", err)
	}
	return found, nil
}

// PutSettings stores v (JSON-encoded) as the profile's settings. Secrets
// never go here: a value with a non-empty field named like a password,
// secret or token is refused with ErrSecretInSettings; store it with
// package secrets instead.
func (p *Profile) PutSettings(v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return fmt.Errorf("encode settings: %w", err)
	}
	if field := secretField(generic); field != "" {
		return fmt.Errorf("field %q: %w", field, ErrSecretInSettings)
	}
	err = p.db.update(func(tx *bolt.Tx) error {
		b, err := p.bucket(tx, bSettings)
		if err != nil {
			return err
		}
		return b.Put(kSettings, raw)
	})
	if err != nil {
		return fmt.Errorf("write settings: %w", err)
	}
	return nil
}

// secretField returns the name of the first field that looks like it holds
// a secret, or "".
func secretField(v any) string {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if s, ok := val.(string); ok && s != "" && secretName(k) {
				return k
			}
			if f := secretField(val); f != "" {
				return f
			}
		}
	case []any:
		for _, val := range t {
			if f := secretField(val); f != "" {
				return f
			}
		}
	}
	return ""
}

func secretName(k string) bool {
	n := strings.NewReplacer("_", "", "-", "", ".", "").Replace(strings.ToLower(k))
	for _, s := range []string{"password", "passwd", "secret", "token", "apikey", "privatekey", "credential"} {
		if strings.HasSuffix(n, s) {
			return true
		}
	}
	return false
}
