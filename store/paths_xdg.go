//go:build !windows && !darwin

package store

import (
	"fmt"
	"os"
	"path/filepath"
)

func xdgDataDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, AppName), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	return filepath.Join(home, ".local", "share", AppName), nil
}
