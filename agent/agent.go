package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

// Errors returned by the client API.
var (
	ErrBusy    = errors.New("agent inbox full")
	ErrStopped = errors.New("agent stopped")
)

// Ports are the adapters the actor drives. A nil port means the capability is
// not available (for example no SIP account yet): effects for it fail with a
// clear reason instead of pretending to succeed.
type Ports struct {
	Telephony domain.Telephony
	Media     domain.Media
	CallLog   domain.CallLogger
	Directory domain.Directory
}

// Clock is the actor's source of time, replaceable in tests.
type Clock interface {
	Now() time.Time
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// Option configures an Agent.
type Option func(*Agent)

// WithClock replaces the wall clock.
func WithClock(c Clock) Option { return func(a *Agent) { a.clock = c } }

// WithLogger sets the logger (component "agent" is added).
func WithLogger(l *slog.Logger) Option { return func(a *Agent) { a.log = l } }

// WithInboxSize sets the capacity of the inbox (default 1024).
func WithInboxSize(n int) Option { return func(a *Agent) { a.inboxSize = n } }

// WithInvariantChecks checks domain.CheckInvariants after every step and
// reports a violation as an error notice and log line (tests and debug
// builds).
func WithInvariantChecks(on bool) Option { return func(a *Agent) { a.checks = on } }

// WithState starts the actor from a given state instead of a signed-out one.
func WithState(s domain.State) Option { return func(a *Agent) { a.state = s.Clone() } }

type item struct {
	in   domain.Input
	fn   func(*Agent)  // runs on the actor goroutine (inspection)
	sync chan struct{} // closed once the input has been processed (Sync)
}

// Agent is the actor. Create it with New, start it with Run.
type Agent struct {
	ports     Ports
	clock     Clock
	log       *slog.Logger
	inboxSize int
	checks    bool

	inbox   chan item
	done    chan struct{}
	started chan struct{}
	once    sync.Once

	// Owned by the actor goroutine.
	state  domain.State
	timers map[domain.Timer]func() bool
	queue  []domain.Input // inputs produced while running effects, processed before the inbox

	// Published state, guarded by mu.
	mu       sync.Mutex
	seq      uint64
	current  domain.State
	watchers map[*watcher]struct{}
}

// New returns an actor over the given ports.
func New(ports Ports, opts ...Option) *Agent {
	a := &Agent{
		ports:     ports,
		clock:     realClock{},
		log:       slog.Default(),
		inboxSize: 1024,
		state:     domain.NewState(),
		done:      make(chan struct{}),
		started:   make(chan struct{}),
		timers:    map[domain.Timer]func() bool{},
		watchers:  map[*watcher]struct{}{},
	}
	for _, o := range opts {
		o(a)
	}
	a.log = a.log.With("component", "agent")
	a.inbox = make(chan item, a.inboxSize)
	a.current = a.state.Clone()
	return a
}

// Run processes inputs until ctx is cancelled. It may be called once.
func (a *Agent) Run(ctx context.Context) error {
	ran := false
	a.once.Do(func() { ran = true })
	if !ran {
		return errors.New("agent: Run called twice")
	}
	close(a.started)
	defer func() {
		for t, stop := range a.timers {
			stop()
			delete(a.timers, t)
		}
		close(a.done)
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case it := <-a.inbox:
			if it.in != nil {
				a.process(it.in)
			}
			if it.fn != nil {
				it.fn(a)
			}
			if it.sync != nil {
				close(it.sync)
			}
		}
	}
}

// Done is closed when Run has returned.
func (a *Agent) Done() <-chan struct{} { return a.done }

// Post delivers an adapter event; it blocks while the inbox is full.
func (a *Agent) Post(in domain.Input) error {
	select {
	case <-a.done:
		return ErrStopped
	default:
	}
	select {
	case a.inbox <- item{in: in}:
		return nil
	case <-a.done:
		return ErrStopped
	}
}

// Do enqueues a command without blocking.
func (a *Agent) Do(in domain.Input) error {
	select {
	case <-a.done:
		return ErrStopped
	default:
	}
	select {
	case a.inbox <- item{in: in}:
		return nil
	default:
		a.log.Error("inbox full: command dropped", "input", fmt.Sprintf("%T", in))
		return ErrBusy
	}
}

