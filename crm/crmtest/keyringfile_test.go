package crmtest_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/secrets"
)

// TestKeyringFile: every change is on disk at once, a fresh keyring on the
// same file sees it, and a damaged file is an error, never an empty keyring.
func TestKeyringFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring.json")
	k, err := crmtest.NewKeyringFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Set("alice", "crm", secrets.KindRefreshToken, "rt-1"); err != nil {
		t.Fatal(err)
	}
	if err := k.Set("alice", "crm", secrets.KindAccessToken, "at-1"); err != nil {
		t.Fatal(err)
	}
	if err := k.Delete("alice", "crm", secrets.KindAccessToken); err != nil {
		t.Fatal(err)
	}
	again, err := crmtest.NewKeyringFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := again.Get("alice", "crm", secrets.KindRefreshToken); err != nil || v != "rt-1" {
		t.Fatalf("reopened: %q %v", v, err)
	}
	if _, err := again.Get("alice", "crm", secrets.KindAccessToken); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("deleted secret came back: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("keyring file readable by others: %v %v", fi.Mode(), err)
	}

	mem := crmtest.NewKeyring()
	if err := mem.LoadFile(path); err != nil || mem.Len() != 1 {
		t.Fatalf("load: %d secrets, %v", mem.Len(), err)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := crmtest.NewKeyringFile(path); err == nil {
		t.Fatal("a damaged keyring file was accepted")
	}
}
