package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

func TestSaveCallLogCommitsBeforePost(t *testing.T) {
	db, _ := openTest(t, WithClock(func() time.Time { return t0 }))
	p, err := db.Profile("a1")
	if err != nil {
		t.Fatal(err)
	}
	sink := newSink()
	var checkErr []error
	var mu sync.Mutex
	// At Post time the log and its outbox entries must be visible to a
	// fresh read transaction: they were committed before the post.
	sink.onPost = func(in domain.Input) {
		saved, ok := in.(domain.CallLogSaved)
		if !ok {
			return
		}
		_, err := p.CallLog(saved.Key)
		c, err2 := p.Counts()
		mu.Lock()
		defer mu.Unlock()
		if err != nil || err2 != nil {
			checkErr = append(checkErr, errors.Join(err, err2))
		} else if c.Pending != 2 {
			checkErr = append(checkErr, fmt.Errorf("pending = %d at post, want 2", c.Pending))
		}
	}
	c := db.NewCallLogger("salesforce", "zendesk")
	c.Attach(sink)
	l := mkLog("a1", 1, "in", t0)
	if in := saveSync(t, c, sink, l); in != (domain.CallLogSaved{Key: l.Key}) {
		t.Fatalf("posted %#v", in)
	}
	mu.Lock()
	if len(checkErr) > 0 {
		t.Fatal(checkErr)
	}
	mu.Unlock()
	got, err := p.CallLog(l.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Log.Notes != l.Notes || got.Log.Remote != l.Remote || !got.SavedAt.Equal(t0) {
		t.Errorf("stored %+v", got)
	}
	for _, target := range []string{"salesforce", "zendesk"} {
		e, ok, err := p.Next(target, t0)
		if err != nil || !ok {
			t.Fatalf("Next(%s) = %v, %v", target, ok, err)
		}
		if e.IdempotencyKey != IdempotencyKey("a1", l.Key, target) || e.AgentID != "a1" || e.CallKey != l.Key || e.State != StatePending {
			t.Errorf("entry %+v", e)
		}
		pl, err := e.Log()
		if err != nil || pl.Key != l.Key || pl.Notes != l.Notes {
			t.Errorf("payload %+v, %v", pl, err)
		}
	}
}

func TestSaveCallLogIdempotent(t *testing.T) {
	db, _ := openTest(t)
	sink := newSink()
	c := db.NewCallLogger("crm")
	c.Attach(sink)
	l := mkLog("a1", 7, "out", t0)
	for i := range 3 {
		if in := saveSync(t, c, sink, l); in != (domain.CallLogSaved{Key: l.Key}) {
			t.Fatalf("save %d posted %#v", i, in)
		}
	}
	p, _ := db.Profile("a1")
	if n, _ := p.HistoryLen(); n != 1 {
		t.Errorf("history has %d calls, want 1", n)
	}
	if calls, _ := p.History(ViewAll, 0); len(calls) != 1 {
		t.Errorf("ViewAll has %d calls, want 1", len(calls))
	}
	if cnt, _ := p.Counts(); cnt.Pending != 1 {
		t.Errorf("outbox %+v, want 1 pending", cnt)
	}
}

func TestSaveCallLogRefused(t *testing.T) {
	db, _ := openTest(t)
	c := db.NewCallLogger()
	if err := c.SaveCallLog(mkLog("a1", 1, "in", t0)); !errors.Is(err, ErrNoSink) {
		t.Errorf("no sink: %v", err)
	}
	c.Attach(newSink())
	tests := []struct {
		name string
		edit func(*domain.CallLog)
	}{
		{"empty key", func(l *domain.CallLog) { l.Key = "" }},
		{"empty agent", func(l *domain.CallLog) { l.AgentID = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := mkLog("a1", 1, "in", t0)
			tt.edit(&l)
			if err := c.SaveCallLog(l); !errors.Is(err, ErrInvalidLog) {
				t.Errorf("SaveCallLog: %v, want ErrInvalidLog", err)
			}
		})
	}
}

// blockingSink blocks every Post until release is closed.
type blockingSink struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *blockingSink) Post(domain.Input) error {
	b.once.Do(func() { close(b.entered) })
	<-b.release
	return nil
}

func TestSaveCallLogQueueFullNeverBlocks(t *testing.T) {
	db, _ := openTest(t, WithQueueSize(2))
	bs := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	c := db.NewCallLogger()
	c.Attach(bs)
	if err := c.SaveCallLog(mkLog("a1", 0, "in", t0)); err != nil {
		t.Fatal(err)
	}
	<-bs.entered // the writer is stuck posting: nothing drains the queue
	// ... but it holds no transaction while posting: other writes proceed.
	wrote := make(chan error, 1)
	go func() {
		p, err := db.Profile("a1")
		if err == nil {
			err = p.PutSettings(map[string]string{"theme": "dark"})
		}
		wrote <- err
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a write transaction waited for the sink: the writer posts inside its transaction")
	}
	var full bool
	start := time.Now()
	for i := 1; i < 10; i++ {
		if err := c.SaveCallLog(mkLog("a1", i, "in", t0)); errors.Is(err, ErrQueueFull) {
			full = true
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if !full {
		t.Error("queue never reported full")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("SaveCallLog blocked for %v", d)
	}
	close(bs.release)
}

func TestSaveCallLogFailureIsolatedInBatch(t *testing.T) {
	db, _ := openTest(t)
	sink := newSink()
	good := db.NewCallLogger("crm")
	good.Attach(sink)
	bad := db.NewCallLogger("") // an empty target cannot be stored
	bad.Attach(sink)
	// Queue a mixture quickly so the writer groups them.
	var want []string
	for i := range 20 {
		c := good
		if i%5 == 0 {
			c = bad
		}
		l := mkLog("a1", i, "in", t0)
		if err := c.SaveCallLog(l); err != nil {
			t.Fatal(err)
		}
		if c == good {
			want = append(want, l.Key)
		}
	}
	saved, failed := 0, 0
	for range 20 {
		switch in := sink.wait(t).(type) {
		case domain.CallLogSaved:
			saved++
		case domain.CallLogFailed:
			failed++
			if in.Reason == "" {
				t.Error("empty failure reason")
			}
		default:
			t.Fatalf("posted %#v", in)
		}
	}
	if saved != 16 || failed != 4 {
		t.Errorf("saved %d failed %d, want 16 and 4", saved, failed)
	}
	p, _ := db.Profile("a1")
	for _, k := range want {
		if _, err := p.CallLog(k); err != nil {
			t.Errorf("%s: %v", k, err)
		}
	}
	if n, _ := p.HistoryLen(); n != 16 {
		t.Errorf("history %d, want 16 (failed logs leave nothing)", n)
	}
}

func TestCloseDrainsQueue(t *testing.T) {
	db, dir := openTest(t)
	sink := newSink()
	c := db.NewCallLogger("crm")
	c.Attach(sink)
	for i := range 50 {
		if err := c.SaveCallLog(mkLog("a1", i, "in", t0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(sink.ch); got != 50 {
		t.Fatalf("%d results posted before Close returned, want 50", got)
	}
	db2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	p, _ := db2.Profile("a1")
	if n, _ := p.HistoryLen(); n != 50 {
		t.Errorf("history %d after reopen, want 50", n)
	}
}
