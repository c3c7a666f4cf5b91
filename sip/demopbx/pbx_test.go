package demopbx

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/sip"
)

type sink struct {
	mu     sync.Mutex
	events []domain.Input
	wake   chan struct{}
}

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

func (s *sink) wait(t *testing.T, what string, match func(domain.Input) bool) domain.Input {
	t.Helper()
	deadline := time.After(20 * time.Second)
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
			t.Fatalf("no %s; pending: %s", what, pending)
		}
	}
}

func testLog() *slog.Logger {
	if os.Getenv("SIP_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// start runs a PBX and a registered agent engine against it.
func start(t *testing.T, opts Options) (*PBX, *sip.Engine, *sink) {
	t.Helper()
	opts.Logger = testLog()
	p, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	acct := sip.Account{User: p.User(), Domain: p.Addr()}
	e, err := sip.New(acct, func() (string, error) { return p.Password(), nil },
		sip.WithLogger(testLog()), sip.WithBindHost("127.0.0.1"), sip.WithTransferTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{wake: make(chan struct{}, 1)}
	e.Attach(s)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "registered", func(in domain.Input) bool {
		r, ok := in.(domain.RegistrationChanged)
		return ok && r.State == domain.RegRegistered
	})
	return p, e, s
}

func failed(id domain.CallID, cause domain.EndCause) func(domain.Input) bool {
	return func(in domain.Input) bool {
		f, ok := in.(domain.CallFailed)
		return ok && f.ID == id && f.Cause == cause
	}
}

func answered(id domain.CallID) func(domain.Input) bool {
	return func(in domain.Input) bool { a, ok := in.(domain.CallAnswered); return ok && a.ID == id }
}

func TestRegistrarRefusesWrongPassword(t *testing.T) {
	p, err := Start(context.Background(), Options{Logger: testLog()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	e, err := sip.New(sip.Account{User: p.User(), Domain: p.Addr()}, func() (string, error) { return "wrong", nil },
		sip.WithLogger(testLog()), sip.WithBindHost("127.0.0.1"), sip.WithRetryBackoff(time.Minute, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{wake: make(chan struct{}, 1)}
	e.Attach(s)
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	_ = e.Register()
	s.wait(t, "registration failure", func(in domain.Input) bool {
		r, ok := in.(domain.RegistrationChanged)
		return ok && r.State == domain.RegFailed
	})
	if p.Registered() {
		t.Fatal("registered with a wrong password")
	}
	if _, err := p.CallAgent(""); err == nil {
		t.Fatal("CallAgent succeeded with no agent registered")
	}
}

func TestExtensions(t *testing.T) {
	p, e, s := start(t, Options{AnswerDelay: 100 * time.Millisecond, NoAnswerAfter: time.Second})

	t.Run("busy", func(t *testing.T) {
		id := domain.NewCallID()
		if err := e.Dial(id, ExtBusy); err != nil {
			t.Fatal(err)
		}
		s.wait(t, "busy", failed(id, domain.CauseBusy))
	})
	t.Run("invalid", func(t *testing.T) {
		id := domain.NewCallID()
		if err := e.Dial(id, "999"); err != nil {
			t.Fatal(err)
		}
		s.wait(t, "not found", func(in domain.Input) bool { f, ok := in.(domain.CallFailed); return ok && f.ID == id })
	})
	t.Run("no answer", func(t *testing.T) {
		id := domain.NewCallID()
		if err := e.Dial(id, ExtNoAnswer); err != nil {
			t.Fatal(err)
		}
		s.wait(t, "ringing", func(in domain.Input) bool { r, ok := in.(domain.CallProgress); return ok && r.ID == id })
		s.wait(t, "unavailable", func(in domain.Input) bool { f, ok := in.(domain.CallFailed); return ok && f.ID == id })
	})
	t.Run("echo and colleague", func(t *testing.T) {
		for _, ext := range []string{ExtEcho, "203", Contacts()[2].Number} {
			id := domain.NewCallID()
			if err := e.Dial(id, ext); err != nil {
				t.Fatal(err)
			}
			s.wait(t, "answer of "+ext, answered(id))
			if err := e.Hangup(id); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "legs to end", func() bool { return len(p.Calls()) == 0 })
	})
	t.Run("customer line and blind transfer", func(t *testing.T) {
		want := Contacts()[0]
		if _, err := p.CallAgent(want.Number); err != nil {
			t.Fatal(err)
		}
		off := s.wait(t, "offer", func(in domain.Input) bool { _, ok := in.(domain.CallOffered); return ok }).(domain.CallOffered)
		if off.Remote.Number != want.Number {
			t.Fatalf("caller id %q, want %q", off.Remote.Number, want.Number)
		}
		if err := e.Answer(off.ID); err != nil {
			t.Fatal(err)
		}
		s.wait(t, "answered", answered(off.ID))
		if err := e.TransferBlind(off.ID, "202"); err != nil {
			t.Fatal(err)
		}
		r := s.wait(t, "transfer result", func(in domain.Input) bool { _, ok := in.(domain.TransferResult); return ok }).(domain.TransferResult)
		if !r.OK {
			t.Fatalf("transfer failed: %s", r.Reason)
		}
		tr := p.Transfers()
		if len(tr) != 1 || tr[0].To != "202" || tr[0].Customer != want.Number || tr[0].Attended {
			t.Fatalf("transfers %+v", tr)
		}
		_ = e.Hangup(off.ID)
	})
	t.Run("blind transfer to the busy number fails", func(t *testing.T) {
		if _, err := p.CallAgent(""); err != nil {
			t.Fatal(err)
		}
		off := s.wait(t, "offer", func(in domain.Input) bool { _, ok := in.(domain.CallOffered); return ok }).(domain.CallOffered)
		_ = e.Answer(off.ID)
		s.wait(t, "answered", answered(off.ID))
		_ = e.TransferBlind(off.ID, ExtBusy)
		r := s.wait(t, "transfer result", func(in domain.Input) bool { _, ok := in.(domain.TransferResult); return ok }).(domain.TransferResult)
		if r.OK {
			t.Fatal("transfer to the busy number succeeded")
		}
		var leg *Call
		for _, c := range p.Calls() {
			if c.Kind == LegCustomer && c.Number == off.Remote.Number {
				leg = &c
			}
		}
		if leg == nil {
			t.Fatalf("customer leg gone after a failed transfer: %+v", p.Calls())
		}
		if err := p.Hangup(leg.CallID); err != nil {
			t.Fatal(err)
		}
		s.wait(t, "customer hangs up", func(in domain.Input) bool { c, ok := in.(domain.CallEnded); return ok && c.ID == off.ID })
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	if _, err := Start(context.Background(), Options{Host: "0.0.0.0"}); err == nil {
		t.Fatal("started on a non-loopback address")
	}
}
