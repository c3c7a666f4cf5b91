package ui

import (
	"context"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/agenttest"
	"github.com/callcentre/softphone/agent/domain"
)

// uiThread stands in for Fyne's goroutine: the desk's updates are queued by
// the watcher goroutine and run on the test goroutine, as fyne.Do would run
// them on the UI goroutine.
type uiThread chan func()

func (q uiThread) do(fn func()) { q <- fn }

// until runs queued updates until cond holds.
func (q uiThread) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for !cond() {
		select {
		case fn := <-q:
			fn()
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func startDesk(t *testing.T) (*Desk, *agent.Agent, *agenttest.Recorder, uiThread) {
	t.Helper()
	test.NewTempApp(t)
	rec := agenttest.NewRecorder()
	tel, med, cl, dir := rec.Ports()
	a := agent.New(agent.Ports{Telephony: tel, Media: med, CallLog: cl, Directory: dir}, agent.WithInvariantChecks(true))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	q := make(uiThread, 1024)
	cfg := domain.DefaultConfig()
	cfg.WrapUpTime = 0
	d := New(a, cfg, WithDispatcher(q.do))
	test.NewTempWindow(t, d.Content())
	d.Start(ctx)
	t.Cleanup(func() {
		cancel()
		<-done
		d.Stop()
	})
	return d, a, rec, q
}

func TestDeskSignInCallWrapUp(t *testing.T) {
	d, a, rec, q := startDesk(t)
	if d.dial.Disabled() == false || d.signIn.Disabled() {
		t.Fatal("dialling must be disabled until sign-in")
	}
	test.Tap(d.signIn)
	q.until(t, "empty ID notice", func() bool { return strings.Contains(d.notice.Text, "agent ID") })

	test.Type(d.agentID, "a1")
	test.Tap(d.signIn)
	rec.WaitFor(t, "Register", 5*time.Second)
	q.until(t, "connecting", func() bool { return strings.Contains(d.status.Text, "connecting") })
	if err := a.Post(domain.RegistrationChanged{State: domain.RegRegistered}); err != nil {
		t.Fatal(err)
	}
	q.until(t, "break after sign-in", func() bool { return d.status.Text == "a1: break (Signing in)" })
	if !d.signIn.Disabled() || d.dial.Disabled() {
		t.Fatal("buttons not switched after sign-in")
	}

	d.presence.SetSelected(labelAvailable)
	q.until(t, "available", func() bool { return d.status.Text == "a1: available" })

	if err := a.Post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111", Name: "Bob"}}); err != nil {
		t.Fatal(err)
	}
	q.until(t, "ringing row", func() bool { return len(d.calls.Objects) == 1 })
	answer := findButton(t, d, "Answer")
	test.Tap(answer)
	rec.WaitFor(t, "Answer c1", 5*time.Second)
	if err := a.Post(domain.CallAnswered{ID: "c1"}); err != nil {
		t.Fatal(err)
	}
	q.until(t, "active call", func() bool { return strings.Contains(callsText(d), "Bob: active") })
	if d.status.Text != "a1: on-call" {
		t.Fatalf("status %q", d.status.Text)
	}
	test.Tap(findButton(t, d, "Hang up"))
	q.until(t, "wrap-up", func() bool { return d.status.Text == "a1: wrap-up" })
	test.Tap(findButton(t, d, "Wrap call"))
	rec.WaitFor(t, "SaveLog c1", 5*time.Second)
	q.until(t, "available again", func() bool { return d.status.Text == "a1: available" })

	// A failed dial shows the cause in plain words.
	test.Type(d.number, "hello?")
	test.Tap(d.dial)
	q.until(t, "invalid number notice", func() bool { return strings.Contains(d.notice.Text, "not a phone number") })

	d.presence.SetSelected(labelOffline)
	rec.WaitFor(t, "Unregister", 5*time.Second)
	q.until(t, "signed out", func() bool { return d.status.Text == "Signed out" })
}

// callsText joins the labels of the call list.
func callsText(d *Desk) string {
	var b strings.Builder
	for _, row := range d.calls.Objects {
		for _, o := range row.(*fyne.Container).Objects {
			if l, ok := o.(*widget.Label); ok {
				b.WriteString(l.Text + "\n")
			}
		}
	}
	return b.String()
}

// findButton finds a button by its label in the call list.
func findButton(t *testing.T, d *Desk, label string) *widget.Button {
	t.Helper()
	var walk func(objs []fyne.CanvasObject) *widget.Button
	walk = func(objs []fyne.CanvasObject) *widget.Button {
		for _, o := range objs {
			switch o := o.(type) {
			case *widget.Button:
				if o.Text == label {
					return o
				}
			case *fyne.Container:
				if b := walk(o.Objects); b != nil {
					return b
				}
			}
		}
		return nil
	}
	b := walk(d.calls.Objects)
	if b == nil {
		t.Fatalf("no %q button", label)
	}
	return b
}
