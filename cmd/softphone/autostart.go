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

// SetEnabled adds or removes the start-at-login entry.
func (a autostart) SetEnabled(on bool) error {
	if on {
		return a.entry.Enable()
	}
	return a.entry.Disable()
}
