//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/store"
)

// childEnv makes the test binary run the app instead of the tests: the smoke
// test starts "itself" as the real program (same code, and under -race the
// GUI runs with the race detector too), with no second build.
const childEnv = "SOFTPHONE_AS_APP"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" && slices.Contains(os.Args[1:], bareArg) {
		runBareWindow() // BenchmarkGUIStartAndIdle's toolkit floor
		os.Exit(0)
	}
	if os.Getenv(childEnv) == "1" {
		if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "softphone:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// needPrograms skips when a program is missing, or fails under CI=true.
func needPrograms(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing (CI=true): run scripts/deps.sh all", n)
			}
			t.Skipf("%s is not installed (scripts/deps.sh all installs it); skipping the window test", n)
		}
	}
}

// xserver is a private Xvfb on a display number it picks itself.
type xserver struct {
	display string
	cmd     *exec.Cmd
	mu      sync.Mutex
	errs    bytes.Buffer  // Xvfb's stderr
	exited  chan struct{} // closed when Xvfb has ended
}

// stderr returns what Xvfb has written so far and whether it has ended.
func (x *xserver) stderr() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.errs.String()
	select {
	case <-x.exited:
		s += "\n(Xvfb has exited: " + x.cmd.ProcessState.String() + ")"
	default:
	}
	return s
}

func startX(t testing.TB) *xserver {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// -noreset: by default an X server resets when its last client
	// disconnects, and during the reset it refuses connections. The probe
	// below is such a last client: under load the app then connected
	// into the reset and GLFW failed with "PlatformUnavailable" (the app
	// panicked at start).
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-noreset")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // even if the test binary dies
	x := &xserver{cmd: cmd, exited: make(chan struct{})}
	cmd.Stderr = &lockedWriter{mu: &x.mu, w: &x.errs}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	go func() {
		_ = cmd.Wait()
		close(x.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-x.exited
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
		r.Close()
	}()
	select {
	case n := <-line:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb gave no display number (%q): %s", n, x.stderr())
		}
		// Wait until the display really answers a client before the app
		// connects.
		deadline := time.Now().Add(20 * time.Second)
		for {
			probe := exec.Command("xdotool", "getdisplaygeometry")
			probe.Env = append(os.Environ(), "DISPLAY=:"+n)
			if err := probe.Run(); err == nil {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("Xvfb :%s does not answer: %v: %s", n, err, x.stderr())
			}
			time.Sleep(100 * time.Millisecond)
		}
		x.display = ":" + n
		return x
	case <-time.After(30 * time.Second):
		t.Fatalf("Xvfb did not start: %s", x.stderr())
	}
	return nil
}

func (x *xserver) run(t testing.TB, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+x.display)
	out, err := cmd.Output()
	return string(out), err
}

// shot saves the screen's top-left w x h pixels as a PNG and returns it.
func (x *xserver) shot(t testing.TB, path string, w, h int) image.Image {
	t.Helper()
	cmd := exec.Command("xwd", "-root", "-silent", "-display", x.display)
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("xwd: %v", err)
	}
	img, err := decodeXWD(raw)
	if err != nil {
		t.Fatal(err)
	}
	sub := img.SubImage(image.Rect(0, 0, w, h))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, sub); err != nil {
		t.Fatal(err)
	}
	return sub
}

