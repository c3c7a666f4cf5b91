package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/callcentre/softphone/agent/domain"
)

// View selects which calls History returns.
type View uint8

// View values.
const (
	ViewUnknown  View = 0
	ViewAll      View = 1 // every call
	ViewMissed   View = 2 // inbound calls the agent never answered
	ViewIncoming View = 3 // inbound calls that were not missed
	ViewOutgoing View = 4 // outbound calls
)

// String names the view.
func (v View) String() string {
	switch v {
	case ViewUnknown:
		return "unknown"
	case ViewAll:
		return "all"
	case ViewMissed:
		return "missed"
	case ViewIncoming:
		return "incoming"
	case ViewOutgoing:
		return "outgoing"
	}
	return fmt.Sprintf("view(%d)", uint8(v))
}

// Call is one stored call log.
type Call struct {
	Seq     uint64    // position in the profile's history (save order)
	SavedAt time.Time // when the store committed it
	Log     domain.CallLog
}

const (
	flagMissed   byte = 1
	flagIncoming byte = 2
	flagOutgoing byte = 4
)

func viewFlags(l *domain.CallLog) byte {
	switch {
	case l.Missed:
		return flagMissed
	case l.Direction == domain.DirectionInbound:
		return flagIncoming
	case l.Direction == domain.DirectionOutbound:
		return flagOutgoing
	}
	return 0
}

// historyTime is the time retention is measured from.
func historyTime(rec *historyRecord) time.Time {
	for _, t := range []time.Time{rec.Log.EndedAt, rec.Log.WrappedAt, rec.Log.StartedAt} {
		if !t.IsZero() {
			return t
		}
	}
	return rec.SavedAt
}

func timeKey(t time.Time, seq uint64) []byte {
	k := make([]byte, 16)
	copy(k, itob(uint64(max(t.UnixNano(), 0))))
	copy(k[8:], itob(seq))
	return k
}

// indexHistory adds the record at seq to the key, time and view indexes.
func indexHistory(p *bolt.Bucket, seq uint64, rec *historyRecord) error {
	sk := itob(seq)
	if err := p.Bucket(bHKey).Put([]byte(rec.Log.Key), sk); err != nil {
		return err
	}
	f := viewFlags(&rec.Log)
	if err := p.Bucket(bHTime).Put(timeKey(historyTime(rec), seq), append([]byte{f}, rec.Log.Key...)); err != nil {
		return err
	}
	if vb := viewBucket(f); vb != nil {
		return p.Bucket(vb).Put(sk, nil)
	}
	return nil
}

func viewBucket(f byte) []byte {
	switch f {
	case flagMissed:
		return bVMissed
	case flagIncoming:
		return bVIn
	case flagOutgoing:
		return bVOut
	}
	return nil
}

