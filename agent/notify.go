package agent

import (
	"context"
	"reflect"
	"slices"
	"sync"

	"github.com/callcentre/softphone/agent/domain"
)

// AgentView is the agent-level part of the state.
type AgentView struct {
	Agent        domain.AgentInfo
	Status       domain.AgentStatus // effective status
	Presence     domain.Status      // chosen status
	Next         *domain.Status     // applied after the calls and wrap-up
	Registration domain.Registration
	Muted        bool
	Missed       int
	Focus        domain.CallID
	Config       domain.Config
}

// LogView summarises call logs not yet durably saved.
type LogView struct {
	Pending   int    // handed to the store, not yet confirmed
	Failing   int    // of those, how many failed at least once
	LastError string // the latest save error
}

// Notify is one notification. The first one a watcher gets has Initial set
// and carries everything; later ones carry only what changed: a nil pointer
// or empty slice means unchanged. Apply them in order (see Mirror).
type Notify struct {
	Seq          uint64
	Initial      bool
	Agent        *AgentView
	Calls        []domain.Call        // new or changed live calls, full values
	Ended        []domain.CallID      // calls no longer live
	Interactions []domain.Interaction // new or changed interactions
	Closed       []string             // interactions logged (or discarded)
	Logs         *LogView
	Notices      []domain.Notice // one-off messages, never repeated
}

// Empty reports whether the notification carries nothing.
func (n *Notify) Empty() bool {
	return !n.Initial && n.Agent == nil && len(n.Calls) == 0 && len(n.Ended) == 0 &&
		len(n.Interactions) == 0 && len(n.Closed) == 0 && n.Logs == nil && len(n.Notices) == 0
}

func agentView(s *domain.State) AgentView {
	v := AgentView{
		Agent: s.Agent, Status: s.Status(), Presence: s.Presence, Registration: s.Registration,
		Muted: s.Muted, Missed: s.Missed, Focus: s.Focus, Config: s.Config.Clone(),
	}
	if s.Next != nil {
		n := *s.Next
		v.Next = &n
	}
	return v
}

func logView(s *domain.State) LogView {
	var v LogView
	for _, p := range s.PendingLogs {
		v.Pending++
		if p.Attempts > 0 {
			v.Failing++
			v.LastError = p.LastError
		}
	}
	return v
}

func initial(s *domain.State, seq uint64) Notify {
	av, lv := agentView(s), logView(s)
	n := Notify{Seq: seq, Initial: true, Agent: &av, Logs: &lv}
	n.Calls = slices.Clone(s.Calls)
	for _, ix := range s.Interactions {
		n.Interactions = append(n.Interactions, ix.Clone())
	}
	return n
}

// delta computes what changed from a to b. The states are never mutated
// after publication, so they can be compared and shared freely.
func delta(a, b *domain.State) Notify {
	var n Notify
	if av, bv := agentView(a), agentView(b); !reflect.DeepEqual(av, bv) {
		n.Agent = &bv
	}
	for _, c := range b.Calls {
		if old := a.Call(c.ID); old == nil || !reflect.DeepEqual(*old, c) {
			n.Calls = append(n.Calls, c)
		}
	}
	for _, c := range a.Calls {
		if b.Call(c.ID) == nil {
			n.Ended = append(n.Ended, c.ID)
		}
	}
	for _, ix := range b.Interactions {
		if old := a.Interaction(ix.Key); old == nil || !reflect.DeepEqual(*old, ix) {
			n.Interactions = append(n.Interactions, ix.Clone())
		}
	}
	for _, ix := range a.Interactions {
		if b.Interaction(ix.Key) == nil {
			n.Closed = append(n.Closed, ix.Key)
		}
	}
	if al, bl := logView(a), logView(b); al != bl {
		n.Logs = &bl
	}
	return n
}

func (a *Agent) publish(before domain.State, notices []domain.Notice) {
	n := delta(&before, &a.state)
	n.Notices = notices
	if n.Empty() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seq++
	n.Seq = a.seq
	a.current = a.state.Clone()
	for w := range a.watchers {
		w.push(n)
	}
}

