package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Layout (schema version 2):
//
//	meta/
//	  schema            -> uint64 big-endian schema version
//	  machine           -> JSON MachineSettings
//	profiles/<agentID>/
//	  settings/  "v"    -> JSON settings of the agent
//	  history/   seq    -> JSON historyRecord (seq = NextSequence, big-endian)
//	  hkey/      callKey-> seq                  (idempotency index)
//	  htime/     t|seq  -> flags|callKey        (retention index, t = unix ns)
//	  vmissed/ vin/ vout/ seq -> nil            (view indexes)
//	  favorites/ number -> JSON Favorite
//	  contacts/  number -> JSON CachedContacts
//	  directory/ contactID -> JSON DirectoryContact  (local contact directory)
//	  dirphone/  number|0|contactID -> nil         (its phone index)
//	  recordings/ callKey -> JSON Recording
//	  outbox/<target>/
//	    active/ seq -> JSON Entry  (pending, in flight, ambiguous)
//	    dead/   seq -> JSON Entry
//	    done/   seq -> JSON Entry
//
// Version 1 had only settings and history (no indexes). The directory
// buckets were added in version 2 without a migration: Open creates
// missing profile buckets in every profile, and older builds ignore them.

const schemaVersion uint64 = 2

var (
	bMeta       = []byte("meta")
	bProfiles   = []byte("profiles")
	kSchema     = []byte("schema")
	kMachine    = []byte("machine")
	bSettings   = []byte("settings")
	kSettings   = []byte("v")
	bHistory    = []byte("history")
	bHKey       = []byte("hkey")
	bHTime      = []byte("htime")
	bVMissed    = []byte("vmissed")
	bVIn        = []byte("vin")
	bVOut       = []byte("vout")
	bFavorites  = []byte("favorites")
	bContacts   = []byte("contacts")
	bDirectory  = []byte("directory")
	bDirPhone   = []byte("dirphone")
	bRecordings = []byte("recordings")
	bOutbox     = []byte("outbox")
	bActive     = []byte("active")
	bDead       = []byte("dead")
	bDone       = []byte("done")

	profileBuckets = [][]byte{bSettings, bHistory, bHKey, bHTime, bVMissed, bVIn, bVOut,
		bFavorites, bContacts, bDirectory, bDirPhone, bRecordings, bOutbox}
)

// migration moves the database from version to-1 to version to. All
// migrations of one Open run in the same transaction.
type migration struct {
	to   uint64
	name string
	fn   func(tx *bolt.Tx) error
}

// migrations are ordered by to; append only, never renumber.
var migrations = []migration{
	{to: 2, name: "index history by call key, time and view", fn: migrateIndexHistory},
}

func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func btoi(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// upgrade brings the schema to schemaVersion and turns in-flight outbox
// entries into ambiguous ones (a crash interrupted their request).
func upgrade(tx *bolt.Tx, now time.Time) (from uint64, recovered int, err error) {
	meta, err := tx.CreateBucketIfNotExists(bMeta)
	if err != nil {
		return 0, 0, err
	}
	profiles, err := tx.CreateBucketIfNotExists(bProfiles)
	if err != nil {
		return 0, 0, err
	}
	v := meta.Get(kSchema)
	switch {
	case v == nil:
		from = schemaVersion // a new database
	case len(v) != 8:
		return 0, 0, fmt.Errorf("corrupt schema version (%d bytes)", len(v))
	default:
		from = btoi(v)
	}
	if from > schemaVersion {
		return from, 0, fmt.Errorf("%w: version %d, this app knows %d", ErrSchemaTooNew, from, schemaVersion)
	}
	for _, m := range migrations {
		if m.to <= from {
			continue
		}
		if err := m.fn(tx); err != nil {
			return from, 0, fmt.Errorf("migrate to schema %d (%s): %w", m.to, m.name, err)
		}
	}
	if err := meta.Put(kSchema, itob(schemaVersion)); err != nil {
		return from, 0, err
	}
	err = profiles.ForEachBucket(func(agent []byte) error {
		p := profiles.Bucket(agent)
		for _, name := range profileBuckets {
			if _, err := p.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		n, err := recoverInFlight(p.Bucket(bOutbox), now)
		recovered += n
		return err
	})
	return from, recovered, err
}

// migrateIndexHistory (v1 -> v2) builds the call-key, time and view indexes
// from the history records, which v1 stored without any index.
func migrateIndexHistory(tx *bolt.Tx) error {
	profiles := tx.Bucket(bProfiles)
	return profiles.ForEachBucket(func(agent []byte) error {
		p := profiles.Bucket(agent)
		for _, name := range profileBuckets {
			if _, err := p.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		h := p.Bucket(bHistory)
		var dups [][]byte
		err := h.ForEach(func(k, v []byte) error {
			var rec historyRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("history record %d: %w", btoi(k), err)
			}
			if p.Bucket(bHKey).Get([]byte(rec.Log.Key)) != nil {
				// v1 had no idempotency index: keep the first copy only.
				dups = append(dups, append([]byte(nil), k...))
				return nil
			}
			return indexHistory(p, btoi(k), &rec)
		})
		if err != nil {
			return err
		}
		for _, k := range dups {
			if err := h.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
