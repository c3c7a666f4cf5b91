//go:build darwin

package provision

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
)

// The macOS sources, lowest precedence first.
const (
	// MacFilePath is a provisioning file a .pkg or a script may install.
	MacFilePath = "/Library/Application Support/Softphone/provisioning.json"
	// MacPreferencesPath holds `sudo defaults write` machine defaults.
	MacPreferencesPath = "/Library/Preferences/io.callcentre.softphone.plist"
	// MacManagedPath is written by MDM from a configuration profile; every
	// key in it is locked.
	MacManagedPath = "/Library/Managed Preferences/io.callcentre.softphone.plist"
)

func machine() ([]Layer, error) {
	out, err := loadFiles(MacFilePath)
	if err != nil {
		return nil, err
	}
	for _, src := range []struct {
		path string
		lock bool
	}{{MacPreferencesPath, false}, {MacManagedPath, true}} {
		l, ok, err := loadPlist(src.path)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if src.lock {
			l = l.LockAll()
		}
		out = append(out, l)
	}
	return out, nil
}

// loadPlist reads a plist in any format (preferences are usually binary)
// through plutil, which every macOS has.
func loadPlist(path string) (Layer, bool, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return Layer{}, false, nil
	}
	xml, err := exec.Command("/usr/bin/plutil", "-convert", "xml1", "-o", "-", path).Output()
	if err != nil {
		return Layer{}, false, fmt.Errorf("provisioning: %s: plutil: %w", path, err)
	}
	l, err := ParsePlist(path, xml)
	if err != nil {
		return Layer{}, false, err
	}
	return l, true, nil
}
