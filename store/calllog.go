package store

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/callcentre/softphone/agent/domain"
)

// CallLogger implements domain.CallLogger on top of a DB. SaveCallLog only
// validates and enqueues: the DB's single writer goroutine commits the
// history record and one outbox entry per CRM target in one durable
// transaction, and only after the commit posts domain.CallLogSaved (or
// domain.CallLogFailed) to the attached sink.
type CallLogger struct {
	db *DB

	mu      sync.RWMutex
	sink    domain.EventSink
	targets []string
}

var _ domain.CallLogger = (*CallLogger)(nil)

// NewCallLogger returns a CallLogger that queues each log for the given CRM
// targets (names such as "salesforce"; none means history only). Attach
// the sink (the agent) before the first SaveCallLog.
func (db *DB) NewCallLogger(targets ...string) *CallLogger {
	return &CallLogger{db: db, targets: slices.Clone(targets)}
}

// Attach sets the sink CallLogSaved and CallLogFailed are posted to. The
// agent is built after its ports, so the sink is attached afterwards.
func (c *CallLogger) Attach(sink domain.EventSink) {
	c.mu.Lock()
	c.sink = sink
	c.mu.Unlock()
}

// SetTargets replaces the CRM targets used for logs saved from now on.
func (c *CallLogger) SetTargets(targets ...string) {
	c.mu.Lock()
	c.targets = slices.Clone(targets)
	c.mu.Unlock()
}

// SaveCallLog implements domain.CallLogger. It never blocks on disk: a
// synchronous error (closed store, full queue, invalid log, no sink) means
// the log was refused outright. Saving a key that is already stored is
// acknowledged without writing anything.
func (c *CallLogger) SaveCallLog(log domain.CallLog) error {
	if log.Key == "" {
		return fmt.Errorf("%w: empty key", ErrInvalidLog)
	}
	if err := checkAgent(log.AgentID); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidLog, err)
	}
	c.mu.RLock()
	sink, targets := c.sink, c.targets
	c.mu.RUnlock()
	if sink == nil {
		return ErrNoSink
	}
	return c.db.enqueue(saveReq{log: log, targets: targets, sink: sink})
}

type saveReq struct {
	log     domain.CallLog
	targets []string
	sink    domain.EventSink
	done    func(error) // tests and benchmarks: called after the post
}

func (db *DB) enqueue(r saveReq) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed {
		return ErrClosed
	}
	select {
	case db.reqs <- r:
		return nil
	default:
		return ErrQueueFull
	}
}

// writer is the single goroutine that commits call logs. It groups what is
// queued into one transaction (group commit), falls back to one
// transaction per log when a group fails, and posts the results only after
// the transaction returned, never while holding it.
func (db *DB) writer() {
	defer close(db.writerDone)
	batch := make([]saveReq, 0, db.cfg.maxBatch)
	for {
		select {
		case r := <-db.reqs:
			batch = append(batch[:0], r)
		fill:
			for len(batch) < db.cfg.maxBatch {
				select {
				case r := <-db.reqs:
					batch = append(batch, r)
				default:
					break fill
				}
			}
			db.commit(batch)
		case <-db.quit:
			for {
				select {
				case r := <-db.reqs:
					db.commit([]saveReq{r})
				default:
					return
				}
			}
		}
	}
}

func (db *DB) commit(batch []saveReq) {
	now := db.cfg.now()
	errs := make([]error, len(batch))
	err := db.writerUpdate(func(tx *bolt.Tx) error {
		for _, r := range batch {
			if err := saveLog(tx, r.log, r.targets, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		for i, r := range batch {
			errs[i] = db.writerUpdate(func(tx *bolt.Tx) error { return saveLog(tx, r.log, r.targets, now) })
		}
	} else {
		for i := range errs {
			errs[i] = err
		}
	}
	for i, r := range batch {
		var in domain.Input = domain.CallLogSaved{Key: r.log.Key}
		if errs[i] != nil {
			db.log.Error("call log not saved", "call_key", r.log.Key, "err", errs[i])
			in = domain.CallLogFailed{Key: r.log.Key, Reason: reason(errs[i])}
		}
		if err := r.sink.Post(in); err != nil {
			db.log.Debug("call log result not delivered", "call_key", r.log.Key, "err", err)
		}
		if r.done != nil {
			r.done(errs[i])
		}
	}
}

func reason(err error) string {
	return "the local database could not write: " + err.Error()
}

// historyRecord is the stored form of a call log.
type historyRecord struct {
	SavedAt time.Time      `json:"saved_at"`
	Log     domain.CallLog `json:"log"`
}

// saveLog writes one call log and its outbox entries unless the key is
// already stored (idempotent).
func saveLog(tx *bolt.Tx, log domain.CallLog, targets []string, now time.Time) error {
	p, err := ensureProfile(tx, log.AgentID)
	if err != nil {
		return err
	}
	if p.Bucket(bHKey).Get([]byte(log.Key)) != nil {
		return nil
	}
	rec := historyRecord{SavedAt: now, Log: log}
	payload, err := json.Marshal(log)
	if err != nil {
		return fmt.Errorf("encode call log: %w", err)
	}
	h := p.Bucket(bHistory)
	seq, err := h.NextSequence()
	if err != nil {
		return err
	}
	v, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode call log: %w", err)
	}
	if err := h.Put(itob(seq), v); err != nil {
		return err
	}
	if err := indexHistory(p, seq, &rec); err != nil {
		return err
	}
	if len(log.Recordings) > 0 {
		if err := addRecordings(p.Bucket(bRecordings), log.Key, log.Recordings, now); err != nil {
			return err
		}
	}
	for _, t := range targets {
		if err := enqueueEntry(p.Bucket(bOutbox), log, t, payload, now); err != nil {
			return err
		}
	}
	return nil
}
