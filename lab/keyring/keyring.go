//go:build unix && !darwin

package keyring

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ChildEnv marks a test binary re-executed by RunInChild.
const ChildEnv = "LAB_KEYRING_CHILD"

// Password unlocks the test keyring.
const Password = "lab-keyring-test-password"

// Env is a running private Secret Service.
type Env struct {
	// Vars are the variables a child must run with (D-Bus address, HOME and
	// XDG directories).
	Vars []string
	// BusAddress is the private session bus.
	BusAddress string
	// Dir holds HOME, the XDG directories and the bus socket.
	Dir string
}

// Require skips the test (or fails it when CI=true) if a program the
// private keyring needs is missing.
func Require(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			msg := fmt.Sprintf("%s not found: install the Debian packages dbus-daemon (or dbus-x11) and gnome-keyring to run the real keyring tests", p)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// Start starts dbus-daemon and gnome-keyring-daemon in a private
// directory and waits until the Secret Service is on the bus. Both are
// stopped in t.Cleanup.
func Start(t testing.TB) *Env {
	t.Helper()
	Require(t, "dbus-daemon", "gnome-keyring-daemon", "dbus-send")
	// Unix socket paths are limited to about 100 bytes: keep the directory short.
	dir, err := os.MkdirTemp("", "labkr-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	e := &Env{Dir: dir}
	for _, d := range []string{"home", "data", "config", "cache", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	e.Vars = []string{
		"HOME=" + filepath.Join(dir, "home"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"XDG_RUNTIME_DIR=" + filepath.Join(dir, "run"),
		"DISPLAY=", // no X11 autolaunch
	}

	bus := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1",
		"--address=unix:path="+filepath.Join(dir, "bus"))
	bus.Env = Environ(os.Environ(), e.Vars)
	bus.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var busErr strings.Builder
	bus.Stderr = &busErr
	if err := bus.Start(); err != nil {
		t.Fatalf("start dbus-daemon: %v", err)
	}
	t.Cleanup(func() { stop(bus) })
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case e.BusAddress = <-addr:
	case <-time.After(10 * time.Second):
		t.Fatalf("dbus-daemon printed no address: %s", busErr.String())
	}
	if e.BusAddress == "" {
		t.Fatalf("dbus-daemon printed no address: %s", busErr.String())
	}
	e.Vars = append(e.Vars, "DBUS_SESSION_BUS_ADDRESS="+e.BusAddress)

	gk := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	gk.Env = Environ(os.Environ(), e.Vars)
	gk.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	gk.Stdin = strings.NewReader(Password)
	var gkOut strings.Builder
	gk.Stdout, gk.Stderr = &gkOut, &gkOut
	if err := gk.Start(); err != nil {
		t.Fatalf("start gnome-keyring-daemon: %v", err)
	}
	t.Cleanup(func() { stop(gk) })
	if err := waitForName(e, "org.freedesktop.secrets", 10*time.Second); err != nil {
		t.Fatalf("secret service did not come up: %v\n%s", err, gkOut.String())
	}
	return e
}

// stop kills a process group we started and reaps it.
func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()
}

func waitForName(e *Env, name string, within time.Duration) error {
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		out, err := exec.CommandContext(ctx, "dbus-send", "--bus="+e.BusAddress, "--print-reply",
			"--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
			"org.freedesktop.DBus.NameHasOwner", "string:"+name).CombinedOutput()
		cancel()
		if err == nil && strings.Contains(string(out), "boolean true") {
			return nil
		}
		last = strings.TrimSpace(string(out))
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not on the bus after %v (last answer %q)", name, within, last)
}

// NoKeyringVars are variables under which no keyring can be reached: the
// session bus address points at a socket that does not exist and X11
// autolaunch is off.
func NoKeyringVars(t testing.TB) []string {
	t.Helper()
	dir := t.TempDir()
	return []string{
		"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(dir, "no-such-bus"),
		"XDG_RUNTIME_DIR=" + dir,
		"HOME=" + dir,
		"DISPLAY=",
	}
}

// Environ returns base with vars set (replacing existing values).
func Environ(base, vars []string) []string {
	set := map[string]bool{}
	for _, v := range vars {
		k, _, _ := strings.Cut(v, "=")
		set[k] = true
	}
	out := make([]string, 0, len(base)+len(vars))
	for _, v := range base {
		k, _, _ := strings.Cut(v, "=")
		if !set[k] {
			out = append(out, v)
		}
	}
	return append(out, vars...)
}

// InChild reports whether this process is a child started by RunInChild.
func InChild() bool { return os.Getenv(ChildEnv) == "1" }

// RunInChild re-executes the test binary for the single test name with
// vars added to the environment, logs the child's output and fails t when
// the child fails. It returns the output.
func RunInChild(t testing.TB, name string, vars []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = Environ(os.Environ(), append([]string{ChildEnv + "=1"}, vars...))
	out, err := cmd.CombinedOutput()
	t.Logf("child %s output:\n%s", name, out)
	if err != nil {
		t.Fatalf("child %s: %v", name, err)
	}
	if !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("child %s did not report a pass", name)
	}
	return string(out)
}
