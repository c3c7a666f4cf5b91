//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callcentre/softphone/control"
)

// headlessEnv is a private HOME and runtime directory: the instance socket
// and the data live there.
func headlessEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	for _, d := range []string{".config", "run"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return append(os.Environ(), childEnv+"=1", "HOME="+home, "XDG_RUNTIME_DIR="+filepath.Join(home, "run"),
		"XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"DBUS_SESSION_BUS_ADDRESS=disabled:", "DISPLAY=",
		"GOTRACEBACK=all") // a crash shows every goroutine

}

// self runs the test binary as the app with env and args and returns its
// combined output and error.
func self(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestHeadlessDemoAndSecondLaunch runs "softphone -headless -agent a1" in
// demo mode: its JSON lines (control.Event, enumerations as names) show the
// agent registered with the demo PBX. Second launches hand their arguments
// to it: "status" answers, a plain launch exits 0 with the status (no
// window to raise), and "call 201" makes the running instance dial.
func TestHeadlessDemoAndSecondLaunch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the app")
	}
	env := headlessEnv(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-headless", "-agent", "a1", "-control", "127.0.0.1:0")
	cmd.Env = env
	var stderr strings.Builder
	var mu sync.Mutex
	cmd.Stderr = &lockedStrings{mu: &mu, b: &stderr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan control.Event, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var n control.Event
			if err := json.Unmarshal(sc.Bytes(), &n); err != nil {
				t.Errorf("not a JSON line: %q: %v", sc.Text(), err)
				continue
			}
			lines <- n
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	wait := func(what string, ok func(control.Event) bool) {
		t.Helper()
		deadline := time.After(60 * time.Second)
		for {
			select {
			case n, open := <-lines:
				if !open {
					t.Fatalf("the app ended before %s:\n%s", what, stderrOf(&mu, &stderr))
				}
				if ok(n) {
					return
				}
			case <-deadline:
				t.Fatalf("no %s within 60 s:\n%s", what, stderrOf(&mu, &stderr))
			}
		}
	}
	wait("a1 registered with the demo pbx", func(ev control.Event) bool {
		return ev.State.Agent.ID == "a1" && ev.State.Agent.Registration == "registered"
	})

	got, err := self(t, env, "status")
	if err != nil || !strings.Contains(got, "a1") || !strings.Contains(got, "registered") {
		t.Fatalf("second launch with status: %v\n%s", err, got)
	}
	got, err = self(t, env)
	if err != nil || !strings.Contains(got, "already running") || !strings.Contains(got, "a1") || strings.Contains(got, "window shown") {
		t.Fatalf("plain second launch: %v\n%s", err, got)
	}
	got, err = self(t, env, "call", "201")
	if err != nil || !strings.Contains(got, "calling 201") {
		t.Fatalf("second launch with call 201: %v\n%s", err, got)
	}
	wait("the outbound call to 201", func(ev control.Event) bool {
		return slices.ContainsFunc(ev.State.Calls, func(c control.CallState) bool {
			return c.Direction == "outbound" && c.Remote.Number == "201"
		})
	})
	if _, err := self(t, env, "hangup"); err != nil {
		t.Fatalf("hangup: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderrOf(&mu, &stderr))
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no exit within 60 s of SIGTERM")
	}
	if out := stderrOf(&mu, &stderr); strings.Contains(out, "WARNING: DATA RACE") || strings.Contains(out, "panic:") {
		t.Fatalf("race or panic:\n%s", out)
	}
	// Nothing running: a verb says so and fails.
	if got, err := self(t, env, "answer"); err == nil || !strings.Contains(got, "not running") {
		t.Fatalf("answer with nothing running: %v\n%s", err, got)
	}
}

type lockedStrings struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (l *lockedStrings) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func stderrOf(mu *sync.Mutex, b *strings.Builder) string {
	mu.Lock()
	defer mu.Unlock()
	return b.String()
}
