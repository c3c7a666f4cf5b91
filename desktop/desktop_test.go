package desktop

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/agenttest"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/desktop/desktoptest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestParseArgs(t *testing.T) {
	cases := []struct {
		args   []string
		want   Request
		ok     bool
		errors bool
	}{
		{nil, Request{}, false, false},
		{[]string{"-headless"}, Request{}, false, false},
		{[]string{"call", "+44 20 7946 0018"}, Request{Verb: VerbDial, Target: "+442079460018"}, true, false},
		{[]string{"call"}, Request{}, true, true},
		{[]string{"call", "not a number!"}, Request{}, true, true},
		{[]string{"answer"}, Request{Verb: VerbAnswer}, true, false},
		{[]string{"hangup"}, Request{Verb: VerbHangup}, true, false},
		{[]string{"status"}, Request{Verb: VerbStatus}, true, false},
		{[]string{"status", "x"}, Request{}, true, true},
		{[]string{"tel:+1-202-555-0143"}, Request{Verb: VerbDial, Target: "+12025550143", Link: true}, true, false},
		{[]string{"TEL:+12025550143;phone-context=example.com"}, Request{Verb: VerbDial, Target: "+12025550143", Link: true}, true, false},
		{[]string{"callto://+12025550143"}, Request{Verb: VerbDial, Target: "+12025550143", Link: true}, true, false},
		{[]string{"sip:201@pbx.example.com"}, Request{Verb: VerbDial, Target: "sip:201@pbx.example.com", Link: true}, true, false},
		{[]string{"sips:alice@example.com"}, Request{Verb: VerbDial, Target: "sips:alice@example.com", Link: true}, true, false},
		{[]string{"tel:javascript:alert(1)"}, Request{}, true, true},
		{[]string{"tel:"}, Request{}, true, true},
	}
	for _, c := range cases {
		got, ok, err := ParseArgs(c.args)
		if ok != c.ok || (err != nil) != c.errors || (err == nil && got != c.want) {
			t.Errorf("ParseArgs(%q) = %+v, %v, %v; want %+v, %v, error %v", c.args, got, ok, err, c.want, c.ok, c.errors)
		}
	}
}

func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{"tel:+1", "sip:a@b", "callto:12", "call", "answer"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		req, ok, err := ParseArgs([]string{s})
		if ok && err == nil && req.Verb == VerbDial {
			if _, err := domain.NormalizeDialString(req.Target); err != nil {
				t.Fatalf("accepted %q as %q, which does not normalise: %v", s, req.Target, err)
			}
		}
	})
}

// shortTemp returns a short directory for unix sockets (path length limit).
func shortTemp(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "sp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestSingleInstance(t *testing.T) {
	path := filepath.Join(shortTemp(t), "run", "instance.sock")
	var mu sync.Mutex
	var got []Request
	first, err := Listen(path, func(r Request) Response {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		return Response{OK: true, Message: "done " + r.Verb}
	}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Fatalf("socket mode %v, want 0600", st.Mode().Perm())
		}
		dst, _ := os.Stat(filepath.Dir(path))
		if dst.Mode().Perm() != 0o700 {
			t.Fatalf("socket directory mode %v, want 0700", dst.Mode().Perm())
		}
	}
	// A second launch finds the first and hands over its link.
	if _, err := Listen(path, func(Request) Response { return Response{} }, quiet()); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Listen: %v", err)
	}
	req, _, _ := ParseArgs([]string{"tel:+12025550143"})
	res, err := Send(path, req, 5*time.Second)
	if err != nil || !res.OK || res.Message != "done dial" {
		t.Fatalf("send: %+v %v", res, err)
	}
	mu.Lock()
	if len(got) != 1 || got[0] != req {
		t.Fatalf("first instance got %+v", got)
	}
	mu.Unlock()
	// Garbage on the socket gets an error answer, and the instance lives on.
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.Write([]byte("{garbage\n"))
	b, _ := io.ReadAll(c)
	c.Close()
	if !strings.Contains(string(b), "malformed") {
		t.Fatalf("garbage answered %q", b)
	}
	if res, err := Send(path, Request{Verb: VerbStatus}, 5*time.Second); err != nil || !res.OK {
		t.Fatalf("after garbage: %+v %v", res, err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Send(path, Request{Verb: VerbStatus}, time.Second); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("send with no instance: %v", err)
	}
}

