package store

import (
	"errors"
	"os"
	"path/filepath"
)

func defaultDir() (string, error) {
	d := os.Getenv("APPDATA")
	if d == "" {
		return "", errors.New("data directory: the APPDATA environment variable is not set")
	}
	return filepath.Join(d, AppName), nil
}
