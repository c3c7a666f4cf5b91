package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/store"
)

// Defaults.
const (
	DefaultPoll           = 2 * time.Second
	DefaultBackoffBase    = 2 * time.Second
	DefaultBackoffMax     = 15 * time.Minute
	DefaultRateLimitPause = 5 * time.Minute
	DefaultAmbiguousDelay = 30 * time.Second
	DefaultRequestTimeout = 2 * time.Minute
)

// Status is what the UI shows about the outbox.
type Status struct {
	Target      string
	Pending     int       // logs still to deliver to this target (all agents on this PC)
	Dead        int       // dead letters waiting for the agent
	LastSuccess time.Time // last delivered log
	LastError   string    // last failure, in the CRM's words
	LastErrorAt time.Time
	Offline     bool      // the CRM is unreachable; probing
	PausedUntil time.Time // rate limited until then
	// SignInNeeded lists the agents whose logs wait for a sign-in.
	SignInNeeded []string
}

// Worker drains one target's outbox.
type Worker struct {
	db      *store.DB
	conn    crm.Connector
	target  string
	log     *slog.Logger
	batch   int
	base    time.Duration
	cap     time.Duration
	rate    time.Duration
	amb     time.Duration
	poll    time.Duration
	timeout time.Duration
	now     func() time.Time
	notify  func(Status)

	wake chan struct{}

	mu         sync.Mutex
	st         Status
	sessions   map[string]crm.Session
	needSignIn map[string]bool
	single     map[string]int       // per agent: requests still to send one by one
	hold       map[string]time.Time // per agent: no request before (after an ambiguous request)
	probe      time.Duration
	counted    time.Time
}

const countEvery = time.Second

// Option configures New.
type Option func(*Worker)

// WithLogger sets the logger (component=crm-outbox is added).
func WithLogger(l *slog.Logger) Option { return func(w *Worker) { w.log = l } }

// WithBatchSize caps the logs per request (default and maximum: the
// connector's MaxBatch; 1 sends one by one).
func WithBatchSize(n int) Option { return func(w *Worker) { w.batch = n } }

// WithBackoff sets the first retry delay and its cap (defaults 2 s and
// 15 min); the offline probe uses the same curve.
func WithBackoff(base, maxDelay time.Duration) Option {
	return func(w *Worker) { w.base, w.cap = base, maxDelay }
}

// WithRateLimitPause sets the pause after a rate limit without
// Retry-After (default 5 min; Salesforce never sends Retry-After).
func WithRateLimitPause(d time.Duration) Option { return func(w *Worker) { w.rate = d } }

// WithAmbiguousDelay sets the least wait before replaying a write that may
// have been applied, so a slow commit lands before the read-first check
// (default 30 s).
func WithAmbiguousDelay(d time.Duration) Option { return func(w *Worker) { w.amb = d } }

// WithPoll sets how often the store is checked for new entries when
// nothing woke the worker (default 2 s).
func WithPoll(d time.Duration) Option { return func(w *Worker) { w.poll = d } }

// WithRequestTimeout bounds one LogCalls call (default 2 min).
func WithRequestTimeout(d time.Duration) Option { return func(w *Worker) { w.timeout = d } }

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(w *Worker) { w.now = now } }

// OnChange registers a callback run on the worker goroutine after the
// status changed; it must not block (the UI posts it through fyne.Do).
func OnChange(fn func(Status)) Option { return func(w *Worker) { w.notify = fn } }

// New returns a worker delivering db's entries for conn.Name().
func New(db *store.DB, conn crm.Connector, opts ...Option) *Worker {
	w := &Worker{db: db, conn: conn, target: conn.Name(), log: slog.Default(),
		base: DefaultBackoffBase, cap: DefaultBackoffMax, rate: DefaultRateLimitPause, amb: DefaultAmbiguousDelay,
		poll: DefaultPoll, timeout: DefaultRequestTimeout, now: time.Now,
		wake: make(chan struct{}, 1), sessions: map[string]crm.Session{}, needSignIn: map[string]bool{},
		single: map[string]int{}, hold: map[string]time.Time{}}
	for _, o := range opts {
		o(w)
	}
	maxBatch := max(conn.Capabilities().MaxBatch, 1)
	if w.batch <= 0 || w.batch > maxBatch {
		w.batch = maxBatch
	}
	w.probe = w.base
	w.st.Target = w.target
	w.log = w.log.With("component", "crm-outbox", "crm", w.target)
	return w
}

