package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/callcentre/softphone/desktop"
)

// autostart is ui.Autostart over desktop.Autostart: the per-OS
// start-at-login entry (an XDG autostart file, a LaunchAgent, the Run
// registry key) that starts this executable when the user logs in.
type autostart struct {
	entry desktop.Autostart
	// locked: IT provisioned policy.autostart and locked it; the agent
	// cannot change it.
	locked bool
}

// newAutostart starts the running executable (symlinks resolved, so a
// package's /usr/bin link and the real file agree) with no arguments.
func newAutostart() (autostart, error) {
	exe, err := os.Executable()
	if err != nil {
		return autostart{}, fmt.Errorf("autostart: %w", err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	return autostart{entry: desktop.Autostart{Exec: exe}}, nil
}

// Enabled reports whether the OS starts the app at login.
func (a autostart) Enabled() (bool, error) { return a.entry.Enabled() }

// SetEnabled adds or removes the start-at-login entry, unless IT locked it.
func (a autostart) SetEnabled(on bool) error {
	if a.locked {
		return errAutostartLocked
	}
	if on {
		return a.entry.Enable()
	}
	return a.entry.Disable()
}

// applyPolicy carries out IT's policy.autostart (cfg.autostart, nil when
// not provisioned) at startup and locks the toggle when IT locked it. On
// Windows the MSI's machine-wide Run key starts the app for every user,
// so a per-user entry is not added as well (only removed when the policy
// says off).
func (a *autostart) applyPolicy(cfg configFile, goos string) error {
	if cfg.autostart == nil {
		return nil
	}
	a.locked = cfg.autostartLocked
	on, err := a.entry.Enabled()
	if err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	switch want := *cfg.autostart; {
	case want && !on && goos != "windows":
		return a.entry.Enable()
	case !want && on && a.locked:
		return a.entry.Disable()
	}
	return nil
}
