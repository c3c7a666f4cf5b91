package crmtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
)

// NewKeyringFile returns a keyring holding the secrets saved in path (none
// when the file does not exist yet) that writes every change back to path
// at once, atomically (a temporary file renamed over it). A test process
// killed with SIGKILL thus leaves the tokens it last stored, like the OS
// keyring of a killed app: the crash tests hand tokens to a re-executed
// child this way and take rotated ones back.
func NewKeyringFile(path string) (*Keyring, error) {
	k := NewKeyring()
	if err := k.LoadFile(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	k.path = path
	return k, nil
}

// SaveFile writes every secret of k to path (mode 0600), atomically.
func (k *Keyring) SaveFile(path string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return writeFile(path, k.m)
}

// LoadFile replaces k's secrets with those saved in path.
func (k *Keyring) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("crmtest: load keyring: %w", err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("crmtest: load keyring %s: %w", path, err)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m = m
	return k.persistLocked()
}

func (k *Keyring) persistLocked() error {
	if k.path == "" {
		return nil
	}
	return writeFile(k.path, k.m)
}

func writeFile(path string, m map[string]string) error {
	b, err := json.Marshal(maps.Clone(m))
	if err != nil {
		return fmt.Errorf("crmtest: save keyring: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keyring-*")
	if err != nil {
		return fmt.Errorf("crmtest: save keyring: %w", err)
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("crmtest: save keyring: %w", err)
	}
	return nil
}
