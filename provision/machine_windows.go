//go:build windows

package provision

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows/registry"
)

// The Windows sources, lowest precedence first (under HKEY_LOCAL_MACHINE).
const (
	// WindowsMSIKey is written by the MSI from its public properties.
	WindowsMSIKey = `SOFTWARE\Callcentre\Softphone`
	// WindowsPolicyKey is written by Group Policy or Intune; every value in
	// it is locked.
	WindowsPolicyKey = `SOFTWARE\Policies\Callcentre\Softphone`
)

// windowsFile is %ProgramData%\Softphone\provisioning.json, the lowest
// Windows source ("" when ProgramData is not set).
func windowsFile() string {
	pd := os.Getenv("ProgramData")
	if pd == "" {
		return ""
	}
	return filepath.Join(pd, "Softphone", "provisioning.json")
}

func machine() ([]Layer, error) {
	var out []Layer
	if p := windowsFile(); p != "" {
		ls, err := loadFiles(p)
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	for _, src := range []struct {
		key  string
		lock bool
	}{{WindowsMSIKey, false}, {WindowsPolicyKey, true}} {
		l, ok, err := loadKey(src.key)
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

// loadKey reads the values of HKLM\key (64-bit view): REG_SZ and
// REG_EXPAND_SZ as strings, REG_MULTI_SZ as a list, REG_DWORD/QWORD as
// numbers. Subkeys are not read.
func loadKey(key string) (Layer, bool, error) {
	origin := `HKLM\` + key
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, key, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if errors.Is(err, registry.ErrNotExist) {
		return Layer{}, false, nil
	}
	if err != nil {
		return Layer{}, false, fmt.Errorf("provisioning: %s: %w", origin, err)
	}
	defer k.Close()
	names, err := k.ReadValueNames(0)
	if err != nil {
		return Layer{}, false, fmt.Errorf("provisioning: %s: %w", origin, err)
	}
	m := make(map[string]any, len(names))
	for _, n := range names {
		if n == "" {
			continue // the key's default value
		}
		_, typ, err := k.GetValue(n, nil)
		if err != nil {
			return Layer{}, false, fmt.Errorf("provisioning: %s: %q: %w", origin, n, err)
		}
		switch typ {
		case registry.SZ, registry.EXPAND_SZ:
			s, _, err := k.GetStringValue(n)
			if err != nil {
				return Layer{}, false, fmt.Errorf("provisioning: %s: %q: %w", origin, n, err)
			}
			m[n] = s
		case registry.MULTI_SZ:
			ss, _, err := k.GetStringsValue(n)
			if err != nil {
				return Layer{}, false, fmt.Errorf("provisioning: %s: %q: %w", origin, n, err)
			}
			m[n] = strings.Join(ss, "\n")
		case registry.DWORD, registry.QWORD:
			v, _, err := k.GetIntegerValue(n)
			if err != nil {
				return Layer{}, false, fmt.Errorf("provisioning: %s: %q: %w", origin, n, err)
			}
			m[n] = float64(v)
		default:
			return Layer{}, false, fmt.Errorf("%w: %s: %q: registry type %d is not used", ErrBadValue, origin, n, typ)
		}
	}
	l, err := FromMap(origin, m)
	if err != nil {
		return Layer{}, false, err
	}
	return l, true, nil
}
