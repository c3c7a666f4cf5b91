package outbox

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/store"
)

// queue is an in-memory, ordered view of one agent's due entries, so a
// batch is collected without rescanning the store; the store stays the
// authority (every transition is checked there).
type queue struct {
	items  []store.Entry
	single int // send this many next requests one by one (isolating a bad batch)
}

func (w *Worker) queue(agent string) *queue {
	w.mu.Lock()
	defer w.mu.Unlock()
	q := w.queues[agent]
	if q == nil {
		q = &queue{}
		w.queues[agent] = q
	}
	return q
}

func (w *Worker) refill(p *store.Profile, q *queue) error {
	q.items = q.items[:0]
	for _, st := range []store.EntryState{store.StatePending, store.StateAmbiguous} {
		es, err := p.Entries(st)
		if err != nil {
			return err
		}
		for _, e := range es {
			if e.ID.Target == w.target {
				q.items = append(q.items, e)
			}
		}
	}
	slices.SortFunc(q.items, func(a, b store.Entry) int { return cmp.Compare(a.ID.Seq, b.ID.Seq) })
	return nil
}

func (q *queue) remove(id store.EntryID) {
	q.items = slices.DeleteFunc(q.items, func(e store.Entry) bool { return e.ID == id })
}

func (q *queue) update(e store.Entry) {
	for i := range q.items {
		if q.items[i].ID == e.ID {
			q.items[i] = e
		}
	}
}

// drainAgent sends agent's due entries batch after batch. It returns how
// long until something is due again, and stop when the whole CRM is
// unavailable (offline, rate limited) so other agents wait too.
func (w *Worker) drainAgent(ctx context.Context, agent string, sess crm.Session) (time.Duration, bool) {
	p, err := w.db.Profile(agent)
	if err != nil {
		w.fail("open profile: "+err.Error(), nil)
		return w.poll, false
	}
	q := w.queue(agent)
	for ctx.Err() == nil {
		now := w.now()
		head, ok, err := p.Next(w.target, now)
		if err != nil {
			w.fail("read outbox: "+err.Error(), nil)
			return w.poll, false
		}
		if !ok {
			if len(q.items) > 0 && q.items[0].NextAttemptAt.After(now) {
				return q.items[0].NextAttemptAt.Sub(now), false
			}
			q.items = q.items[:0]
			return w.poll, false
		}
		if len(q.items) == 0 || q.items[0].ID != head.ID {
			if err := w.refill(p, q); err != nil {
				w.fail("read outbox: "+err.Error(), nil)
				return w.poll, false
			}
			q.items = slices.DeleteFunc(q.items, func(e store.Entry) bool { return e.ID.Seq < head.ID.Seq })
			if len(q.items) == 0 || q.items[0].ID != head.ID {
				q.items = append([]store.Entry{head}, q.items...)
			}
		}
		q.items[0] = head
		if wait := w.settle(head, now); wait > 0 {
			// A write that may have been applied (possibly by a process
			// that was killed) gets time to land before the read-first.
			return wait, false
		}
		n := w.batch
		if q.single > 0 {
			n = 1
			q.single--
		}
		batch := []store.Entry{head}
		for _, e := range q.items[1:] {
			if len(batch) >= n || e.NextAttemptAt.After(now) || w.settle(e, now) > 0 {
				break
			}
			batch = append(batch, e)
		}
		if wait, stop, halt := w.send(ctx, p, q, sess, batch); halt {
			return wait, stop
		}
	}
	return w.poll, true
}

// settle is how long an ambiguous entry must still wait since it became
// ambiguous (AmbiguousDelay), whoever marked it.
func (w *Worker) settle(e store.Entry, now time.Time) time.Duration {
	if e.State != store.StateAmbiguous {
		return 0
	}
	return e.UpdatedAt.Add(w.amb).Sub(now)
}

// send delivers one batch. halt ends this agent's drain for now.
func (w *Worker) send(ctx context.Context, p *store.Profile, q *queue, sess crm.Session, batch []store.Entry) (wait time.Duration, stop, halt bool) {
	items := make([]crm.LogItem, 0, len(batch))
	sent := make([]store.Entry, 0, len(batch))
	for _, e := range batch {
		if e.AgentID != sess.AgentID() {
			// Never with another agent's token; the store keeps entries
			// per agent, so this is corruption.
			w.dead(p, q, e, "the log belongs to agent "+e.AgentID+", not to "+sess.AgentID())
			continue
		}
		l, err := e.Log()
		if err != nil {
			w.dead(p, q, e, errCorrupt.Error()+": "+err.Error())
			continue
		}
		if err := p.MarkInFlight(e.ID); err != nil {
			if errors.Is(err, store.ErrBadTransition) || errors.Is(err, store.ErrNotFound) {
				q.remove(e.ID)
				continue
			}
			w.fail("write outbox: "+err.Error(), nil)
			for _, s := range sent {
				w.retry(p, q, s, err, w.now())
			}
			return w.poll, false, true
		}
		e.State = store.StateInFlight
		e.Attempts++
		sent = append(sent, e)
		items = append(items, crm.LogItem{Key: e.IdempotencyKey, AgentID: e.AgentID, MayExist: e.MayExist, Log: l})
	}
	if len(items) == 0 {
		return 0, false, false
	}
	rctx, cancel := context.WithTimeout(ctx, w.timeout)
	results, err := sess.LogCalls(rctx, items)
	cancel()
	if err == nil && len(results) != len(items) {
		err = &crm.Error{CRM: w.target, Kind: crm.KindAmbiguous, Message: "connector returned a result count that does not match"}
	}
	if err != nil {
		return w.batchFailed(p, q, sent, err)
	}
	for i, r := range results {
		w.itemDone(p, q, sent[i], r)
	}
	return 0, false, false
}

