//go:build !windows && !darwin

package crm

import (
	"errors"
	"fmt"
	"os/exec"
)

// errNoBrowser means no xdg-open is installed.
var errNoBrowser = errors.New("no way to open a browser: xdg-open is not installed")

// OpenBrowser opens url in the default browser (xdg-open) without waiting
// for the browser to exit.
func OpenBrowser(url string) error {
	path, err := exec.LookPath("xdg-open")
	if err != nil {
		return fmt.Errorf("open browser: %w: %w", errNoBrowser, err)
	}
	return startDetached(exec.Command(path, url))
}