func TestStaleSocketIsReplaced(t *testing.T) {
	path := filepath.Join(shortTemp(t), "instance.sock")
	// A killed instance leaves its socket file behind with nobody listening.
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	in, err := Listen(path, func(Request) Response { return Response{OK: true} }, quiet())
	if err != nil {
		t.Fatalf("listen over a stale socket: %v", err)
	}
	in.Close()
}

func TestAgentHandler(t *testing.T) {
	rec := agenttest.NewRecorder()
	tel, med, cl, dir := rec.Ports()
	a := agent.New(agent.Ports{Telephony: tel, Media: med, CallLog: cl, Directory: dir}, agent.WithLogger(quiet()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	cfg := domain.DefaultConfig()
	cfg.LoginStatus = domain.Status{Presence: domain.PresenceAvailable}
	_ = a.Login(domain.AgentInfo{ID: "ag"}, cfg)
	_ = a.Post(domain.RegistrationChanged{State: domain.RegRegistered})

	var asked atomic.Int32
	confirmAnswer := false
	h := AgentHandler(a, func(target string) bool { asked.Add(1); return confirmAnswer })
	sync := func() { _ = a.Sync(context.Background()) }

	if res := h(Request{Verb: VerbDial, Target: "+12025550143", Link: true}); res.OK {
		t.Fatalf("declined link dialled: %+v", res)
	}
	if asked.Load() != 1 {
		t.Fatal("link not confirmed")
	}
	if res := h(Request{Verb: VerbDial, Target: "201"}); !res.OK {
		t.Fatalf("cli dial: %+v", res)
	}
	if asked.Load() != 1 {
		t.Fatal("command-line dial asked for confirmation")
	}
	sync()
	s := a.Snapshot()
	if len(s.Calls) != 1 || s.Calls[0].Target != "201" {
		t.Fatalf("calls %+v", s.Calls)
	}
	if res := h(Request{Verb: VerbStatus}); !res.OK || !strings.Contains(res.Message, "ag: on-call") {
		t.Fatalf("status %+v", res)
	}
	if res := h(Request{Verb: VerbShow}); !res.OK || !strings.Contains(res.Message, "ag: on-call") {
		t.Fatalf("show without a window %+v", res)
	}
	if res := h(Request{Verb: VerbAnswer}); res.OK {
		t.Fatalf("answer with nothing ringing: %+v", res)
	}
	if res := h(Request{Verb: VerbHangup}); !res.OK {
		t.Fatalf("hangup: %+v", res)
	}
	rec.WaitFor(t, "Hangup "+string(s.Calls[0].ID), 10*time.Second)
	if res := h(Request{Verb: "format-disk"}); res.OK {
		t.Fatal("unknown verb accepted")
	}
	if res := h(Request{Verb: VerbDial, Target: "rm -rf"}); res.OK {
		t.Fatal("bad target accepted")
	}
}

func TestWatcherResumeAndNetwork(t *testing.T) {
	var mu sync.Mutex
	wall := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	var mono time.Duration
	netState := "eth0=10.0.0.2/24"
	resumed, changed := make(chan struct{}, 10), make(chan struct{}, 10)
	w := &Watcher{
		Interval: 10 * time.Millisecond, Slack: time.Minute, Logger: quiet(),
		OnResume:        func() { resumed <- struct{}{} },
		OnNetworkChange: func() { changed <- struct{}{} },
		clock: func() (time.Time, time.Duration) {
			mu.Lock()
			defer mu.Unlock()
			wall = wall.Add(10 * time.Millisecond)
			mono += 10 * time.Millisecond
			return wall, mono
		},
		interfaces: func() (string, error) { mu.Lock(); defer mu.Unlock(); return netState, nil },
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	time.Sleep(100 * time.Millisecond)
	select {
	case <-resumed:
		t.Fatal("resume reported without sleep")
	case <-changed:
		t.Fatal("network change reported without change")
	default:
	}
	mu.Lock()
	wall = wall.Add(2 * time.Hour) // suspended: the wall clock moved, the monotonic clock did not
	mu.Unlock()
	select {
	case <-resumed:
	case <-time.After(10 * time.Second):
		t.Fatal("resume not detected")
	}
	mu.Lock()
	netState = "wlan0=192.168.1.5/24"
	mu.Unlock()
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("network change not detected")
	}
}

// TestShowRaisesTheWindow: a plain second launch (VerbShow) runs the
// window's raise hook and gets the status; without a hook (-headless) the
// handler answers it with the status.
func TestShowRaisesTheWindow(t *testing.T) {
	path := filepath.Join(shortTemp(t), "instance.sock")
	var mu sync.Mutex
	var got []Request
	in, err := Listen(path, func(r Request) Response {
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		return Response{OK: true, Message: "a1: available"}
	}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	res, err := Send(path, Request{Verb: VerbShow}, 5*time.Second)
	if err != nil || !res.OK || res.Message != "a1: available" {
		t.Fatalf("show without a window: %+v %v", res, err)
	}
	var raised atomic.Int32
	in.OnShow(func() { raised.Add(1) })
	res, err = Send(path, Request{Verb: VerbShow}, 5*time.Second)
	if err != nil || !res.OK || !strings.Contains(res.Message, "window shown") || !strings.Contains(res.Message, "a1: available") {
		t.Fatalf("show with a window: %+v %v", res, err)
	}
	if raised.Load() != 1 {
		t.Fatalf("raised %d times", raised.Load())
	}
	// Other verbs never raise.
	if _, err := Send(path, Request{Verb: VerbAnswer}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if raised.Load() != 1 {
		t.Fatal("answer raised the window")
	}
	mu.Lock()
	defer mu.Unlock()
	want := []Request{{Verb: VerbShow}, {Verb: VerbStatus}, {Verb: VerbAnswer}}
	if len(got) != len(want) {
		t.Fatalf("handler got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("handler got %+v, want %+v", got, want)
		}
	}
}

// TestSilentInstanceIsNotTakenOver: a first instance that takes the
// connection and never answers (hung) is not "not running": Send says it
// is not answering (so a second launch does not start a second app), and
// Listen does not take its socket over. Only a stale socket (nobody
// listening) is "not running".
func TestSilentInstanceIsNotTakenOver(t *testing.T) {
	path := filepath.Join(shortTemp(t), "instance.sock")
	ln := desktoptest.SilentInstance(t, path)

	_, err := Send(path, Request{Verb: VerbShow}, 500*time.Millisecond)
	if !errors.Is(err, ErrNotAnswering) || errors.Is(err, ErrNotRunning) {
		t.Fatalf("send to a silent instance: %v, want ErrNotAnswering", err)
	}
	if in, err := Listen(path, func(Request) Response { return Response{OK: true} }, quiet()); !errors.Is(err, ErrAlreadyRunning) {
		if in != nil {
			in.Close()
		}
		t.Fatalf("listen beside a silent instance: %v, want ErrAlreadyRunning", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the silent instance's socket was removed: %v", err)
	}

	// Once it is gone for good (its socket file left behind, nobody
	// listening), it provably does not run.
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := Send(path, Request{Verb: VerbShow}, time.Second); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("send over a stale socket: %v, want ErrNotRunning", err)
	}
	if _, err := Send(filepath.Join(filepath.Dir(path), "none.sock"), Request{Verb: VerbShow}, time.Second); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("send with no socket: %v, want ErrNotRunning", err)
	}
}