// batchFailed handles a request that failed as a whole.
func (w *Worker) batchFailed(p *store.Profile, q *queue, sent []store.Entry, err error) (time.Duration, bool, bool) {
	now := w.now()
	kind := crm.KindOf(err)
	w.fail(crm.MessageOf(err), err)
	switch kind {
	case crm.KindOffline:
		for _, e := range sent {
			w.retry(p, q, e, err, now)
		}
		w.setOffline(err)
		return w.base, true, true
	case crm.KindRateLimited:
		d := crm.RetryAfterOf(err)
		if d <= 0 {
			d = w.rate
		}
		until := now.Add(d)
		for _, e := range sent {
			w.retry(p, q, e, err, until)
		}
		w.mu.Lock()
		w.st.PausedUntil = until
		w.mu.Unlock()
		w.log.Warn("crm rate limit; pausing", "for", d)
		return d, true, true
	case crm.KindAuthRevoked:
		for _, e := range sent {
			w.retry(p, q, e, err, now)
		}
		w.dropSession(p.AgentID())
		w.log.Warn("crm sign-in needed; logs kept", "agent", p.AgentID())
		return w.poll, false, true
	case crm.KindPermanent, crm.KindStaleReference:
		if len(sent) > 1 {
			// Isolate the bad record: resend this batch one by one.
			for _, e := range sent {
				w.retry(p, q, e, err, now)
			}
			q.single = len(sent)
			return 0, false, false
		}
		w.dead(p, q, sent[0], crm.MessageOf(err))
		return 0, false, false
	case crm.KindAlreadyExists:
		for _, e := range sent {
			w.done(p, q, e)
		}
		return 0, false, false
	case crm.KindAmbiguous:
		var first time.Duration
		for i, e := range sent {
			at := now.Add(max(w.backoff(e.Attempts), w.amb))
			if i == 0 {
				first = at.Sub(now)
			}
			if mErr := p.MarkAmbiguous(e.ID, crm.MessageOf(err), at); mErr != nil {
				w.log.Error("outbox entry not marked ambiguous", "call_key", e.CallKey, "err", mErr)
				continue
			}
			e.State, e.MayExist, e.NextAttemptAt = store.StateAmbiguous, true, at
			q.update(e)
		}
		return first, false, true
	case crm.KindUnknown, crm.KindTransient, crm.KindAuthExpired:
	}
	d := w.backoff(sent[0].Attempts)
	for _, e := range sent {
		w.retry(p, q, e, err, now.Add(d))
	}
	return d, false, true
}

// itemDone handles one item's result.
func (w *Worker) itemDone(p *store.Profile, q *queue, e store.Entry, r crm.LogResult) {
	if r.Err == nil {
		w.done(p, q, e)
		return
	}
	now := w.now()
	switch crm.KindOf(r.Err) {
	case crm.KindAlreadyExists:
		w.done(p, q, e)
	case crm.KindPermanent, crm.KindStaleReference:
		w.fail(crm.MessageOf(r.Err), r.Err)
		w.dead(p, q, e, crm.MessageOf(r.Err))
	case crm.KindAmbiguous:
		at := now.Add(max(w.backoff(e.Attempts), w.amb))
		if err := p.MarkAmbiguous(e.ID, crm.MessageOf(r.Err), at); err == nil {
			e.State, e.MayExist, e.NextAttemptAt = store.StateAmbiguous, true, at
			q.update(e)
		}
	case crm.KindRateLimited:
		d := crm.RetryAfterOf(r.Err)
		if d <= 0 {
			d = w.rate
		}
		w.retry(p, q, e, r.Err, now.Add(d))
	case crm.KindUnknown, crm.KindTransient, crm.KindAuthExpired, crm.KindAuthRevoked, crm.KindOffline:
		w.fail(crm.MessageOf(r.Err), r.Err)
		w.retry(p, q, e, r.Err, now.Add(w.backoff(e.Attempts)))
	}
}

func (w *Worker) done(p *store.Profile, q *queue, e store.Entry) {
	if err := p.MarkDone(e.ID); err != nil {
		w.log.Error("outbox entry not marked done", "call_key", e.CallKey, "err", err)
		return
	}
	q.remove(e.ID)
	w.mu.Lock()
	w.st.LastSuccess = w.now()
	w.st.Pending = max(w.st.Pending-1, 0)
	w.mu.Unlock()
}

func (w *Worker) retry(p *store.Profile, q *queue, e store.Entry, cause error, at time.Time) {
	if err := p.MarkRetry(e.ID, crm.MessageOf(cause), at); err != nil {
		w.log.Error("outbox entry not rescheduled", "call_key", e.CallKey, "err", err)
		return
	}
	e.State, e.NextAttemptAt = store.StatePending, at
	if e.MayExist {
		e.State = store.StateAmbiguous
	}
	q.update(e)
}

func (w *Worker) dead(p *store.Profile, q *queue, e store.Entry, msg string) {
	if err := p.MarkDead(e.ID, msg); err != nil {
		w.log.Error("outbox entry not dead-lettered", "call_key", e.CallKey, "err", err)
		return
	}
	q.remove(e.ID)
	w.log.Warn("call log dead-lettered", "call_key", e.CallKey, "agent", e.AgentID)
	w.mu.Lock()
	w.st.Dead++
	w.st.Pending = max(w.st.Pending-1, 0)
	w.mu.Unlock()
	w.changed()
}