// Seq returns the sequence number of the latest notification published.
func (a *Agent) Seq() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seq
}

// Watch calls fn with a full snapshot and then with every change, in order,
// on a goroutine of its own, until ctx is cancelled or the agent stops. fn
// must not call back into Watch. The returned function stops watching.
func (a *Agent) Watch(ctx context.Context, fn func(Notify)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	w := &watcher{fn: fn, wake: make(chan struct{}, 1), finished: make(chan struct{})}
	a.mu.Lock()
	w.push(initial(&a.current, a.seq))
	a.watchers[w] = struct{}{}
	a.mu.Unlock()
	go func() {
		defer close(w.finished)
		w.run(ctx, a.done)
		a.mu.Lock()
		delete(a.watchers, w)
		a.mu.Unlock()
	}()
	return func() {
		cancel()
		<-w.finished
	}
}

// watcher is an ordered, unbounded queue drained by its own goroutine (the
// pion handlerNotifier pattern): push never blocks and never drops.
type watcher struct {
	mu       sync.Mutex
	q        []Notify
	wake     chan struct{}
	fn       func(Notify)
	finished chan struct{}
}

func (w *watcher) push(n Notify) {
	w.mu.Lock()
	w.q = append(w.q, n)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // a wake-up is already pending; the queue itself holds n
	}
}

func (w *watcher) drain() {
	for {
		w.mu.Lock()
		q := w.q
		w.q = nil
		w.mu.Unlock()
		if len(q) == 0 {
			return
		}
		for _, n := range q {
			w.fn(n)
		}
	}
}

func (w *watcher) run(ctx context.Context, agentDone <-chan struct{}) {
	for {
		select {
		case <-w.wake:
			w.drain()
		case <-agentDone:
			w.drain()
			return
		case <-ctx.Done():
			return
		}
	}
}

// Mirror rebuilds the core's state from notifications: what a watcher knows.
// The UI's view model embeds one; tests use it to prove that deltas are
// complete.
type Mirror struct {
	Seq          uint64
	Agent        AgentView
	Calls        []domain.Call
	Interactions []domain.Interaction
	Logs         LogView
}

// Apply folds one notification into the mirror.
func (m *Mirror) Apply(n Notify) {
	if n.Initial {
		*m = Mirror{}
	}
	m.Seq = n.Seq
	if n.Agent != nil {
		m.Agent = *n.Agent
	}
	if n.Logs != nil {
		m.Logs = *n.Logs
	}
	for _, c := range n.Calls {
		if i := slices.IndexFunc(m.Calls, func(x domain.Call) bool { return x.ID == c.ID }); i >= 0 {
			m.Calls[i] = c
		} else {
			m.Calls = append(m.Calls, c)
		}
	}
	m.Calls = slices.DeleteFunc(m.Calls, func(c domain.Call) bool { return slices.Contains(n.Ended, c.ID) })
	for _, ix := range n.Interactions {
		if i := slices.IndexFunc(m.Interactions, func(x domain.Interaction) bool { return x.Key == ix.Key }); i >= 0 {
			m.Interactions[i] = ix
		} else {
			m.Interactions = append(m.Interactions, ix)
		}
	}
	m.Interactions = slices.DeleteFunc(m.Interactions, func(ix domain.Interaction) bool { return slices.Contains(n.Closed, ix.Key) })
}

// Call returns the mirrored call with the given ID, or nil.
func (m *Mirror) Call(id domain.CallID) *domain.Call {
	for i := range m.Calls {
		if m.Calls[i].ID == id {
			return &m.Calls[i]
		}
	}
	return nil
}

// Interaction returns the mirrored interaction with the given key, or nil.
func (m *Mirror) Interaction(key string) *domain.Interaction {
	for i := range m.Interactions {
		if m.Interactions[i].Key == key {
			return &m.Interactions[i]
		}
	}
	return nil
}