// Wake makes the worker look at the store now (new logs, the network came
// back, an agent signed in: agents waiting for a sign-in are retried).
func (w *Worker) Wake() {
	w.mu.Lock()
	clear(w.needSignIn)
	w.probe = w.base
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Status returns the current status.
func (w *Worker) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := w.st
	s.SignInNeeded = slices.Clone(s.SignInNeeded)
	return s
}

// DeadLetters lists agentID's dead entries of this target, with the CRM's
// message in LastError.
func (w *Worker) DeadLetters(agentID string) ([]store.Entry, error) {
	p, err := w.db.Profile(agentID)
	if err != nil {
		return nil, err
	}
	all, err := p.DeadLetters()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(e store.Entry) bool { return e.ID.Target != w.target }), nil
}

// Resend puts a dead letter back in the queue (after the agent or the
// admin fixed the cause) and wakes the worker.
func (w *Worker) Resend(agentID string, id store.EntryID) error {
	p, err := w.db.Profile(agentID)
	if err != nil {
		return err
	}
	if err := p.Resend(id); err != nil {
		return err
	}
	w.Wake()
	return nil
}

// Flush waits until agentID has nothing left to deliver to this target
// (drain before revoke, at sign-out) or ctx ends.
func (w *Worker) Flush(ctx context.Context, agentID string) error {
	p, err := w.db.Profile(agentID)
	if err != nil {
		return err
	}
	w.Wake()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		c, err := p.CountTarget(w.target)
		if err != nil {
			return err
		}
		n := c.Queued
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("flush outbox: %d logs not delivered: %w", n, ctx.Err())
		case <-t.C:
		}
	}
}

// Run drains until ctx ends and returns ctx's error.
func (w *Worker) Run(ctx context.Context) error {
	w.log.Info("outbox worker started")
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		case <-w.wake:
		}
		wait := w.cycle(ctx)
		timer.Reset(wait)
	}
}

// cycle drains every agent once and returns how long to sleep.
func (w *Worker) cycle(ctx context.Context) time.Duration {
	defer w.refreshCounts()
	now := w.now()
	w.mu.Lock()
	paused, offline, probe := w.st.PausedUntil, w.st.Offline, w.probe
	w.mu.Unlock()
	if now.Before(paused) {
		return paused.Sub(now)
	}
	agents, err := w.db.OutboxAgents()
	if err != nil {
		w.fail("read outbox: "+err.Error(), nil)
		return w.poll
	}
	if offline && !w.probeOK(ctx, agents) {
		w.mu.Lock()
		w.probe = min(w.probe*2, w.cap)
		w.mu.Unlock()
		return jitter(probe)
	}
	wait := w.poll
	for _, agent := range agents {
		if ctx.Err() != nil {
			return wait
		}
		sess, err := w.session(ctx, agent)
		if err != nil {
			if crm.KindOf(err) == crm.KindOffline {
				w.setOffline(err)
				return jitter(probe)
			}
			continue
		}
		d, stop := w.drainAgent(ctx, agent, sess)
		wait = min(wait, d)
		if stop {
			break
		}
	}
	return max(wait, time.Millisecond)
}

// probeOK checks whether the CRM answers again.
func (w *Worker) probeOK(ctx context.Context, agents []string) bool {
	for _, a := range agents {
		sess, err := w.session(ctx, a)
		if err != nil {
			if crm.KindOf(err) == crm.KindOffline {
				return false
			}
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, w.timeout)
		err = sess.Health(pctx)
		cancel()
		if err != nil && (crm.KindOf(err) == crm.KindOffline || crm.KindOf(err) == crm.KindTransient) {
			return false
		}
		break
	}
	w.mu.Lock()
	w.st.Offline, w.probe = false, w.base
	w.mu.Unlock()
	w.log.Info("crm reachable again; resuming")
	w.changed()
	return true
}

