//go:build linux

package desktop

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// autostartFile is the XDG autostart entry (Desktop Application Autostart
// Specification).
const autostartFile = "softphone.desktop"

func (a Autostart) path() (string, error) {
	dir := a.Dir
	if dir == "" {
		base := os.Getenv("XDG_CONFIG_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", err
			}
			base = filepath.Join(home, ".config")
		}
		dir = filepath.Join(base, "autostart")
	}
	return filepath.Join(dir, autostartFile), nil
}

// execQuote quotes an argument for the Exec key of a .desktop file.
func execQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\"'\\><~|&;$*?#()`%=") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\\\`, `"`, `\\"`, "`", "\\\\`", `$`, `\\$`, `%`, `%%`)
	return `"` + r.Replace(s) + `"`
}

func (a Autostart) enable() error {
	if !filepath.IsAbs(a.Exec) {
		return fmt.Errorf("autostart: executable path %q is not absolute", a.Exec)
	}
	p, err := a.path()
	if err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	parts := []string{execQuote(a.Exec)}
	for _, x := range a.Args {
		parts = append(parts, execQuote(x))
	}
	body := "[Desktop Entry]\nType=Application\nName=Softphone\nComment=Call-centre softphone\n" +
		"Exec=" + strings.Join(parts, " ") + "\nIcon=io.callcentre.softphone\nTerminal=false\n" +
		"X-GNOME-Autostart-enabled=true\n"
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		return fmt.Errorf("autostart: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return errors.Join(fmt.Errorf("autostart: %w", err), os.Remove(tmp))
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
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("autostart: %w", err)
	}
	s := string(b)
	return !strings.Contains(s, "\nHidden=true") && !strings.Contains(s, "X-GNOME-Autostart-enabled=false"), nil
}
