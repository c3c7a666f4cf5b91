package outbox

import (
	"context"
	"errors"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/store"
)

// drainAgent sends agent's due entries batch after batch. The store is the
// only queue: each batch costs one read transaction (store.NextDue), one
// write transaction marking it in flight and one recording its results,
// whatever its size. Entries go in queue order, except that a log waiting
// out its ambiguity (AmbiguousDelay, so a write that may have been
// applied lands before the read-first replay) is passed by the logs
// behind it: exactly-once holds per log, so nothing needs strict order
// across logs. After a request that failed as a whole with an ambiguous
// outcome (the CRM may be slow for everyone) the agent's drain backs off
// before the next request. It returns how long until something is due
// again, and stop when the whole CRM is unavailable (offline, rate
// limited) so other agents wait too.
func (w *Worker) drainAgent(ctx context.Context, agent string, sess crm.Session) (time.Duration, bool) {
	p, err := w.db.Profile(agent)
	if err != nil {
		w.fail("open profile: "+err.Error(), nil)
		return w.poll, false
	}
	for ctx.Err() == nil {
		now := w.now()
		if until := w.heldUntil(agent); now.Before(until) {
			return until.Sub(now), false
		}
		n, single := w.batch, w.takeSingle(agent)
		if single {
			n = 1
		}
		batch, nextAt, err := p.NextDue(w.target, now, n, w.amb)
		if err != nil {
			w.fail("read outbox: "+err.Error(), nil)
			return w.poll, false
		}
		if len(batch) == 0 {
			w.giveBackSingle(agent, single)
			if !nextAt.IsZero() {
				return max(nextAt.Sub(now), time.Millisecond), false
			}
			return w.poll, false
		}
		if wait, stop, halt := w.send(ctx, p, sess, batch); halt {
			return wait, stop
		}
	}
	return w.poll, true
}

// takeSingle reports whether the next request must carry one log only
// (isolating the bad record of a refused batch) and counts it.
func (w *Worker) takeSingle(agent string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.single[agent] > 0 {
		w.single[agent]--
		return true
	}
	return false
}

// giveBackSingle returns a one-by-one turn that sent nothing.
func (w *Worker) giveBackSingle(agent string, single bool) {
	if !single {
		return
	}
	w.mu.Lock()
	w.single[agent]++
	w.mu.Unlock()
}

// heldUntil is when agent's drain may send again after a request that
// failed as a whole with an ambiguous outcome.
func (w *Worker) heldUntil(agent string) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hold[agent]
}

// send delivers one batch. halt ends this agent's drain for now.
func (w *Worker) send(ctx context.Context, p *store.Profile, sess crm.Session, batch []store.Entry) (wait time.Duration, stop, halt bool) {
	changes := make([]store.Change, 0, len(batch))
	items := make([]crm.LogItem, 0, len(batch))
	for _, e := range batch {
		if e.AgentID != sess.AgentID() {
			// Never with another agent's token; the store keeps entries
			// per agent, so this is corruption.
			changes = append(changes, store.Change{ID: e.ID, To: store.StateDead,
				LastError: "the log belongs to agent " + e.AgentID + ", not to " + sess.AgentID()})
			items = append(items, crm.LogItem{})
			continue
		}
		l, err := e.Log()
		if err != nil {
			changes = append(changes, store.Change{ID: e.ID, To: store.StateDead, LastError: errCorrupt.Error() + ": " + err.Error()})
			items = append(items, crm.LogItem{})
			continue
		}
		changes = append(changes, store.Change{ID: e.ID, To: store.StateInFlight})
		items = append(items, crm.LogItem{Key: e.IdempotencyKey, AgentID: e.AgentID, MayExist: e.MayExist, Log: l})
	}
	// One transaction: the whole batch is durably in flight (a crash from
	// here on leaves it ambiguous) before the request.
	res, err := p.Transition(changes)
	if err != nil {
		w.fail("write outbox: "+err.Error(), nil)
		return w.poll, false, true
	}
	var sent []store.Entry
	var send []crm.LogItem
	for i, r := range res {
		switch {
		case r.Err != nil:
			// Changed meanwhile (resent, purged): the store decides.
			if !errors.Is(r.Err, store.ErrBadTransition) && !errors.Is(r.Err, store.ErrNotFound) {
				w.log.Error("outbox entry not updated", "call_key", batch[i].CallKey, "err", r.Err)
			}
		case changes[i].To == store.StateDead:
			w.deadLettered(r.Entry)
		default:
			sent = append(sent, r.Entry)
			send = append(send, items[i])
		}
	}
	if len(send) == 0 {
		return 0, false, false
	}
	rctx, cancel := context.WithTimeout(ctx, w.timeout)
	results, err := sess.LogCalls(rctx, send)
	cancel()
	if err == nil && len(results) != len(send) {
		err = &crm.Error{CRM: w.target, Kind: crm.KindAmbiguous, Message: "connector returned a result count that does not match"}
	}
	if err != nil {
		return w.batchFailed(p, sent, err)
	}
	now := w.now()
	out := make([]store.Change, len(sent))
	for i, r := range results {
		out[i] = w.itemChange(sent[i], r, now)
	}
	w.record(p, out)
	return 0, false, false
}

