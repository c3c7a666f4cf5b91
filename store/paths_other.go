//go:build !linux && !windows && !darwin

package store

func defaultDir() (string, error) { return xdgDataDir() }
