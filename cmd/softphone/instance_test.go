//go:build linux

package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/desktop/desktoptest"
)

// TestSecondLaunchBesideSilentInstance: a first instance that takes the
// connection and never answers (hung). A plain second launch must not
// build a second app beside it: it says another softphone seems to be
// running but is not answering, and exits with status 1, creating no
// store.
func TestSecondLaunchBesideSilentInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the app")
	}
	env := headlessEnv(t)
	var home string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "HOME="); ok {
			home = v
		}
	}
	sockDir := filepath.Join(home, "run", "softphone")
	if err := os.MkdirAll(sockDir, 0o700); err != nil {
		t.Fatal(err)
	}
	desktoptest.SilentInstance(t, filepath.Join(sockDir, "instance.sock"))

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	data := filepath.Join(home, "data")
	cmd := exec.CommandContext(ctx, exe, "-headless", "-data", data, "-control", "off")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("second launch: %v, want exit status 1; output:\n%s", err, out)
	}
	if want := "softphone: another softphone seems to be running but is not answering"; !strings.Contains(string(out), want) {
		t.Fatalf("no %q in the output:\n%s", want, out)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the second launch built an app (its data directory: %v); output:\n%s", err, out)
	}
}
