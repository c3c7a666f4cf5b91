//go:build linux

package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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
	ln, err := net.Listen("unix", filepath.Join(sockDir, "instance.sock"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // never read, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})

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
