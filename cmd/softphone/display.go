package main

import (
	"fmt"

	"github.com/go-gl/glfw/v3.4/glfw"
)

// displayErr reports whether Fyne's desktop driver opened the display.
// Fyne initialises GLFW when the first window is made; when that fails it
// only logs the failure, and the first GLFW call after it (the tray, the
// window) panics. So after the first window is made, one GLFW call that
// needs the library initialised tells: if it fails, the app stops with
// errNoDisplay instead (its store closed as on any other exit). The
// first cause Fyne logged ("failed to initialise GLFW") is on stderr just
// above; the error adds which display the environment named.
func displayErr() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s (%v)", errNoDisplay, displayNamed(), r)
		}
	}()
	if glfw.GetPlatform() == 0 {
		return fmt.Errorf("%w: %s", errNoDisplay, displayNamed())
	}
	return nil
}
