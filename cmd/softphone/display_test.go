//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callcentre/softphone/store"
)

// freeDisplay returns an X display number nobody serves: no lock file and
// no socket, far above the numbers Xvfb -displayfd picks.
func freeDisplay(t *testing.T) string {
	t.Helper()
	for n := 51000 + os.Getpid()%1000; n < 59000; n++ {
		_, lockErr := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n))
		_, sockErr := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n))
		if errors.Is(lockErr, os.ErrNotExist) && errors.Is(sockErr, os.ErrNotExist) {
			return fmt.Sprintf(":%d", n)
		}
	}
	t.Fatal("no free X display number")
	return ""
}

// TestNoDisplayStopsCleanly starts the window with DISPLAY naming a display
// that does not exist (and no Wayland): the app must stop with "cannot
// open the display" and exit status 1 (not a panic, status 2), after
// closing what it built: the instance socket is gone and the store opens
// again.
func TestNoDisplayStopsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the app")
	}
	var env []string
	for _, kv := range headlessEnv(t) {
		if !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			env = append(env, kv)
		}
	}
	display := freeDisplay(t)
	env = append(env, "DISPLAY="+display)
	var home string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	data := filepath.Join(home, "data")
	out, err := self(t, env, "-data", data, "-control", "off", "-agent", "a1")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit %v, want status 1; output:\n%s", err, out)
	}
	if strings.Contains(out, "panic:") || strings.Contains(out, "goroutine ") {
		t.Fatalf("the app panicked:\n%s", out)
	}
	want := "softphone: cannot open the display: no X11 or Wayland display could be used (DISPLAY=\"" + display + "\", WAYLAND_DISPLAY unset)"
	if !strings.Contains(out, want) {
		t.Fatalf("no %q in the output:\n%s", want, out)
	}
	if _, err := os.Stat(filepath.Join(home, "run", "softphone", "instance.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the instance socket is left behind (%v): the app did not close", err)
	}
	st, err := store.Open(data)
	if err != nil {
		t.Fatalf("the store does not open after the failed start: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}
