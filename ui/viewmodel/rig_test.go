package viewmodel

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/agenttest"
	"github.com/callcentre/softphone/agent/domain"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// manualClock is the core's clock in these tests: time moves only when the
// test says so, and timers never fire on their own.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) AfterFunc(time.Duration, func()) func() bool {
	return func() bool { return true }
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// rig runs the real core on recording fakes and folds its notifications
// into a Model on the test goroutine.
type rig struct {
	t      *testing.T
	a      *agent.Agent
	rec    *agenttest.Recorder
	clock  *manualClock
	m      *Model
	notes  chan agent.Notify
	toasts []Toast
}

func newRig(t *testing.T, cfg domain.Config, tr *Translator) *rig {
	t.Helper()
	r := &rig{t: t, rec: agenttest.NewRecorder(), clock: &manualClock{now: t0}, m: New(tr), notes: make(chan agent.Notify, 4096)}
	tel, med, cl, dir := r.rec.Ports()
	r.a = agent.New(agent.Ports{Telephony: tel, Media: med, CallLog: cl, Directory: dir},
		agent.WithClock(r.clock), agent.WithInvariantChecks(true))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.a.Run(ctx); close(done) }()
	stop := r.a.Watch(ctx, func(n agent.Notify) { r.notes <- n })
	t.Cleanup(func() { cancel(); <-done; stop() })
	r.settle()
	if cfg.MaxLines != 0 || cfg.BreakReasons != nil {
		r.login(cfg)
	}
	return r
}

// settle waits until the core has processed everything sent so far and the
// model has folded every notification it produced.
func (r *rig) settle() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.a.Sync(ctx); err != nil {
		r.t.Fatal(err)
	}
	want := r.a.Seq()
	for r.m.Mirror.Seq < want {
		select {
		case n := <-r.notes:
			r.toasts = append(r.toasts, r.m.Apply(n)...)
		case <-ctx.Done():
			r.t.Fatalf("model stuck at seq %d, want %d", r.m.Mirror.Seq, want)
		}
	}
}

func (r *rig) ok(err error) {
	r.t.Helper()
	if err != nil {
		r.t.Fatal(err)
	}
	r.settle()
}

func (r *rig) post(in domain.Input) { r.t.Helper(); r.ok(r.a.Post(in)) }

func (r *rig) login(cfg domain.Config) {
	r.t.Helper()
	r.ok(r.a.Login(domain.AgentInfo{ID: "a1", Name: "Alice Smith"}, cfg))
	r.post(domain.RegistrationChanged{State: domain.RegRegistered})
	r.ok(r.a.SetStatus(domain.Status{Presence: domain.PresenceAvailable}))
}

func (r *rig) view() View { return r.m.View(r.clock.Now()) }

// lastToast returns and clears the toasts.
func (r *rig) takeToasts() []Toast {
	t := r.toasts
	r.toasts = nil
	return t
}

func baseConfig() domain.Config {
	c := domain.DefaultConfig()
	c.Outcomes = []string{"Resolved", "Callback"}
	c.OutcomeRequired = true
	c.QuickNotes = []domain.QuickNote{{Name: "Refund", Text: "Refund issued."}}
	return c
}