// waitFrame polls screenshots until ok accepts one (the window painted
// what the test waits for) and returns it.
func (x *xserver) waitFrame(t testing.TB, path, what string, ok func(image.Image) bool) image.Image {
	t.Helper()
	start := time.Now()
	for {
		img := x.shot(t, path, 900, 640)
		if ok(img) {
			t.Logf("%s painted after %v", what, time.Since(start).Round(time.Millisecond))
			return img
		}
		if limit := bounded(t, 90*time.Second); time.Since(start) > limit {
			t.Fatalf("%s was not painted within %v (last frame in %s)", what, limit, path)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// settledShot saves a screenshot for the record once two successive
// frames agree (the window finished painting the state the test waited
// for), or the latest one after 3 s (a call's level meter keeps moving):
// screenshots document a run, the test's checks never depend on them.
func (x *xserver) settledShot(t testing.TB, path string) {
	t.Helper()
	prev := x.shot(t, path, 900, 640)
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond) // the polling interval
		img := x.shot(t, path, 900, 640)
		if sameImage(prev, img) {
			return
		}
		prev = img
	}
	t.Logf("%s: the window kept changing; the latest frame is saved", filepath.Base(path))
}

// painted reports whether an image is more than one flat colour (a frame
// has been drawn).
func painted(img image.Image) bool {
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	r0, g0, b0, _ := first.RGBA()
	for y := b.Min.Y; y < b.Max.Y; y += 7 {
		for x := b.Min.X; x < b.Max.X; x += 7 {
			r, g, bb, _ := img.At(x, y).RGBA()
			if r != r0 || g != g0 || bb != b0 {
				return true
			}
		}
	}
	return false
}

// appRun is the app started under Xvfb in a private D-Bus session. Its
// whole output is also written to app-stderr.log and app-trace.log in
// logDir; when the test fails, the cleanup prints the crash (if any) and
// the tails, and keeps the logs (see reportFailure).
type appRun struct {
	env    []string // the app's environment (second launches use it)
	cmd    *exec.Cmd
	x      *xserver
	logDir string
	mu     sync.Mutex
	lines  []string // stdout (trace) lines
	cursor int      // the line the last waitTrace matched
	pid    int      // the app's own pid (from the started event)
	stderr bytes.Buffer
	wake   chan struct{}
	done   chan struct{}
}

func startApp(t testing.TB, x *xserver, args ...string) *appRun {
	t.Helper()
	home := t.TempDir()
	logDir := t.TempDir()
	errLog, err := os.Create(filepath.Join(logDir, "app-stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	traceLog, err := os.Create(filepath.Join(logDir, "app-trace.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{".cache", ".config", "run"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	a := &appRun{x: x, logDir: logDir, wake: make(chan struct{}, 1), done: make(chan struct{})}
	a.cmd = exec.Command("dbus-run-session", append([]string{"--", self, "-trace", "-lang", "en"}, args...)...)
	a.cmd.Env = append(os.Environ(), childEnv+"=1", "DISPLAY="+x.display, "HOME="+home,
		"XDG_RUNTIME_DIR="+filepath.Join(home, "run"), "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8",
		"FYNE_THEME=light", // fixed colours: the smoke test finds buttons by colour
		"GOTRACEBACK=all")  // a crash shows every goroutine (in app-stderr.log)
	a.env = a.cmd.Env
	// A writer, not a pipe: Wait returns only after all of it was copied,
	// so a crash's last lines are never lost.
	a.cmd.Stderr = &lockedWriter{mu: &a.mu, w: io.MultiWriter(&a.stderr, errLog)}
	// Its own process group: dbus-run-session does not pass signals on, so
	// signals go to the group (the session bus, the app).
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			a.mu.Lock()
			a.lines = append(a.lines, sc.Text())
			_, _ = fmt.Fprintln(traceLog, sc.Text()) // diagnostics only
			a.mu.Unlock()
			select {
			case a.wake <- struct{}{}:
			default:
			}
		}
		_ = a.cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(func() {
		_ = a.signal(syscall.SIGKILL) // whatever is left of the group
		select {
		case <-a.done:
		case <-time.After(60 * time.Second):
			t.Errorf("the app's output did not end within 60 s of SIGKILL")
		}
		a.mu.Lock()
		_ = errLog.Close()
		_ = traceLog.Close()
		a.mu.Unlock()
		if t.Failed() {
			a.reportFailure(t)
		}
	})
	return a
}

// crashMarks start what a failure report quotes from the app's stderr:
// a Go panic or fatal error, a signal, the race detector, Fyne's
// threading error, a goroutine dump (SIGQUIT after a timeout).
var crashMarks = []string{"panic:", "fatal error:", "SIGSEGV", "SIGABRT", "WARNING: DATA RACE", "Error in Fyne call thread", "SIGQUIT", "goroutine "}

// maxQuoted is the most of the app's stderr a failure report quotes
// whole; a longer one is quoted from its first crash and its end.
const maxQuoted = 256 << 10

// reportFailure prints what a failed run needs to be diagnosed from the
// test output alone (CI keeps nothing else): how the app ended, the start
// of a crash in its stderr, the tails of its stderr and trace and Xvfb's
// messages. It copies the logs (and screenshots, see keepDirs) under
// bin/smoke/failed-* in the repository.
func (a *appRun) reportFailure(t testing.TB) {
	t.Helper()
	a.mu.Lock()
	errText := a.stderr.String()
	lines := slices.Clone(a.lines)
	a.mu.Unlock()
	var b strings.Builder
	state := "still running"
	select {
	case <-a.done:
		state = a.cmd.ProcessState.String()
	default:
	}
	fmt.Fprintf(&b, "the app (dbus-run-session) ended: %s; %d stderr bytes, %d trace lines\n", state, len(errText), len(lines))
	errLines := strings.Split(strings.TrimRight(errText, "\n"), "\n")
	first := -1
	for i, l := range errLines {
		if slices.ContainsFunc(crashMarks, func(m string) bool { return strings.HasPrefix(strings.TrimSpace(l), m) }) {
			first = i
			break
		}
	}
	switch {
	case len(errText) <= maxQuoted:
		// CI keeps only the test's output: all of it, goroutine dump included.
		fmt.Fprintf(&b, "--- app stderr ---\n%s\n", errText)
	default:
		if first >= 0 {
			end := min(len(errLines), first+400)
			fmt.Fprintf(&b, "--- app stderr from line %d (the first crash or dump) ---\n%s\n", first+1, strings.Join(errLines[max(0, first-5):end], "\n"))
		}
		fmt.Fprintf(&b, "--- app stderr, last lines ---\n%s\n", strings.Join(errLines[max(0, len(errLines)-100):], "\n"))
	}
	fmt.Fprintf(&b, "--- app trace, last lines ---\n")
	for _, l := range lines[max(0, len(lines)-20):] {
		if len(l) > 400 {
			l = l[:400] + "…"
		}
		fmt.Fprintln(&b, l)
	}
	if a.x != nil {
		fmt.Fprintf(&b, "--- Xvfb ---\n%s\n", a.x.stderr())
	}
	dirs := append([]string{a.logDir}, keepDirs(t)...)
	if kept, err := keepArtifacts(t.Name(), dirs); err != nil {
		fmt.Fprintf(&b, "(the logs are in %s; keeping them failed: %v)\n", a.logDir, err)
	} else {
		fmt.Fprintf(&b, "full logs and screenshots kept in %s\n", kept)
	}
	t.Log(b.String())
}

// keptDirs holds, per test, further directories a failure keeps (the
// screenshots).
var keptDirs sync.Map // test name -> []string

// keepOnFailure adds dir to what a failed test keeps.
func keepOnFailure(t testing.TB, dir string) {
	old, _ := keptDirs.Load(t.Name())
	ds, _ := old.([]string)
	keptDirs.Store(t.Name(), append(slices.Clone(ds), dir))
	t.Cleanup(func() { keptDirs.Delete(t.Name()) })
}

func keepDirs(t testing.TB) []string {
	v, _ := keptDirs.Load(t.Name())
	ds, _ := v.([]string)
	return ds
}

// keepArtifacts copies dirs into a new directory under the repository's
// bin/smoke (ignored by git) and returns its path.
func keepArtifacts(name string, dirs []string) (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("no repository root at %s: %w", root, err)
	}
	dst := filepath.Join(root, "bin", "smoke", fmt.Sprintf("failed-%s-%s", strings.ReplaceAll(name, "/", "_"), time.Now().UTC().Format("20060102T150405.000")))
	for _, d := range dirs {
		if err := os.CopyFS(filepath.Join(dst, filepath.Base(d)), os.DirFS(d)); err != nil {
			return "", err
		}
	}
	return dst, nil
}

// dump makes the app print its goroutines (SIGQUIT) into the output, so a
// timeout shows where it was stuck.
func (a *appRun) dump() {
	a.mu.Lock()
	pid := a.pid
	a.mu.Unlock()
	if pid == 0 {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGQUIT)
	select {
	case <-a.done:
	case <-time.After(5 * time.Second):
	}
}

// signal sends sig to the app's process group.
func (a *appRun) signal(sig syscall.Signal) error {
	return syscall.Kill(-a.cmd.Process.Pid, sig)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// traceLine is one line of -trace output.
type traceLine struct {
	Event  string        `json:"event"`
	MS     int64         `json:"ms"`
	PID    int           `json:"pid"`
	Notify *agent.Notify `json:"notify"`
	Shown  *shown        `json:"shown"`
	// Matched is set on "screen-pop" events: a contact matched.
	Matched bool `json:"matched"`
}

// waitShown waits until the window shows what ok accepts (the "shown"
// trace event, written after the widgets were updated, and only when what
// is shown changes). The window renders the core's changes through its
// own watcher, so its shown event may come before or after the core's
// notification the previous wait matched: the search starts at the last
// shown event at or before that line (what the window showed then), not
// after it. (Waiting after it once missed the idle screen shown just
// before the "registered" notification, and waited in vain.)
func (a *appRun) waitShown(t testing.TB, what string, ok func(shown) bool) {
	t.Helper()
	a.mu.Lock()
	prev := a.cursor
	for i := min(a.cursor, len(a.lines)-1); i >= 0; i-- {
		var tl traceLine
		if json.Unmarshal([]byte(a.lines[i]), &tl) == nil && tl.Shown != nil {
			a.cursor = i
			break
		}
	}
	a.mu.Unlock()
	a.waitTrace(t, what, 60*time.Second, func(l traceLine) bool { return l.Shown != nil && ok(*l.Shown) })
	a.mu.Lock()
	a.cursor = max(a.cursor, prev) // later waits still start after the core's line
	a.mu.Unlock()
}

// bounded shortens a wait so that it ends at least a minute before go
// test's -timeout: a wait that fails reports the app's output and
// goroutines, while the -timeout panic shows only the test's own.
func bounded(t testing.TB, d time.Duration) time.Duration {
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := dt.Deadline(); ok {
			return max(min(d, time.Until(end)-time.Minute), time.Second)
		}
	}
	return d
}

// waitEver waits until any trace line, from the first one on, satisfies
// ok: for events whose order against the others is not fixed. It leaves
// the cursor of waitTrace alone.
func (a *appRun) waitEver(t testing.TB, what string, timeout time.Duration, ok func(traceLine) bool) {
	t.Helper()
	timeout = bounded(t, timeout)
	deadline := time.After(timeout)
	for !a.anyTrace(ok) {
		select {
		case <-a.wake:
		case <-a.done:
			if a.anyTrace(ok) {
				return
			}
			t.Fatalf("the app exited while waiting for %s (its output follows)", what)
		case <-deadline:
			a.dump()
			t.Fatalf("no %s within %v (the app's goroutines and output follow)", what, timeout)
		}
	}
}

// waitStderr polls the app's stderr (its log) until it contains want.
func (a *appRun) waitStderr(t testing.TB, what, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		a.mu.Lock()
		found := strings.Contains(a.stderr.String(), want)
		a.mu.Unlock()
		if found {
			return
		}
		select {
		case <-a.done:
			t.Fatalf("the app exited while waiting for %s (its output follows)", what)
		case <-time.After(100 * time.Millisecond): // the polling interval
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 60 s (the app's output follows)", what)
		}
	}
}

// anyTrace reports whether any trace line so far satisfies ok (for events
// whose order against the others is not fixed).
func (a *appRun) anyTrace(ok func(traceLine) bool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, l := range a.lines {
		var tl traceLine
		if json.Unmarshal([]byte(l), &tl) == nil && ok(tl) {
			return true
		}
	}
	return false
}

// waitTrace waits for a trace line that satisfies ok, at or after the
// line the previous wait matched: waits are sequential, so a later wait
// never matches an earlier state (a resumed call is not its first
// answer).
func (a *appRun) waitTrace(t testing.TB, what string, timeout time.Duration, ok func(traceLine) bool) traceLine {
	t.Helper()
	timeout = bounded(t, timeout)
	deadline := time.After(timeout)
	a.mu.Lock()
	seen := a.cursor
	a.mu.Unlock()
	for {
		a.mu.Lock()
		lines := a.lines[seen:]
		from := seen
		seen = len(a.lines)
		a.mu.Unlock()
		for i, l := range lines {
			var tl traceLine
			if json.Unmarshal([]byte(l), &tl) == nil && tl.Event == "started" {
				a.mu.Lock()
				a.pid = tl.PID
				a.mu.Unlock()
			}
			if json.Unmarshal([]byte(l), &tl) == nil && ok(tl) {
				a.mu.Lock()
				a.cursor = from + i
				a.mu.Unlock()
				return tl
			}
		}
		select {
		case <-a.wake:
		case <-a.done:
			t.Fatalf("the app exited while waiting for %s (its output follows)", what)
		case <-deadline:
			a.dump()
			t.Fatalf("no %s within %v (the app's goroutines and output follow)", what, timeout)
		}
	}
}

func (a *appRun) output() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stderr.String() + "\n" + strings.Join(a.lines, "\n")
}

// waitWindow waits until the app's window is mapped and returns its ID.
func waitWindow(t testing.TB, x *xserver, a *appRun) string {
	t.Helper()
	deadline := time.Now().Add(bounded(t, 90*time.Second))
	for time.Now().Before(deadline) {
		out, err := x.run(t, "xdotool", "search", "--onlyvisible", "--name", "Softphone")
		if id := strings.TrimSpace(out); err == nil && id != "" {
			return strings.Fields(id)[0]
		}
		select {
		case <-a.done:
			t.Fatalf("the app exited before showing its window (its output follows)")
		case <-time.After(100 * time.Millisecond):
		}
	}
	a.dump()
	t.Fatalf("no window within 90 s or before the test deadline (the app's goroutines and output follow)")
	return ""
}

// threadErrors are what Fyne prints when a widget is touched off its
// goroutine, when an icon cannot be used, and what -race prints.
var threadErrors = []string{"Error in Fyne call thread", "Failed to read icon format", "WARNING: DATA RACE", "panic:"}

// TestSmokeWindow starts the real program under Xvfb in demo mode (the
// built-in demo PBX) and drives a real inbound call with the keyboard and
// the mouse: sign in, "Ring me", answer, hold, resume, hang up, wrap up
// with an outcome. It saves a screenshot at each step, checks the output
// for threading errors, races and panics, and finally opens the store the
// app wrote to check that exactly one call log was saved.
func TestSmokeWindow(t *testing.T) {
	if testing.Short() {
		t.Skip("window smoke test skipped in -short mode")
	}
	needPrograms(t, "Xvfb", "xdotool", "xwd", "dbus-run-session")
	x := startX(t)
	// Screenshots go to a temp dir removed after the test, or to
	// $SOFTPHONE_SMOKE_SHOTS when set (CI keeps them as artifacts).
	shots := os.Getenv("SOFTPHONE_SMOKE_SHOTS")
	if shots == "" {
		shots = t.TempDir()
		keepOnFailure(t, shots)
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	data := t.TempDir()
	a := startApp(t, x, "-data", data, "-control", "127.0.0.1:0")
	win := waitWindow(t, x, a)
	a.waitTrace(t, "the started event", 60*time.Second, func(l traceLine) bool { return l.Event == "started" })
	// Keys typed before the desk rendered its first view are dropped
	// (the canvas sends them to the login screen's entry only once the
	// login screen is what the desk shows), and under load that render
	// comes well after the first frame: wait for it (it may precede the
	// started event, hence from the first line).
	a.waitEver(t, "the login screen", 60*time.Second, func(l traceLine) bool { return l.Shown != nil && l.Shown.Screen == "login" })
	img := x.waitFrame(t, filepath.Join(shots, "1-login.png"), "the first frame", painted)
	key := func(args ...string) {
		t.Helper()
		if _, err := x.run(t, "xdotool", args...); err != nil {
			t.Fatalf("xdotool %v: %v", args, err)
		}
	}

	// Sign in with the keyboard (the first key goes to the agent ID); the
	// demo PBX registers the agent.
	key("type", "--window", win, "--delay", "60", "a1")
	key("key", "--window", win, "Return")
	a.waitTrace(t, "sign-in of a1, registered", 60*time.Second, func(l traceLine) bool {
		return l.Notify != nil && l.Notify.Agent != nil && l.Notify.Agent.Agent.ID == "a1" &&
			l.Notify.Agent.Status != domain.StatusOffline && l.Notify.Agent.Registration.State == domain.RegRegistered
	})
	a.waitShown(t, "the idle screen", func(s shown) bool { return s.Screen == "idle" && s.Agent != "" })
	// The frame follows: wait for the green Call button of the idle screen.
	signedIn := x.waitFrame(t, filepath.Join(shots, "2-signed-in.png"), "the idle screen", func(img image.Image) bool {
		_, _, ok := findBand(img, successColor(), 100, false)
		return ok
	})
	if !painted(signedIn) || sameImage(img, signedIn) {
		t.Fatal("the window did not change after signing in")
	}

	// The demo customer's number is a sample contact's: wait until the
	// app loaded the agent's local directory (after the sign-in, off the
	// core), or the call would be looked up in an empty one.
	a.waitStderr(t, "the local directory", localDirLoaded)

	// "Ring me" on the demo banner: the demo customer line calls.
	ringX, ringY, ok := findBand(signedIn, warningColor(), 40, false)
	if !ok {
		t.Fatal(`no "Ring me" button (an orange band) on the signed-in window`)
	}
	key("mousemove", strconv.Itoa(ringX), strconv.Itoa(ringY), "click", "1")
	offered := a.waitTrace(t, "the inbound demo call", 60*time.Second, func(l traceLine) bool {
		return l.Notify != nil && slices.ContainsFunc(l.Notify.Calls, func(c domain.Call) bool {
			return c.Direction == domain.DirectionInbound && c.State == domain.CallStateOffered
		})
	})
	var id domain.CallID
	for _, c := range offered.Notify.Calls {
		if c.Direction == domain.DirectionInbound {
			id = c.ID
		}
	}
	a.waitShown(t, "the incoming call", func(s shown) bool { return s.Screen == "incoming" })
	// The demo customer has a sample contact's number: the local CRM's
	// pop opens while the call rings (policy "at ringing"). Wait for it
	// before answering: under load the lookup may finish after a quick
	// answer, and a pop is never opened for a call already over.
	a.waitEver(t, "the screen pop of the sample contact", 60*time.Second, func(l traceLine) bool { return l.Event == "screen-pop" })
	// A plain second launch raises this window and reports the status.
	launched := time.Now()
	if got, err := self(t, a.env, "-data", data); err != nil || !strings.Contains(got, "window shown") {
		t.Fatalf("plain second launch (after %v): %v\n%s", time.Since(launched).Round(time.Millisecond), err, got)
	}
	t.Logf("the second launch answered after %v", time.Since(launched).Round(time.Millisecond))
	key("mousemove", "890", "630") // off the buttons: no hover tint
	x.settledShot(t, filepath.Join(shots, "3-ringing.png"))
	callIn := func(what string, st domain.CallState) {
		t.Helper()
		a.waitTrace(t, what, 60*time.Second, func(l traceLine) bool {
			return l.Notify != nil && slices.ContainsFunc(l.Notify.Calls, func(c domain.Call) bool {
				return c.ID == id && c.State == st
			})
		})
		a.waitShown(t, what+" on screen", func(s shown) bool {
			return s.Screen == "call" && s.Call == string(id) && s.Held == (st == domain.CallStateHeld)
		})
	}

	key("key", "--window", win, "ctrl+shift+a")
	callIn("the answered call", domain.CallStateActive)
	x.settledShot(t, filepath.Join(shots, "4-connected.png"))
	key("key", "--window", win, "ctrl+shift+h")
	callIn("the held call", domain.CallStateHeld)
	x.settledShot(t, filepath.Join(shots, "5-held.png"))
	key("key", "--window", win, "ctrl+shift+h")
	callIn("the resumed call", domain.CallStateActive)
	key("key", "--window", win, "ctrl+shift+e")
	a.waitTrace(t, "the hung-up call", 60*time.Second, func(l traceLine) bool {
		return l.Notify != nil && slices.Contains(l.Notify.Ended, id)
	})
	a.waitShown(t, "the wrap-up screen", func(s shown) bool { return s.Screen == "wrap-up" })

	// Wrap-up: typing starts the outcome (the canvas hands keys to the
	// outcome entry once the wrap-up screen is rendered, which the shown
	// event says); then the "Wrap call" button (the lowest blue band: the
	// countdown bar is above it).
	key("type", "--window", win, "--delay", "60", "Resolved")
	a.waitTrace(t, "the outcome", 30*time.Second, func(l traceLine) bool {
		return l.Notify != nil && slices.ContainsFunc(l.Notify.Interactions, func(ix domain.Interaction) bool {
			return ix.Outcome == "Resolved"
		})
	})
	// The Wrap call button: the lowest blue band, a full-width button.
	// (The countdown bar above it shrinks as wrap-up time passes, and the
	// focused outcome entry has a thin blue border: neither is counted on.)
	var doneX, doneY int
	x.waitFrame(t, filepath.Join(shots, "6-wrap-up.png"), "the wrap-up screen", func(img image.Image) bool {
		var ok bool
		doneX, doneY, ok = wrapButton(img)
		return ok
	})
	key("mousemove", strconv.Itoa(doneX), strconv.Itoa(doneY), "click", "1")
	a.waitTrace(t, "the saved call log", 60*time.Second, func(l traceLine) bool {
		return l.Notify != nil && len(l.Notify.Closed) > 0
	})
	a.waitTrace(t, "no pending call log", 60*time.Second, func(l traceLine) bool {
		return l.Notify != nil && l.Notify.Logs != nil && l.Notify.Logs.Pending == 0
	})
	a.waitShown(t, "the idle screen after wrap-up", func(s shown) bool { return s.Screen == "idle" })
	x.settledShot(t, filepath.Join(shots, "7-wrapped.png"))

	// Quit with SIGTERM, as a session logout would.
	if err := a.signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.done:
	case <-time.After(60 * time.Second):
		a.dump()
		t.Fatalf("the app did not quit on SIGTERM (its goroutines and output follow)")
	}
	out := a.output()
	// The demo customer called with a sample contact's number: the local
	// CRM popped the contact in the window, not an error notice.
	if !a.anyTrace(func(l traceLine) bool { return l.Event == "screen-pop" && l.Matched }) {
		t.Errorf("no in-app screen pop of the sample contact")
	}
	if strings.Contains(out, "could not be opened") {
		t.Errorf("a screen pop failed")
	}
	for _, bad := range threadErrors {
		if strings.Contains(out, bad) {
			t.Errorf("the output contains %q", bad)
		}
	}

	// Exactly one call log, in the store the app used.
	db, err := store.Open(data, store.WithOpenTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, err := db.Profile("a1")
	if err != nil {
		t.Fatal(err)
	}
	calls, err := p.History(store.ViewAll, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 1 {
		t.Fatalf("%d call logs stored, want exactly 1: %+v", len(calls), calls)
	}
	l := calls[0].Log
	if l.Direction != domain.DirectionInbound || l.AnsweredAt.IsZero() || l.Outcome != "Resolved" || l.Hold <= 0 {
		t.Fatalf("stored call log: direction %s, answered %v, outcome %q, hold %v", l.Direction, l.AnsweredAt, l.Outcome, l.Hold)
	}
}

// warningColor and primaryColor are the "Ring me" (warning) and "Wrap
// call" (high importance) button colours of the light theme the smoke
// test runs with.
// (Fyne 2.8's light warning and its default blue primary; reading them
// from the theme needs a running Fyne app.)
func warningColor() color.Color { return color.NRGBA{R: 0xff, G: 0x98, B: 0x00, A: 0xff} }

func successColor() color.Color { return color.NRGBA{R: 0x43, G: 0xf4, B: 0x36, A: 0xff} }

func primaryColor() color.Color { return color.NRGBA{R: 0x29, G: 0x6f, B: 0xf6, A: 0xff} }

// findBand finds a horizontal run of at least minRun pixels close to c and
// returns the middle of the band of rows holding such runs: the first band
// from the top, or with last the lowest one.
func findBand(img image.Image, c color.Color, minRun int, last bool) (x, y int, ok bool) {
	bs := bands(img, c, minRun)
	if len(bs) == 0 {
		return 0, 0, false
	}
	b := bs[0]
	if last {
		b = bs[len(bs)-1]
	}
	mid := b[len(b)/2]
	return (mid.x0 + mid.x1) / 2, mid.y, true
}

// wrapButton finds the "Wrap call" button of the wrap-up screen: the
// lowest band of the primary colour that is at least 20 rows high and
// 450 pixels wide (the button spans the call column, about 610 pixels;
// its label breaks the rows it crosses into runs of about 250 pixels),
// and returns a point on it.
func wrapButton(img image.Image) (x, y int, ok bool) {
	bs := bands(img, primaryColor(), 200)
	if len(bs) == 0 {
		return 0, 0, false
	}
	b := bs[len(bs)-1]
	x0, x1 := b[0].x0, b[0].x1
	for _, r := range b {
		x0, x1 = min(x0, r.x0), max(x1, r.x1)
	}
	if len(b) < 20 || x1-x0 < 450 {
		return 0, 0, false
	}
	// The first row is above the label: its run is the whole button.
	return (b[0].x0 + b[0].x1) / 2, b[len(b)/2].y, true
}

// bandRow is the longest run of a colour in one row.
type bandRow struct{ y, x0, x1 int }

// bands returns the bands of consecutive rows that hold a run of at least
// minRun pixels close to c, top to bottom.
func bands(img image.Image, c color.Color, minRun int) [][]bandRow {
	near := func(p color.Color) bool {
		r0, g0, b0, _ := c.RGBA()
		r, g, b, _ := p.RGBA()
		d := func(a, b uint32) int { return int(a>>8) - int(b>>8) }
		abs := func(v int) int { return max(v, -v) }
		return abs(d(r, r0)) < 24 && abs(d(g, g0)) < 24 && abs(d(b, b0)) < 24
	}
	var rows []bandRow
	bnd := img.Bounds()
	for yy := bnd.Min.Y; yy < bnd.Max.Y; yy++ {
		run, best, bestEnd := 0, 0, 0
		for xx := bnd.Min.X; xx < bnd.Max.X; xx++ {
			if near(img.At(xx, yy)) {
				run++
				if run > best {
					best, bestEnd = run, xx
				}
			} else {
				run = 0
			}
		}
		if best >= minRun {
			rows = append(rows, bandRow{yy, bestEnd - best + 1, bestEnd})
		}
	}
	// Split into bands of consecutive rows.
	var out [][]bandRow
	for i, r := range rows {
		if i == 0 || r.y != rows[i-1].y+1 {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r)
	}
	return out
}

func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y += 3 {
		for x := r.Min.X; x < r.Max.X; x += 3 {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}
