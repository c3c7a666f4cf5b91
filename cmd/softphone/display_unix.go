//go:build !windows && !darwin

package main

import (
	"fmt"
	"os"
)

// displayNamed says which X11 and Wayland displays the environment names.
func displayNamed() string {
	env := func(k string) string {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			return fmt.Sprintf("%s=%q", k, v)
		}
		return k + " unset"
	}
	return "no X11 or Wayland display could be used (" + env("DISPLAY") + ", " + env("WAYLAND_DISPLAY") + ")"
}
