package provision

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Machine reads this OS's machine-wide sources (see the package doc),
// lowest precedence first. A missing source yields no layer; a source that
// cannot be read or parsed is an error naming it, and the caller should
// show it rather than start with part of IT's settings.
func Machine() ([]Layer, error) { return machine() }

// LoadFile reads a JSON provisioning file. A missing file is no error:
// ok is false.
func LoadFile(path string) (l Layer, ok bool, err error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Layer{}, false, nil
	}
	if err != nil {
		return Layer{}, false, fmt.Errorf("provisioning: %w", err)
	}
	l, err = ParseJSON(path, raw)
	if err != nil {
		return Layer{}, false, err
	}
	return l, true, nil
}

// loadFiles reads the JSON files that exist, in order.
func loadFiles(paths ...string) ([]Layer, error) {
	var out []Layer
	for _, p := range paths {
		l, ok, err := LoadFile(p)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, l)
		}
	}
	return out, nil
}
