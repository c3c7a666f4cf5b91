//go:build darwin

package desktop

import (
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const launchAgentLabel = "io.callcentre.softphone"

func (a Autostart) path() (string, error) {
	dir := a.Dir
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(home, "Library", "LaunchAgents")
	}
	return filepath.Join(dir, launchAgentLabel+".plist"), nil
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// enable writes a LaunchAgent that runs the app once at login.
func (a Autostart) enable() error {
	if !filepath.IsAbs(a.Exec) {
		return fmt.Errorf("autostart: executable path %q is not absolute", a.Exec)
	}
	p, err := a.path()
	if err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	var args strings.Builder
	for _, x := range append([]string{a.Exec}, a.Args...) {
		args.WriteString("\t\t<string>" + xmlEscape(x) + "</string>\n")
	}
	body := `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>` + launchAgentLabel + `</string>
	<key>ProgramArguments</key>
	<array>
` + args.String() + `	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>ProcessType</key>
	<string>Interactive</string>
</dict>
</plist>
`
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	return nil
}

func (a Autostart) disable() error {
	p, err := a.path()
	if err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("autostart: %w", err)
	}
	return nil
}

func (a Autostart) enabled() (bool, error) {
	p, err := a.path()
	if err != nil {
		return false, fmt.Errorf("autostart: %w", err)
	}
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("autostart: %w", err)
	}
	return true, nil
}
