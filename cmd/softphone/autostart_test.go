//go:build linux

package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAutostartTogglesTheXDGEntry turns start at login on and off through
// the ui.Autostart adapter in a private XDG_CONFIG_HOME: the .desktop
// entry appears with this executable and disappears again.
func TestAutostartTogglesTheXDGEntry(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	entry := filepath.Join(cfg, "autostart", "softphone.desktop")
	as, err := newAutostart()
	if err != nil {
		t.Fatal(err)
	}
	if on, err := as.Enabled(); err != nil || on {
		t.Fatalf("enabled before: %v %v", on, err)
	}
	if err := as.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(entry)
	if err != nil {
		t.Fatalf("no autostart entry: %v", err)
	}
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	if !strings.Contains(string(raw), "Exec="+exe) && !strings.Contains(string(raw), filepath.Base(exe)) {
		t.Fatalf("entry does not start %s:\n%s", exe, raw)
	}
	if on, err := as.Enabled(); err != nil || !on {
		t.Fatalf("enabled after enable: %v %v", on, err)
	}
	if err := as.SetEnabled(false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(entry); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("entry left after disable: %v", err)
	}
	if on, err := as.Enabled(); err != nil || on {
		t.Fatalf("enabled after disable: %v %v", on, err)
	}
	if err := as.SetEnabled(false); err != nil {
		t.Fatalf("disabling twice: %v", err)
	}
}

// TestProvisionedAutostart carries out IT's policy.autostart: on adds the
// entry at startup, a locked policy refuses the agent's change, a locked
// off removes an entry the agent had made.
func TestProvisionedAutostart(t *testing.T) {
	cfgDir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfgDir)
	entry := filepath.Join(cfgDir, "autostart", "softphone.desktop")
	prov := filepath.Join(t.TempDir(), "provisioning.json")
	policy := func(js string) configFile {
		t.Helper()
		if err := os.WriteFile(prov, []byte(js), 0o600); err != nil {
			t.Fatal(err)
		}
		machine, err := machineLayers(prov)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := applyProvisioning(configFile{}, "softphone.json", machine, "")
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	as, err := newAutostart()
	if err != nil {
		t.Fatal(err)
	}
	if err := as.applyPolicy(policy(`{"policy.autostart": true}`), "linux"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(entry); err != nil || as.locked {
		t.Fatalf("provisioned on: entry %v, locked %v", err, as.locked)
	}
	if err := as.SetEnabled(false); err != nil { // not locked: the agent may turn it off
		t.Fatal(err)
	}
	if err := as.applyPolicy(policy(`{"policy.autostart": true, "locked": ["policy.autostart"]}`), "linux"); err != nil {
		t.Fatal(err)
	}
	if err := as.SetEnabled(false); !errors.Is(err, errAutostartLocked) {
		t.Fatalf("locked: %v", err)
	}
	if on, _ := as.Enabled(); !on {
		t.Fatal("locked on: no entry")
	}
	if err := as.applyPolicy(policy(`{"policy.autostart": false, "locked": ["policy.autostart"]}`), "linux"); err != nil {
		t.Fatal(err)
	}
	if on, _ := as.Enabled(); on {
		t.Fatal("locked off: the entry is still there")
	}
	// Nothing provisioned: nothing changes, nothing is locked.
	fresh, _ := newAutostart()
	if err := fresh.applyPolicy(configFile{}, "linux"); err != nil || fresh.locked {
		t.Fatalf("unprovisioned: %v %v", err, fresh.locked)
	}
}
