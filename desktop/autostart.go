package desktop

// Autostart starts the softphone when the user logs in. Exec is the
// absolute path of the executable; Args are passed to it.
type Autostart struct {
	Exec string
	Args []string
	// Dir overrides the per-OS location (tests); empty uses the OS
	// default ($XDG_CONFIG_HOME/autostart, ~/Library/LaunchAgents).
	Dir string
}

// Enable turns start-at-login on.
func (a Autostart) Enable() error { return a.enable() }

// Disable turns it off; disabling when it is off is not an error.
func (a Autostart) Disable() error { return a.disable() }

// Enabled reports whether start-at-login is on.
func (a Autostart) Enabled() (bool, error) { return a.enabled() }