// History returns the newest calls of a view, newest first. limit <= 0
// uses the configured default (30 for ViewAll, 10 for the others).
func (p *Profile) History(v View, limit int) ([]Call, error) {
	var idx []byte
	switch v {
	case ViewAll:
		if limit <= 0 {
			limit = p.db.cfg.allLimit
		}
	case ViewMissed, ViewIncoming, ViewOutgoing:
		idx = map[View][]byte{ViewMissed: bVMissed, ViewIncoming: bVIn, ViewOutgoing: bVOut}[v]
		if limit <= 0 {
			limit = p.db.cfg.viewLimit
		}
	case ViewUnknown:
		return nil, fmt.Errorf("history view %s: %w", v, ErrNotFound)
	default:
		return nil, fmt.Errorf("history view %s: %w", v, ErrNotFound)
	}
	calls := make([]Call, 0, limit)
	err := p.db.view(func(tx *bolt.Tx) error {
		h, err := p.bucket(tx, bHistory)
		if err != nil {
			return err
		}
		src := h
		if idx != nil {
			if src, err = p.bucket(tx, idx); err != nil {
				return err
			}
		}
		c := src.Cursor()
		for k, val := c.Last(); k != nil && len(calls) < limit; k, val = c.Prev() {
			if idx != nil {
				val = h.Get(k)
				if val == nil {
					return fmt.Errorf("view index points at missing history record %d", btoi(k))
				}
			}
			call, err := decodeCall(k, val)
			if err != nil {
				return err
			}
			calls = append(calls, call)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s history: %w", v, err)
	}
	return calls, nil
}

func decodeCall(k, v []byte) (Call, error) {
	var rec historyRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return Call{}, fmt.Errorf("decode history record %d: %w", btoi(k), err)
	}
	return Call{Seq: btoi(k), SavedAt: rec.SavedAt, Log: rec.Log}, nil
}

// CallLog returns the stored call with the given call key.
func (p *Profile) CallLog(key string) (Call, error) {
	var call Call
	err := p.db.view(func(tx *bolt.Tx) error {
		hk, err := p.bucket(tx, bHKey)
		if err != nil {
			return err
		}
		seq := hk.Get([]byte(key))
		if seq == nil {
			return ErrNotFound
		}
		h, err := p.bucket(tx, bHistory)
		if err != nil {
			return err
		}
		v := h.Get(seq)
		if v == nil {
			return fmt.Errorf("call-key index points at missing record: %w", ErrNotFound)
		}
		call, err = decodeCall(seq, v)
		return err
	})
	if err != nil {
		return Call{}, fmt.Errorf("read call log: %w", err)
	}
	return call, nil
}

// HistoryLen returns how many calls the profile's history holds.
func (p *Profile) HistoryLen() (int, error) {
	var n int
	err := p.db.view(func(tx *bolt.Tx) error {
		h, err := p.bucket(tx, bHKey)
		if err != nil {
			return err
		}
		n = h.Stats().KeyN
		return nil
	})
	return n, err
}

// PurgeHistoryBefore deletes every call whose end time is before cutoff and
// returns how many it deleted. Outbox entries are not touched.
func (p *Profile) PurgeHistoryBefore(cutoff time.Time) (int, error) {
	var n int
	err := p.db.update(func(tx *bolt.Tx) error {
		pb := tx.Bucket(bProfiles).Bucket([]byte(p.agent))
		if pb == nil {
			return fmt.Errorf("profile %w", ErrNotFound)
		}
		var err error
		n, err = purgeHistory(pb, cutoff)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge history: %w", err)
	}
	return n, nil
}

func purgeHistory(p *bolt.Bucket, cutoff time.Time) (int, error) {
	end := itob(uint64(max(cutoff.UnixNano(), 0)))
	ht := p.Bucket(bHTime)
	type victim struct{ tk, seq, key []byte }
	var vs []victim
	c := ht.Cursor()
	for k, v := c.First(); k != nil && string(k[:8]) < string(end); k, v = c.Next() {
		if len(k) != 16 || len(v) < 1 {
			return 0, fmt.Errorf("corrupt history time index")
		}
		vs = append(vs, victim{tk: append([]byte(nil), k...), seq: append([]byte(nil), k[8:]...), key: append([]byte(nil), v...)})
	}
	for _, v := range vs {
		if err := ht.Delete(v.tk); err != nil {
			return 0, err
		}
		if err := p.Bucket(bHistory).Delete(v.seq); err != nil {
			return 0, err
		}
		if err := p.Bucket(bHKey).Delete(v.key[1:]); err != nil {
			return 0, err
		}
		if vb := viewBucket(v.key[0]); vb != nil {
			if err := p.Bucket(vb).Delete(v.seq); err != nil {
				return 0, err
			}
		}
	}
	return len(vs), nil
}

// PurgeExpired applies the retention period (WithRetentionDays) to every
// profile's history and returns how many calls it deleted.
func (db *DB) PurgeExpired() (int, error) {
	if db.cfg.retentionDays <= 0 {
		return 0, nil
	}
	cutoff := db.cfg.now().AddDate(0, 0, -db.cfg.retentionDays)
	var n int
	err := db.update(func(tx *bolt.Tx) error {
		ps := tx.Bucket(bProfiles)
		return ps.ForEachBucket(func(agent []byte) error {
			m, err := purgeHistory(ps.Bucket(agent), cutoff)
			n += m
			return err
		})
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired history: %w", err)
	}
	if n > 0 {
		db.log.Info("expired call history purged", "count", n, "retention_days", db.cfg.retentionDays)
	}
	return n, nil
}