// batchFailed handles a request that failed as a whole.
func (w *Worker) batchFailed(p *store.Profile, sent []store.Entry, err error) (time.Duration, bool, bool) {
	now := w.now()
	kind := crm.KindOf(err)
	msg := crm.MessageOf(err)
	w.fail(msg, err)
	all := func(to store.EntryState, at time.Time) []store.Change {
		cs := make([]store.Change, len(sent))
		for i, e := range sent {
			cs[i] = store.Change{ID: e.ID, To: to, LastError: msg, NextAt: at}
		}
		return cs
	}
	switch kind {
	case crm.KindOffline:
		w.record(p, all(store.StatePending, now))
		w.setOffline(err)
		return w.base, true, true
	case crm.KindRateLimited:
		d := crm.RetryAfterOf(err)
		if d <= 0 {
			d = w.rate
		}
		until := now.Add(d)
		w.record(p, all(store.StatePending, until))
		w.mu.Lock()
		w.st.PausedUntil = until
		w.mu.Unlock()
		w.log.Warn("crm rate limit; pausing", "for", d)
		return d, true, true
	case crm.KindAuthRevoked:
		w.record(p, all(store.StatePending, now))
		w.dropSession(p.AgentID())
		w.log.Warn("crm sign-in needed; logs kept", "agent", p.AgentID())
		return w.poll, false, true
	case crm.KindPermanent, crm.KindStaleReference:
		if len(sent) > 1 {
			// Isolate the bad record: resend this batch one by one.
			w.record(p, all(store.StatePending, now))
			w.mu.Lock()
			w.single[p.AgentID()] = len(sent)
			w.mu.Unlock()
			return 0, false, false
		}
		w.record(p, all(store.StateDead, time.Time{}))
		return 0, false, false
	case crm.KindAlreadyExists:
		w.record(p, all(store.StateDone, time.Time{}))
		return 0, false, false
	case crm.KindAmbiguous:
		cs := make([]store.Change, len(sent))
		for i, e := range sent {
			cs[i] = store.Change{ID: e.ID, To: store.StateAmbiguous, LastError: msg, NextAt: now.Add(max(w.backoff(e.Attempts), w.amb))}
		}
		w.record(p, cs)
		// The logs behind may pass these once they wait out their
		// ambiguity, but not at once: the CRM did not answer this request.
		d := w.backoff(sent[0].Attempts)
		w.mu.Lock()
		w.hold[p.AgentID()] = now.Add(d)
		w.mu.Unlock()
		return d, false, true
	case crm.KindUnknown, crm.KindTransient, crm.KindAuthExpired:
	}
	d := w.backoff(sent[0].Attempts)
	w.record(p, all(store.StatePending, now.Add(d)))
	return d, false, true
}

// itemChange is the store change for one item's result.
func (w *Worker) itemChange(e store.Entry, r crm.LogResult, now time.Time) store.Change {
	if r.Err == nil {
		return store.Change{ID: e.ID, To: store.StateDone}
	}
	msg := crm.MessageOf(r.Err)
	switch crm.KindOf(r.Err) {
	case crm.KindAlreadyExists:
		return store.Change{ID: e.ID, To: store.StateDone}
	case crm.KindPermanent, crm.KindStaleReference:
		w.fail(msg, r.Err)
		return store.Change{ID: e.ID, To: store.StateDead, LastError: msg}
	case crm.KindAmbiguous:
		return store.Change{ID: e.ID, To: store.StateAmbiguous, LastError: msg, NextAt: now.Add(max(w.backoff(e.Attempts), w.amb))}
	case crm.KindRateLimited:
		d := crm.RetryAfterOf(r.Err)
		if d <= 0 {
			d = w.rate
		}
		return store.Change{ID: e.ID, To: store.StatePending, LastError: msg, NextAt: now.Add(d)}
	case crm.KindUnknown, crm.KindTransient, crm.KindAuthExpired, crm.KindAuthRevoked, crm.KindOffline:
	}
	w.fail(msg, r.Err)
	return store.Change{ID: e.ID, To: store.StatePending, LastError: msg, NextAt: now.Add(w.backoff(e.Attempts))}
}

// record writes a batch's results in one transaction and updates the
// status. If the transaction fails the entries stay in flight in the
// store; they are not resent by this worker until the app restarts and
// the store turns them ambiguous (replayed idempotently), so nothing is
// lost or duplicated.
func (w *Worker) record(p *store.Profile, cs []store.Change) {
	res, err := p.Transition(cs)
	if err != nil {
		w.log.Error("outbox results not recorded", "entries", len(cs), "err", err)
		w.fail("write outbox: "+err.Error(), nil)
		return
	}
	done := 0
	for i, r := range res {
		if r.Err != nil {
			w.log.Error("outbox entry not updated", "seq", cs[i].ID.Seq, "to", cs[i].To.String(), "err", r.Err)
			continue
		}
		switch r.Entry.State {
		case store.StateDone:
			done++
		case store.StateDead:
			w.deadLettered(r.Entry)
		case store.StateUnknown, store.StatePending, store.StateInFlight, store.StateAmbiguous:
		}
	}
	if done > 0 {
		w.mu.Lock()
		w.st.LastSuccess = w.now()
		w.st.Pending = max(w.st.Pending-done, 0)
		w.mu.Unlock()
	}
}

// deadLettered accounts for an entry that was just dead-lettered.
func (w *Worker) deadLettered(e store.Entry) {
	w.log.Warn("call log dead-lettered", "call_key", e.CallKey, "agent", e.AgentID)
	w.mu.Lock()
	w.st.Dead++
	w.st.Pending = max(w.st.Pending-1, 0)
	w.mu.Unlock()
	w.changed()
}