// Sync waits until every input enqueued before it has been processed (and
// its notifications queued to watchers). Tests and shutdown use it.
func (a *Agent) Sync(ctx context.Context) error {
	it := item{sync: make(chan struct{})}
	select {
	case a.inbox <- it:
	case <-a.done:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-it.sync:
		return nil
	case <-a.done:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Snapshot returns a copy of the current state.
func (a *Agent) Snapshot() domain.State {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.current.Clone()
}

// process runs one input and everything it causes, then publishes.
func (a *Agent) process(in domain.Input) {
	before := a.state
	var notices []domain.Notice
	a.queue = append(a.queue[:0], in)
	for len(a.queue) > 0 {
		next := a.queue[0]
		a.queue = a.queue[1:]
		if next == nil {
			continue
		}
		now := a.clock.Now()
		state, effects := domain.Step(a.state, next, now)
		a.state = state
		if a.checks {
			if err := domain.CheckInvariants(&a.state); err != nil {
				a.log.Error("invariant broken", "input", fmt.Sprintf("%T", next), "err", err)
				notices = append(notices, domain.Notice{Kind: domain.NoticeError, Message: "internal error: " + err.Error()})
			}
		}
		for _, e := range effects {
			if n, ok := e.(domain.Notice); ok {
				notices = append(notices, n)
				continue
			}
			if err := a.run(e, now); err != nil {
				a.log.Warn("effect failed", "effect", fmt.Sprintf("%T", e), "err", err)
				a.queue = append(a.queue, domain.EffectFailed{Effect: e, Reason: err.Error()})
			}
		}
	}
	a.publish(before, notices)
}

var (
	errNoTelephony = errors.New("no phone account is configured")
	errNoMedia     = errors.New("audio is not available")
	errNoCallLog   = errors.New("the call history store is not available")
	errNoDirectory = errors.New("no CRM or contact directory is configured")
)

// run carries out one effect through its port.
func (a *Agent) run(e domain.Effect, now time.Time) error {
	t, m, l, d := a.ports.Telephony, a.ports.Media, a.ports.CallLog, a.ports.Directory
	switch e := e.(type) {
	case domain.Register:
		if t == nil {
			return errNoTelephony
		}
		return t.Register()
	case domain.Unregister:
		if t == nil {
			return nil // nothing registered
		}
		return t.Unregister()
	case domain.DialCall:
		if t == nil {
			return errNoTelephony
		}
		return t.Dial(e.ID, e.Target)
	case domain.AnswerCall:
		if t == nil {
			return errNoTelephony
		}
		return t.Answer(e.ID)
	case domain.RejectCall:
		if t == nil {
			return errNoTelephony
		}
		return t.Reject(e.ID, e.Code)
	case domain.RedirectCall:
		if t == nil {
			return errNoTelephony
		}
		return t.Redirect(e.ID, e.Target)
	case domain.HangupCall:
		if t == nil {
			return errNoTelephony
		}
		return t.Hangup(e.ID)
	case domain.HoldCall:
		if t == nil {
			return errNoTelephony
		}
		return t.Hold(e.ID, e.On)
	case domain.SendDigits:
		if t == nil {
			return errNoTelephony
		}
		return t.SendDTMF(e.ID, e.Digits)
	case domain.TransferCall:
		if t == nil {
			return errNoTelephony
		}
		return t.TransferBlind(e.ID, e.Target)
	case domain.TransferToCall:
		if t == nil {
			return errNoTelephony
		}
		return t.TransferAttended(e.ID, e.To)
	case domain.SetRinger:
		if m != nil {
			m.SetRinger(e.Mode)
		}
	case domain.SetRingback:
		if m != nil {
			m.SetRingback(e.ID)
		}
	case domain.SetAudioRoute:
		if m != nil {
			m.SetAudioRoute(e.Calls)
		}
	case domain.SetMute:
		if m != nil {
			m.SetMute(e.On)
		}
	case domain.RecordCalls:
		if m == nil {
			return errNoMedia
		}
		return m.Record(e.Key, e.Calls, e.Action)
	case domain.PlayAnnouncementEffect:
		if m == nil {
			return errNoMedia
		}
		return m.PlayAnnouncement(e.ID, e.Name)
	case domain.LookupCaller:
		if d == nil {
			return nil // no directory: the interaction simply stays unmatched
		}
		return d.Lookup(e.Key, e.Number)
	case domain.ScreenPop:
		if d == nil {
			return errNoDirectory
		}
		return d.ScreenPop(e.Key, e.Record)
	case domain.ScreenPopNew:
		if d == nil {
			return errNoDirectory
		}
		return d.ScreenPopNew(e.Key, e.Number)
	case domain.SaveCallLog:
		if l == nil {
			return errNoCallLog
		}
		return l.SaveCallLog(e.Log)
	case domain.StartTimer:
		a.startTimer(e.Timer, e.At.Sub(now))
	case domain.CancelTimer:
		if stop, ok := a.timers[e.Timer]; ok {
			stop()
			delete(a.timers, e.Timer)
		}
	case domain.Notice:
	default:
		return fmt.Errorf("unknown effect %T", e)
	}
	return nil
}

func (a *Agent) startTimer(t domain.Timer, d time.Duration) {
	if stop, ok := a.timers[t]; ok {
		stop()
	}
	a.timers[t] = a.clock.AfterFunc(max(d, 0), func() {
		// A fire that races a restart or cancel is stale; Step ignores it
		// because the deadline in the state no longer matches.
		_ = a.Post(domain.TimerFired{Timer: t})
	})
}

// Timers returns the timers the actor is running (for tests and diagnostics).
func (a *Agent) Timers(ctx context.Context) ([]domain.Timer, error) {
	ch := make(chan []domain.Timer, 1)
	it := item{fn: func(a *Agent) {
		ts := make([]domain.Timer, 0, len(a.timers))
		for t := range a.timers {
			ts = append(ts, t)
		}
		ch <- ts
	}}
	select {
	case a.inbox <- it:
	case <-a.done:
		return nil, ErrStopped
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case ts := <-ch:
		return ts, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-a.done:
		return nil, ErrStopped
	}
}