func (w *Worker) setOffline(err error) {
	w.mu.Lock()
	was := w.st.Offline
	w.st.Offline = true
	w.mu.Unlock()
	if !was {
		w.log.Warn("crm unreachable; pausing", "err", err)
	}
	w.fail(crm.MessageOf(err), err)
}

// session returns agent's session, resuming it from the keyring.
func (w *Worker) session(ctx context.Context, agent string) (crm.Session, error) {
	w.mu.Lock()
	if s, ok := w.sessions[agent]; ok {
		w.mu.Unlock()
		return s, nil
	}
	if w.needSignIn[agent] {
		w.mu.Unlock()
		return nil, crm.ErrSignInRequired
	}
	w.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	s, err := w.conn.Resume(rctx, agent)
	if err == nil && s.AgentID() != agent {
		err = fmt.Errorf("resume %s: %w", agent, crm.ErrWrongAgent)
	}
	w.mu.Lock()
	if err != nil {
		if k := crm.KindOf(err); k == crm.KindAuthRevoked || k == crm.KindPermanent {
			w.needSignIn[agent] = true
			w.signInNeededLocked()
		}
		w.mu.Unlock()
		return nil, err
	}
	w.sessions[agent] = s
	// The agent signed in again: stop asking for it (Wake cleared the
	// retry set, the shown list is rebuilt here).
	signedIn := slices.Contains(w.st.SignInNeeded, agent)
	if signedIn {
		delete(w.needSignIn, agent)
		w.signInNeededLocked()
	}
	w.mu.Unlock()
	if signedIn {
		w.changed()
	}
	return s, nil
}

func (w *Worker) dropSession(agent string) {
	w.mu.Lock()
	delete(w.sessions, agent)
	w.needSignIn[agent] = true
	w.signInNeededLocked()
	w.mu.Unlock()
	w.changed()
}

func (w *Worker) signInNeededLocked() {
	w.st.SignInNeeded = w.st.SignInNeeded[:0]
	for a := range w.needSignIn {
		w.st.SignInNeeded = append(w.st.SignInNeeded, a)
	}
	slices.Sort(w.st.SignInNeeded)
}

func (w *Worker) fail(msg string, err error) {
	w.mu.Lock()
	w.st.LastError, w.st.LastErrorAt = msg, w.now()
	w.mu.Unlock()
	if err != nil {
		w.log.Info("crm delivery failed", "kind", crm.KindOf(err).String(), "err", err)
	}
	w.changed()
}

func (w *Worker) changed() {
	if w.notify != nil {
		w.notify(w.Status())
	}
}

// refreshCounts recounts this target's pending and dead entries over every
// agent from the store's bucket sizes (nothing is decoded), at most once
// per countEvery; in between the worker keeps the counts itself.
func (w *Worker) refreshCounts() {
	w.mu.Lock()
	now := time.Now()
	if now.Sub(w.counted) < countEvery {
		w.mu.Unlock()
		return
	}
	w.counted = now
	w.mu.Unlock()
	agents, err := w.db.Profiles()
	if err != nil {
		return
	}
	pending, dead := 0, 0
	for _, a := range agents {
		p, err := w.db.Profile(a)
		if err != nil {
			continue
		}
		c, err := p.CountTarget(w.target)
		if err != nil {
			continue
		}
		pending += c.Queued
		dead += c.Dead
	}
	w.mu.Lock()
	changed := w.st.Pending != pending || w.st.Dead != dead
	w.st.Pending, w.st.Dead = pending, dead
	w.mu.Unlock()
	if changed {
		w.changed()
	}
}

// backoff is the delay before attempt n+1 (n >= 1), with jitter.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.base
	for i := 1; i < attempts && d < w.cap; i++ {
		d *= 2
	}
	return jitter(min(d, w.cap))
}

// jitter returns a duration in [d/2, d].
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

var errCorrupt = errors.New("queued call log is unreadable")
