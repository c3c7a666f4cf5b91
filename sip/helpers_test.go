package sip

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

// sink records posted events and lets tests wait for them.
type sink struct {
	mu     sync.Mutex
	events []domain.Input
	wake   chan struct{}
}

func newSink() *sink { return &sink{wake: make(chan struct{}, 1)} }

func (s *sink) Post(in domain.Input) error {
	s.mu.Lock()
	s.events = append(s.events, in)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// wait returns the first not yet consumed event for which match is true,
// consuming it and everything before it.
func (s *sink) wait(t testing.TB, what string, within time.Duration, match func(domain.Input) bool) domain.Input {
	t.Helper()
	deadline := time.After(within)
	for {
		s.mu.Lock()
		for i, e := range s.events {
			if match(e) {
				s.events = s.events[i+1:]
				s.mu.Unlock()
				return e
			}
		}
		pending := fmt.Sprintf("%+v", s.events)
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-deadline:
			t.Fatalf("no %s within %v; pending events: %s", what, within, pending)
		}
	}
}

// none fails if any event matching match is pending.
func (s *sink) none(t testing.TB, what string, match func(domain.Input) bool) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.events {
		if match(e) {
			t.Fatalf("unexpected %s: %+v", what, e)
		}
	}
}

func isReg(st domain.RegState) func(domain.Input) bool {
	return func(in domain.Input) bool {
		r, ok := in.(domain.RegistrationChanged)
		return ok && r.State == st
	}
}

// testLogger logs the engine at debug level to stderr when SIP_TEST_LOG
// is set; otherwise it keeps the log and prints its last 64 KiB when the
// test fails (a failure in CI then shows what the engine did).
func testLogger(t testing.TB) *slog.Logger {
	if os.Getenv("SIP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	w := &tailBuffer{max: 64 << 10}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("engine log (tail):\n%s", w.String())
		}
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if over := len(w.b) - w.max; over > 0 {
		w.b = append(w.b[:0], w.b[over:]...)
	}
	return len(p), nil
}

func (w *tailBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}

func pw(s string) func() (string, error) { return func() (string, error) { return s, nil } }

// startEngine builds, attaches and starts an engine on 127.0.0.1, closed
// at the end of the test.
func startEngine(t testing.TB, acct Account, password string, opts ...Option) (*Engine, *sink) {
	t.Helper()
	opts = append([]Option{WithLogger(testLogger(t)), WithBindHost("127.0.0.1"),
		WithRegisterTimeout(3 * time.Second), WithRetryBackoff(500*time.Millisecond, 2*time.Second)}, opts...)
	e, err := New(acct, pw(password), opts...)
	if err != nil {
		t.Fatal(err)
	}
	s := newSink()
	e.Attach(s)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e, s
}

func isCI() bool { return os.Getenv("CI") == "true" }
