package store

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

// recordingSink is a domain.EventSink that records what it is posted and
// can run a check at each Post.
type recordingSink struct {
	mu     sync.Mutex
	ins    []domain.Input
	ch     chan domain.Input
	onPost func(domain.Input)
}

func newSink() *recordingSink { return &recordingSink{ch: make(chan domain.Input, 100000)} }

func (s *recordingSink) Post(in domain.Input) error {
	if s.onPost != nil {
		s.onPost(in)
	}
	s.mu.Lock()
	s.ins = append(s.ins, in)
	s.mu.Unlock()
	s.ch <- in
	return nil
}

// wait returns the next posted input or fails after 10 s.
func (s *recordingSink) wait(t testing.TB) domain.Input {
	t.Helper()
	select {
	case in := <-s.ch:
		return in
	case <-time.After(10 * time.Second):
		t.Fatal("no input posted within 10 s")
		return nil
	}
}

func openTest(t testing.TB, opts ...Option) (*DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := Open(dir, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, dir
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// mkLog builds a call log; kind is "in", "out" or "missed".
func mkLog(agent string, i int, kind string, at time.Time) domain.CallLog {
	l := domain.CallLog{
		Key:       fmt.Sprintf("call-%s-%06d", agent, i),
		AgentID:   agent,
		Remote:    domain.Party{Number: fmt.Sprintf("+4420794%05d", i%100000), Name: "Caller"},
		Queue:     "support",
		StartedAt: at,
		EndedAt:   at.Add(90 * time.Second),
		WrappedAt: at.Add(2 * time.Minute),
		Outcome:   "resolved",
		Notes:     "customer asked about invoice",
		Cause:     domain.CauseRemoteHangup,
	}
	switch kind {
	case "in":
		l.Direction = domain.DirectionInbound
		l.AnsweredAt = at.Add(5 * time.Second)
		l.Talk = 85 * time.Second
	case "out":
		l.Direction = domain.DirectionOutbound
		l.AnsweredAt = at.Add(5 * time.Second)
	case "missed":
		l.Direction = domain.DirectionInbound
		l.Missed = true
		l.Cause = domain.CauseMissed
	}
	return l
}

// saveSync saves a log and waits for its result.
func saveSync(t testing.TB, c *CallLogger, s *recordingSink, l domain.CallLog) domain.Input {
	t.Helper()
	if err := c.SaveCallLog(l); err != nil {
		t.Fatalf("SaveCallLog(%s): %v", l.Key, err)
	}
	return s.wait(t)
}
