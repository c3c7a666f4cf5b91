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
}

func startX(t testing.TB) *xserver {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // even if the test binary dies
	var errs bytes.Buffer
	cmd.Stderr = &errs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
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
			t.Fatalf("Xvfb gave no display number (%q): %s", n, errs.String())
		}
		// Wait until the display really answers a client before the app
		// connects (a busy machine once gave GLFW "PlatformUnavailable").
		deadline := time.Now().Add(20 * time.Second)
		for {
			probe := exec.Command("xdotool", "getdisplaygeometry")
			probe.Env = append(os.Environ(), "DISPLAY=:"+n)
			if err := probe.Run(); err == nil {
				break
			} else if time.Now().After(deadline) {
				t.Fatalf("Xvfb :%s does not answer: %v: %s", n, err, errs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
		return &xserver{display: ":" + n, cmd: cmd}
	case <-time.After(30 * time.Second):
		t.Fatalf("Xvfb did not start: %s", errs.String())
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
		if time.Since(start) > 60*time.Second {
			t.Fatalf("%s was not painted within 60 s (last frame in %s)", what, path)
		}
		time.Sleep(250 * time.Millisecond)
	}
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

// appRun is the app started under Xvfb in a private D-Bus session.
type appRun struct {
	env    []string // the app's environment (second launches use it)
	cmd    *exec.Cmd
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
	for _, d := range []string{".cache", ".config", "run"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	a := &appRun{wake: make(chan struct{}, 1), done: make(chan struct{})}
	a.cmd = exec.Command("dbus-run-session", append([]string{"--", self, "-trace", "-lang", "en"}, args...)...)
	a.cmd.Env = append(os.Environ(), childEnv+"=1", "DISPLAY="+x.display, "HOME="+home,
		"XDG_RUNTIME_DIR="+filepath.Join(home, "run"), "LANG=en_US.UTF-8", "LC_ALL=en_US.UTF-8",
		"FYNE_THEME=light") // fixed colours: the smoke test finds buttons by colour
	a.env = a.cmd.Env
	a.cmd.Stderr = &lockedWriter{mu: &a.mu, w: &a.stderr}
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
		<-a.done
	})
	return a
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
	w  *bytes.Buffer
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
// trace event, written after the widgets were updated).
func (a *appRun) waitShown(t testing.TB, what string, ok func(shown) bool) {
	t.Helper()
	a.waitTrace(t, what, 60*time.Second, func(l traceLine) bool { return l.Shown != nil && ok(*l.Shown) })
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
			t.Fatalf("the app exited while waiting for %s:\n%s", what, a.output())
		case <-deadline:
			a.dump()
			t.Fatalf("no %s within %v:\n%s", what, timeout, a.output())
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
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		out, err := x.run(t, "xdotool", "search", "--onlyvisible", "--name", "Softphone")
		if id := strings.TrimSpace(out); err == nil && id != "" {
			return strings.Fields(id)[0]
		}
		select {
		case <-a.done:
			t.Fatalf("the app exited before showing its window:\n%s", a.output())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("no window within 90 s:\n%s", a.output())
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
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	data := t.TempDir()
	a := startApp(t, x, "-data", data, "-control", "127.0.0.1:0")
	win := waitWindow(t, x, a)
	a.waitTrace(t, "the started event", 60*time.Second, func(l traceLine) bool { return l.Event == "started" })

	// The first frame: poll until the window is painted.
	var img image.Image
	deadline := time.Now().Add(30 * time.Second)
	for {
		img = x.shot(t, filepath.Join(shots, "1-login.png"), 900, 640)
		if painted(img) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !painted(img) {
		t.Fatal("the window was never painted")
	}
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
	// A plain second launch raises this window and reports the status.
	if got, err := self(t, a.env, "-data", data); err != nil || !strings.Contains(got, "window shown") {
		t.Fatalf("plain second launch: %v\n%s", err, got)
	}
	time.Sleep(500 * time.Millisecond)
	x.shot(t, filepath.Join(shots, "3-ringing.png"), 900, 640)
	key("mousemove", "890", "630") // off the buttons: no hover tint
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
	time.Sleep(500 * time.Millisecond)
	x.shot(t, filepath.Join(shots, "4-connected.png"), 900, 640)
	key("key", "--window", win, "ctrl+shift+h")
	callIn("the held call", domain.CallStateHeld)
	time.Sleep(500 * time.Millisecond)
	x.shot(t, filepath.Join(shots, "5-held.png"), 900, 640)
	key("key", "--window", win, "ctrl+shift+h")
	callIn("the resumed call", domain.CallStateActive)
	key("key", "--window", win, "ctrl+shift+e")
	a.waitTrace(t, "the hung-up call", 60*time.Second, func(l traceLine) bool {
		return l.Notify != nil && slices.Contains(l.Notify.Ended, id)
	})
	a.waitShown(t, "the wrap-up screen", func(s shown) bool { return s.Screen == "wrap-up" })

	// Wrap-up: typing starts the outcome; then the "Wrap call" button
	// (the lowest blue band: the countdown bar is above it).
	time.Sleep(500 * time.Millisecond)
	key("type", "--window", win, "--delay", "60", "Resolved")
	a.waitTrace(t, "the outcome", 30*time.Second, func(l traceLine) bool {
		return l.Notify != nil && slices.ContainsFunc(l.Notify.Interactions, func(ix domain.Interaction) bool {
			return ix.Outcome == "Resolved"
		})
	})
	// The countdown bar and the Wrap call button: two wide blue bands.
	wrap := x.waitFrame(t, filepath.Join(shots, "6-wrap-up.png"), "the wrap-up screen", func(img image.Image) bool {
		return len(bands(img, primaryColor(), 300)) >= 2
	})
	doneX, doneY, ok := findBand(wrap, primaryColor(), 300, true)
	if !ok {
		t.Fatal(`no "Wrap call" button (a blue band) on the wrap-up screen`)
	}
	key("mousemove", strconv.Itoa(doneX), strconv.Itoa(doneY), "click", "1")
	a.waitTrace(t, "the saved call log", 60*time.Second, func(l traceLine) bool {
		return l.Notify != nil && len(l.Notify.Closed) > 0
	})
	a.waitTrace(t, "no pending call log", 60*time.Second, func(l traceLine) bool {
		return l.Notify != nil && l.Notify.Logs != nil && l.Notify.Logs.Pending == 0
	})
	a.waitShown(t, "the idle screen after wrap-up", func(s shown) bool { return s.Screen == "idle" })
	time.Sleep(500 * time.Millisecond)
	x.shot(t, filepath.Join(shots, "7-wrapped.png"), 900, 640)

	// Quit with SIGTERM, as a session logout would.
	if err := a.signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the app did not quit on SIGTERM:\n%s", a.output())
	}
	out := a.output()
	// The demo customer called with a sample contact's number: the local
	// CRM popped the contact in the window, not an error notice.
	if !a.anyTrace(func(l traceLine) bool { return l.Event == "screen-pop" && l.Matched }) {
		t.Errorf("no in-app screen pop of the sample contact:\n%s", out)
	}
	if strings.Contains(out, "could not be opened") {
		t.Errorf("a screen pop failed:\n%s", out)
	}
	for _, bad := range threadErrors {
		if strings.Contains(out, bad) {
			t.Errorf("the output contains %q:\n%s", bad, out)
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
