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
