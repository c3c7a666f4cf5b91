package store

import (
	"fmt"
	"os"
	"path/filepath"
)

func defaultDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("data directory: %w", err)
	}
	return filepath.Join(home, "Library", "Application Support", AppName), nil
}
