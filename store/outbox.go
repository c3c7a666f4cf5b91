package store

import (
	"crypto/sha1" //nolint:gosec // UUIDv5 is defined over SHA-1; not used for security
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/callcentre/softphone/agent/domain"
)

// EntryState is the state of an outbox entry. The numbers are persisted and
// must never be renumbered.
type EntryState uint8

// EntryState values.
const (
	StateUnknown   EntryState = 0
	StatePending   EntryState = 1 // waiting for its next attempt
	StateInFlight  EntryState = 2 // a request is under way
	StateAmbiguous EntryState = 3 // a request may have been applied: replay through the idempotent path only
	StateDone      EntryState = 4 // the CRM has the log
	StateDead      EntryState = 5 // permanent failure; waits for Resend
)

// String names the state.
func (s EntryState) String() string {
	switch s {
	case StateUnknown:
		return "unknown"
	case StatePending:
		return "pending"
	case StateInFlight:
		return "in-flight"
	case StateAmbiguous:
		return "ambiguous"
	case StateDone:
		return "done"
	case StateDead:
		return "dead"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// EntryID identifies an outbox entry inside a profile.
type EntryID struct {
	Target string `json:"target"`
	Seq    uint64 `json:"seq"`
}

// Entry is one call log queued for one CRM target. It belongs to the
// profile of AgentID and must only ever be sent with that agent's token.
type Entry struct {
	ID EntryID `json:"id"`
	// IdempotencyKey is derived from agent, call key and target (a UUIDv5)
	// and stored before any network call; send it on every attempt.
	IdempotencyKey string     `json:"idempotency_key"`
	AgentID        string     `json:"agent_id"`
	CallKey        string     `json:"call_key"`
	State          EntryState `json:"state"`
	// MayExist is set once the entry has been ambiguous: every later
	// attempt must use the CRM's idempotent path (upsert, read first).
	MayExist      bool            `json:"may_exist"`
	Attempts      int             `json:"attempts"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	NextAttemptAt time.Time       `json:"next_attempt_at"`
	LastError     string          `json:"last_error,omitempty"`
	Payload       json.RawMessage `json:"payload"` // the domain.CallLog as JSON
}

// Log decodes the payload.
func (e Entry) Log() (domain.CallLog, error) {
	var l domain.CallLog
	if err := json.Unmarshal(e.Payload, &l); err != nil {
		return domain.CallLog{}, fmt.Errorf("decode outbox payload: %w", err)
	}
	return l, nil
}

// idempotencyNamespace is the UUIDv5 namespace of outbox keys.
var idempotencyNamespace = [16]byte{0x6f, 0x1c, 0x3e, 0x55, 0x2b, 0x8d, 0x4f, 0x0a, 0x9e, 0x21, 0x7c, 0x44, 0xd3, 0x90, 0x5b, 0x18}

// IdempotencyKey derives the key of a call log for one CRM target: a UUIDv5
// of agentID|callKey|target, the same on every retry and restart.
func IdempotencyKey(agentID, callKey, target string) string {
	h := sha1.New() //nolint:gosec // see import
	h.Write(idempotencyNamespace[:])
	h.Write([]byte(agentID + "|" + callKey + "|" + target))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = (u[6] & 0x0f) | 0x50
	u[8] = (u[8] & 0x3f) | 0x80
	s := hex.EncodeToString(u[:])
	return s[0:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

func targetBucket(outbox *bolt.Bucket, target string, create bool) (*bolt.Bucket, error) {
	if !create {
		tb := outbox.Bucket([]byte(target))
		if tb == nil {
			return nil, fmt.Errorf("outbox target %w", ErrNotFound)
		}
		return tb, nil
	}
	if target == "" {
		return nil, fmt.Errorf("empty outbox target")
	}
	tb, err := outbox.CreateBucketIfNotExists([]byte(target))
	if err != nil {
		return nil, err
	}
	for _, n := range [][]byte{bActive, bDead, bDone} {
		if _, err := tb.CreateBucketIfNotExists(n); err != nil {
			return nil, err
		}
	}
	return tb, nil
}

func enqueueEntry(outbox *bolt.Bucket, log domain.CallLog, target string, payload []byte, now time.Time) error {
	tb, err := targetBucket(outbox, target, true)
	if err != nil {
		return err
	}
	seq, err := tb.NextSequence()
	if err != nil {
		return err
	}
	e := Entry{
		ID:             EntryID{Target: target, Seq: seq},
		IdempotencyKey: IdempotencyKey(log.AgentID, log.Key, target),
		AgentID:        log.AgentID,
		CallKey:        log.Key,
		State:          StatePending,
		CreatedAt:      now,
		UpdatedAt:      now,
		NextAttemptAt:  now,
		Payload:        payload,
	}
	return putEntry(tb.Bucket(bActive), &e)
}

func putEntry(b *bolt.Bucket, e *Entry) error {
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode outbox entry: %w", err)
	}
	return b.Put(itob(e.ID.Seq), v)
}

func getEntry(b *bolt.Bucket, seq uint64) (Entry, bool, error) {
	v := b.Get(itob(seq))
	if v == nil {
		return Entry{}, false, nil
	}
	var e Entry
	if err := json.Unmarshal(v, &e); err != nil {
		return Entry{}, false, fmt.Errorf("decode outbox entry %d: %w", seq, err)
	}
	return e, true, nil
}

// recoverInFlight turns entries left in flight by a crash into ambiguous
// ones due now.
func recoverInFlight(outbox *bolt.Bucket, now time.Time) (int, error) {
	n := 0
	err := outbox.ForEachBucket(func(t []byte) error {
		act := outbox.Bucket(t).Bucket(bActive)
		if act == nil {
			return nil
		}
		var fix []Entry
		err := act.ForEach(func(k, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode outbox entry %d: %w", btoi(k), err)
			}
			if e.State == StateInFlight {
				fix = append(fix, e)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, e := range fix {
			e.State, e.MayExist = StateAmbiguous, true
			e.LastError = "interrupted: the app stopped during the request"
			e.UpdatedAt, e.NextAttemptAt = now, now
			if err := putEntry(act, &e); err != nil {
				return err
			}
		}
		n += len(fix)
		return nil
	})
	return n, err
}

// Next returns the entry of target to send now. The outbox is strictly
// ordered per target: it looks only at the oldest entry that is neither
// done nor dead, and returns it when it is pending or ambiguous and its
// next attempt time has come. While that entry is in flight or backing
// off, Next returns false and later entries wait.
func (p *Profile) Next(target string, now time.Time) (Entry, bool, error) {
	es, _, err := p.NextBatch(target, now, 1)
	if err != nil || len(es) == 0 {
		return Entry{}, false, err
	}
	return es[0], true, nil
}

// NextBatch returns up to limit entries of target to send now, in queue
// order: the oldest entry that is neither done nor dead and the entries
// right behind it, stopping at the first one that is not due (in flight,
// or its next attempt time has not come). It reads only those entries,
// in one read transaction. When the head itself is not due it returns no
// entries and the head's next attempt time (zero when the queue is empty
// or its head is in flight).
func (p *Profile) NextBatch(target string, now time.Time, limit int) ([]Entry, time.Time, error) {
	return p.nextBatch(target, now, limit, 0, false)
}

// NextDue is NextBatch for a drain that lets later entries pass an entry
// waiting out its ambiguity. Strict order is not needed for exactly-once
// delivery, which holds per entry (its own idempotency key; an ambiguous
// entry is only ever replayed through the idempotent path), so one
// ambiguous log no longer holds back every log behind it. An ambiguous
// entry is due once its next attempt time has come and settle has passed
// since it became ambiguous (UpdatedAt; the store makes entries a crash
// left in flight ambiguous at open, due at once, so settle gives a write
// that may have been applied time to land before the read-first replay);
// until then it is passed over. Any other entry that is not due (in
// flight, or pending and backing off) still stops the batch, as in
// NextBatch. With no entries it returns the earliest time something
// passed over or stopping the batch becomes due (zero when none: empty,
// or only in-flight entries ahead).
func (p *Profile) NextDue(target string, now time.Time, limit int, settle time.Duration) ([]Entry, time.Time, error) {
	return p.nextBatch(target, now, limit, settle, true)
}

// nextBatch is NextBatch (pass false) and NextDue (pass true).
func (p *Profile) nextBatch(target string, now time.Time, limit int, settle time.Duration, pass bool) ([]Entry, time.Time, error) {
	limit = max(limit, 1)
	var out []Entry
	var nextAt time.Time
	earliest := func(t time.Time) {
		if nextAt.IsZero() || t.Before(nextAt) {
			nextAt = t
		}
	}
	err := p.db.view(func(tx *bolt.Tx) error {
		ob, err := p.bucket(tx, bOutbox)
		if err != nil {
			return err
		}
		tb := ob.Bucket([]byte(target))
		if tb == nil {
			return nil
		}
		c := tb.Bucket(bActive).Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("decode outbox entry %d: %w", btoi(k), err)
			}
			if pass && e.State == StateAmbiguous {
				due := e.NextAttemptAt
				if settled := e.UpdatedAt.Add(settle); settled.After(due) {
					due = settled
				}
				if now.Before(due) {
					earliest(due) // passed over
					continue
				}
			}
			if (e.State != StatePending && e.State != StateAmbiguous) || now.Before(e.NextAttemptAt) {
				if len(out) == 0 && e.State != StateInFlight {
					earliest(e.NextAttemptAt)
				}
				return nil
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("read outbox: %w", err)
	}
	return out, nextAt, nil
}

// Change is one entry's transition in a Transition batch.
type Change struct {
	ID EntryID
	// To is the new state: StateInFlight (MarkInFlight), StateDone
	// (MarkDone), StatePending (MarkRetry: pending again, or ambiguous when
	// an earlier attempt may have reached the CRM), StateAmbiguous
	// (MarkAmbiguous) or StateDead (MarkDead).
	To EntryState
	// LastError is the failure (retry, ambiguous) or the CRM's message
	// (dead).
	LastError string
	// NextAt is the next attempt time (retry, ambiguous).
	NextAt time.Time
}

// ChangeResult is the outcome of one Change: the entry as stored after
// it, or Err (wrapping ErrBadTransition or ErrNotFound) when that change
// was refused and nothing happened to the entry.
type ChangeResult struct {
	Entry Entry
	Err   error
}

// apply checks and applies c to e with the rules of the single-entry
// methods.
func (c Change) apply(e *Entry) error {
	switch c.To {
	case StateInFlight:
		if err := want(e, StatePending, StateAmbiguous); err != nil {
			return err
		}
		e.State = StateInFlight
		e.Attempts++
	case StateDone:
		if err := want(e, StateInFlight); err != nil {
			return err
		}
		e.State, e.LastError = StateDone, ""
	case StatePending:
		if err := want(e, StateInFlight); err != nil {
			return err
		}
		e.State = StatePending
		if e.MayExist {
			e.State = StateAmbiguous
		}
		e.LastError, e.NextAttemptAt = c.LastError, c.NextAt
	case StateAmbiguous:
		if err := want(e, StateInFlight); err != nil {
			return err
		}
		e.State, e.MayExist = StateAmbiguous, true
		e.LastError, e.NextAttemptAt = c.LastError, c.NextAt
	case StateDead:
		if err := want(e, StateInFlight, StatePending, StateAmbiguous); err != nil {
			return err
		}
		e.State, e.LastError = StateDead, c.LastError
	case StateUnknown:
		return ErrBadTransition
	}
	return nil
}

// Transition applies a batch of changes in ONE write transaction (one
// fsync): the drain marks a whole batch in flight, then records the whole
// batch's results, at a constant cost per request instead of per entry.
// Each change follows the rules of its single-entry method; a refused
// change (ErrBadTransition, ErrNotFound) is reported in its result and
// the others still apply. The error is for the transaction as a whole:
// then nothing was applied.
func (p *Profile) Transition(changes []Change) ([]ChangeResult, error) {
	res := make([]ChangeResult, len(changes))
	if len(changes) == 0 {
		return res, nil
	}
	err := p.db.update(func(tx *bolt.Tx) error {
		ob, err := p.bucket(tx, bOutbox)
		if err != nil {
			return err
		}
		now := p.db.cfg.now()
		for i, c := range changes {
			res[i] = ChangeResult{}
			tb, err := targetBucket(ob, c.ID.Target, false)
			if err != nil {
				res[i].Err = fmt.Errorf("outbox entry %s/%d: %w", c.ID.Target, c.ID.Seq, ErrNotFound)
				continue
			}
			e, err := modifyIn(tb, c.ID, now, c.apply)
			if errors.Is(err, ErrBadTransition) || errors.Is(err, ErrNotFound) {
				res[i].Err = err
				continue
			}
			if err != nil {
				return err
			}
			res[i].Entry = e
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("update outbox: %w", err)
	}
	return res, nil
}

// modify applies fn to the entry id, wherever it is, and moves it to the
// bucket its new state belongs in.
func (p *Profile) modify(id EntryID, fn func(e *Entry) error) error {
	err := p.db.update(func(tx *bolt.Tx) error {
		ob, err := p.bucket(tx, bOutbox)
		if err != nil {
			return err
		}
		tb, err := targetBucket(ob, id.Target, false)
		if err != nil {
			return err
		}
		_, err = modifyIn(tb, id, p.db.cfg.now(), fn)
		return err
	})
	if err != nil {
		return fmt.Errorf("update outbox: %w", err)
	}
	return nil
}

// modifyIn applies fn to the entry id of target bucket tb inside a write
// transaction and moves it to the bucket its new state belongs in.
func modifyIn(tb *bolt.Bucket, id EntryID, now time.Time, fn func(e *Entry) error) (Entry, error) {
	var src *bolt.Bucket
	var e Entry
	for _, n := range [][]byte{bActive, bDead, bDone} {
		got, found, err := getEntry(tb.Bucket(n), id.Seq)
		if err != nil {
			return Entry{}, err
		}
		if found {
			src, e = tb.Bucket(n), got
			break
		}
	}
	if src == nil {
		return Entry{}, fmt.Errorf("outbox entry %s/%d: %w", id.Target, id.Seq, ErrNotFound)
	}
	before := e.State
	if err := fn(&e); err != nil {
		return Entry{}, fmt.Errorf("outbox entry %s/%d is %s: %w", id.Target, id.Seq, before, err)
	}
	e.UpdatedAt = now
	dst := tb.Bucket(bActive)
	switch e.State {
	case StateDone:
		dst = tb.Bucket(bDone)
	case StateDead:
		dst = tb.Bucket(bDead)
	case StatePending, StateInFlight, StateAmbiguous, StateUnknown:
	}
	if dst != src {
		if err := src.Delete(itob(id.Seq)); err != nil {
			return Entry{}, err
		}
	}
	return e, putEntry(dst, &e)
}

func want(e *Entry, states ...EntryState) error {
	for _, s := range states {
		if e.State == s {
			return nil
		}
	}
	return ErrBadTransition
}

// MarkInFlight records that a request for the entry starts now (pending or
// ambiguous -> in flight) and counts the attempt. Commit it before the
// network call: a crash then leaves it ambiguous.
func (p *Profile) MarkInFlight(id EntryID) error {
	return p.modify(id, Change{ID: id, To: StateInFlight}.apply)
}

// MarkDone records success (in flight -> done).
func (p *Profile) MarkDone(id EntryID) error {
	return p.modify(id, Change{ID: id, To: StateDone}.apply)
}

// MarkRetry records a failure that certainly did not reach the CRM (in
// flight -> pending, or ambiguous when an earlier attempt may have).
func (p *Profile) MarkRetry(id EntryID, lastErr string, nextAt time.Time) error {
	return p.modify(id, Change{ID: id, To: StatePending, LastError: lastErr, NextAt: nextAt}.apply)
}

// MarkAmbiguous records a failure after which the CRM may have applied the
// request (timeout, reset after sending): in flight -> ambiguous.
func (p *Profile) MarkAmbiguous(id EntryID, lastErr string, nextAt time.Time) error {
	return p.modify(id, Change{ID: id, To: StateAmbiguous, LastError: lastErr, NextAt: nextAt}.apply)
}

// MarkDead dead-letters the entry after a permanent failure; it stays until
// Resend and no longer blocks the target's queue.
func (p *Profile) MarkDead(id EntryID, msg string) error {
	return p.modify(id, Change{ID: id, To: StateDead, LastError: msg}.apply)
}

// Resend puts a dead entry back in its original place in the queue
// (dead -> pending, or ambiguous if it may exist) with a fresh attempt
// count, due now.
func (p *Profile) Resend(id EntryID) error {
	return p.modify(id, func(e *Entry) error {
		if err := want(e, StateDead); err != nil {
			return err
		}
		e.State = StatePending
		if e.MayExist {
			e.State = StateAmbiguous
		}
		e.Attempts = 0
		e.NextAttemptAt = p.db.cfg.now()
		return nil
	})
}

// Entry returns one outbox entry wherever it is.
func (p *Profile) Entry(id EntryID) (Entry, error) {
	var e Entry
	err := p.db.view(func(tx *bolt.Tx) error {
		ob, err := p.bucket(tx, bOutbox)
		if err != nil {
			return err
		}
		tb, err := targetBucket(ob, id.Target, false)
		if err != nil {
			return err
		}
		for _, n := range [][]byte{bActive, bDead, bDone} {
			got, found, err := getEntry(tb.Bucket(n), id.Seq)
			if err != nil {
				return err
			}
			if found {
				e = got
				return nil
			}
		}
		return ErrNotFound
	})
	if err != nil {
		return Entry{}, fmt.Errorf("read outbox entry: %w", err)
	}
	return e, nil
}

// OutboxCounts counts a profile's outbox entries by state.
type OutboxCounts struct {
	Pending, InFlight, Ambiguous, Done, Dead int
}

// Queued is the number of entries still to be delivered (pending, in
// flight or ambiguous).
func (c OutboxCounts) Queued() int { return c.Pending + c.InFlight + c.Ambiguous }

// Counts counts the profile's outbox entries over every target.
func (p *Profile) Counts() (OutboxCounts, error) {
	var c OutboxCounts
	err := p.db.view(func(tx *bolt.Tx) error {
		ob, err := p.bucket(tx, bOutbox)
		if err != nil {
			return err
		}
		return ob.ForEachBucket(func(t []byte) error {
			tb := ob.Bucket(t)
			c.Done += tb.Bucket(bDone).Stats().KeyN
			c.Dead += tb.Bucket(bDead).Stats().KeyN
			return tb.Bucket(bActive).ForEach(func(k, v []byte) error {
				var e struct {
					State EntryState `json:"state"`
				}
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("decode outbox entry %d: %w", btoi(k), err)
				}
				switch e.State {
				case StatePending:
					c.Pending++
				case StateInFlight:
					c.InFlight++
				case StateAmbiguous:
					c.Ambiguous++
				case StateUnknown, StateDone, StateDead:
					return fmt.Errorf("outbox entry %d in state %s among active entries", btoi(k), e.State)
				}
				return nil
			})
		})
	})
	if err != nil {
		return OutboxCounts{}, fmt.Errorf("count outbox: %w", err)
	}
	return c, nil
}

// TargetCounts counts one target's entries.
type TargetCounts struct {
	Queued int // pending, in flight or ambiguous: still to deliver
	Dead   int
	Done   int
}

// CountTarget counts target's entries from the bucket sizes alone, without
// decoding a single entry, so the outbox worker can refresh its status
// while it drains thousands of entries (Counts decodes every queued entry
// to split it by state).
func (p *Profile) CountTarget(target string) (TargetCounts, error) {
	var c TargetCounts
	err := p.db.view(func(tx *bolt.Tx) error {
		ob, err := p.bucket(tx, bOutbox)
		if err != nil {
			return err
		}
		tb := ob.Bucket([]byte(target))
		if tb == nil {
			return nil
		}
		c.Queued = tb.Bucket(bActive).Stats().KeyN
		c.Dead = tb.Bucket(bDead).Stats().KeyN
		c.Done = tb.Bucket(bDone).Stats().KeyN
		return nil
	})
	if err != nil {
		return TargetCounts{}, fmt.Errorf("count outbox: %w", err)
	}
	return c, nil
}

// Entries lists the outbox entries of the given state over every target,
// oldest first per target (targets in name order).
func (p *Profile) Entries(state EntryState) ([]Entry, error) {
	src := bActive
	switch state {
	case StateDone:
		src = bDone
	case StateDead:
		src = bDead
	case StatePending, StateInFlight, StateAmbiguous, StateUnknown:
	}
	var out []Entry
	err := p.db.view(func(tx *bolt.Tx) error {
		ob, err := p.bucket(tx, bOutbox)
		if err != nil {
			return err
		}
		return ob.ForEachBucket(func(t []byte) error {
			return ob.Bucket(t).Bucket(src).ForEach(func(k, v []byte) error {
				var e Entry
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("decode outbox entry %d: %w", btoi(k), err)
				}
				if e.State == state {
					out = append(out, e)
				}
				return nil
			})
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	return out, nil
}

// DeadLetters lists the dead entries over every target.
func (p *Profile) DeadLetters() ([]Entry, error) { return p.Entries(StateDead) }

// OutboxTargets lists the CRM targets the profile has entries for.
func (p *Profile) OutboxTargets() ([]string, error) {
	var ts []string
	err := p.db.view(func(tx *bolt.Tx) error {
		ob, err := p.bucket(tx, bOutbox)
		if err != nil {
			return err
		}
		return ob.ForEachBucket(func(t []byte) error {
			ts = append(ts, string(t))
			return nil
		})
	})
	return ts, err
}

// PurgeDoneBefore deletes delivered entries updated before cutoff.
func (p *Profile) PurgeDoneBefore(cutoff time.Time) (int, error) {
	n := 0
	err := p.db.update(func(tx *bolt.Tx) error {
		ob, err := p.bucket(tx, bOutbox)
		if err != nil {
			return err
		}
		return ob.ForEachBucket(func(t []byte) error {
			done := ob.Bucket(t).Bucket(bDone)
			var del [][]byte
			err := done.ForEach(func(k, v []byte) error {
				var e Entry
				if err := json.Unmarshal(v, &e); err != nil {
					return fmt.Errorf("decode outbox entry %d: %w", btoi(k), err)
				}
				if e.UpdatedAt.Before(cutoff) {
					del = append(del, append([]byte(nil), k...))
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range del {
				if err := done.Delete(k); err != nil {
					return err
				}
			}
			n += len(del)
			return nil
		})
	})
	return n, err
}

// OutboxAgents lists the agents whose outbox still holds entries to
// deliver, so the outbox worker drains each with that agent's own token.
func (db *DB) OutboxAgents() ([]string, error) {
	var ids []string
	err := db.view(func(tx *bolt.Tx) error {
		ps := tx.Bucket(bProfiles)
		return ps.ForEachBucket(func(agent []byte) error {
			ob := ps.Bucket(agent).Bucket(bOutbox)
			found := false
			err := ob.ForEachBucket(func(t []byte) error {
				if k, _ := ob.Bucket(t).Bucket(bActive).Cursor().First(); k != nil {
					found = true
				}
				return nil
			})
			if found {
				ids = append(ids, string(agent))
			}
			return err
		})
	})
	sort.Strings(ids)
	return ids, err
}
