package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// DB is an open local store. It is safe for concurrent use; Close it once.
type DB struct {
	bolt *bolt.DB
	cfg  config
	log  *slog.Logger
	path string

	reqs       chan saveReq
	quit       chan struct{}
	writerDone chan struct{}

	// mu guards closed and the bolt handle: transactions hold it shared,
	// Close and Compact exclusively.
	mu     sync.RWMutex
	closed bool
}

// MachineSettings are the settings of the PC rather than of an agent.
type MachineSettings struct {
	// Shared marks a hot-desk PC: Logout removes the agent's secrets and,
	// per LogoutPolicy, personal data.
	Shared bool `json:"shared"`
}

// Open opens (creating if needed) dir/softphone.db with mode 0600, dir with
// mode 0700, upgrades the schema and starts the call-log writer. When
// another instance holds the file it returns ErrAlreadyRunning after the
// open timeout.
func Open(dir string, opts ...Option) (*DB, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	log := cfg.log.With("component", "store")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	path := filepath.Join(dir, FileName)
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: cfg.timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w", path, ErrAlreadyRunning)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, errors.Join(fmt.Errorf("restrict database file: %w", err), bdb.Close())
	}
	var from uint64
	var recovered int
	err = bdb.Update(func(tx *bolt.Tx) error {
		var err error
		from, recovered, err = upgrade(tx, cfg.now())
		return err
	})
	if err != nil {
		return nil, errors.Join(fmt.Errorf("upgrade %s: %w", path, err), bdb.Close())
	}
	if from != schemaVersion {
		log.Info("database schema upgraded", "from", from, "to", schemaVersion)
	}
	if recovered > 0 {
		log.Warn("outbox entries interrupted in flight are now ambiguous", "count", recovered)
	}
	db := &DB{
		bolt:       bdb,
		cfg:        cfg,
		log:        log,
		path:       path,
		reqs:       make(chan saveReq, cfg.queueSize),
		quit:       make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	go db.writer()
	return db, nil
}

// Path returns the database file path.
func (db *DB) Path() string { return db.path }

// Close drains the call-log queue (committing and acknowledging what was
// queued), stops the writer and closes the file.
func (db *DB) Close() error {
	db.mu.Lock()
	if db.closed {
		db.mu.Unlock()
		return ErrClosed
	}
	db.closed = true
	db.mu.Unlock()
	close(db.quit)
	<-db.writerDone
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.bolt == nil {
		return nil
	}
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	return nil
}

func (db *DB) update(fn func(tx *bolt.Tx) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed || db.bolt == nil {
		return ErrClosed
	}
	return db.bolt.Update(fn)
}

func (db *DB) view(fn func(tx *bolt.Tx) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.closed || db.bolt == nil {
		return ErrClosed
	}
	return db.bolt.View(fn)
}

// writerUpdate is update for the call-log writer, which still drains its
// queue while Close waits for it.
func (db *DB) writerUpdate(fn func(tx *bolt.Tx) error) error {
	db.mu.RLock()
	defer db.mu.RUnlock()
	if db.bolt == nil {
		return ErrClosed
	}
	return db.bolt.Update(fn)
}

// Compact rewrites the file with only its live data, so that deleted
// records no longer linger in free pages, and reopens it. It waits for
// running transactions and blocks every other operation meanwhile. The
// file lock is released for the moment between closing the old file and
// opening the new one.
func (db *DB) Compact() error {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.closed || db.bolt == nil {
		return ErrClosed
	}
	tmp := db.path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: db.cfg.timeout})
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	if err := bolt.Compact(dst, db.bolt, 16<<20); err != nil {
		return errors.Join(fmt.Errorf("compact: %w", err), dst.Close(), os.Remove(tmp))
	}
	if err := dst.Close(); err != nil {
		return errors.Join(fmt.Errorf("compact: %w", err), os.Remove(tmp))
	}
	if err := db.bolt.Close(); err != nil {
		return errors.Join(fmt.Errorf("compact: %w", err), os.Remove(tmp))
	}
	renameErr := os.Rename(tmp, db.path)
	if renameErr == nil {
		renameErr = syncDir(filepath.Dir(db.path))
	}
	bdb, err := bolt.Open(db.path, 0o600, &bolt.Options{Timeout: db.cfg.timeout})
	if err != nil {
		// The store cannot continue without its file: every operation now
		// fails with ErrClosed; Close still stops the writer.
		db.bolt = nil
		if errors.Is(err, berrors.ErrTimeout) {
			err = ErrAlreadyRunning
		}
		return errors.Join(fmt.Errorf("reopen after compact: %w", err), renameErr)
	}
	db.bolt = bdb
	if renameErr != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("compact: %w", renameErr)
	}
	db.log.Info("database compacted")
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	// Directories cannot be synced on every OS (Windows): ignore that error.
	_ = d.Sync()
	return d.Close()
}

// MachineSettings returns the machine-level settings (zero value if unset).
func (db *DB) MachineSettings() (MachineSettings, error) {
	var m MachineSettings
	err := db.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bMeta).Get(kMachine)
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &m)
	})
	if err != nil {
		return MachineSettings{}, fmt.Errorf("read machine settings: %w", err)
	}
	return m, nil
}

// PutMachineSettings stores the machine-level settings.
func (db *DB) PutMachineSettings(m MachineSettings) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode machine settings: %w", err)
	}
	if err := db.update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(kMachine, v) }); err != nil {
		return fmt.Errorf("write machine settings: %w", err)
	}
	return nil
}

// SchemaVersion returns the schema version stored in the file.
func (db *DB) SchemaVersion() (uint64, error) {
	var v uint64
	err := db.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bMeta).Get(kSchema)
		if len(b) != 8 {
			return fmt.Errorf("corrupt schema version")
		}
		v = btoi(b)
		return nil
	})
	return v, err
}

// Profiles lists the agent IDs that have a profile on this PC.
func (db *DB) Profiles() ([]string, error) {
	var ids []string
	err := db.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bProfiles).ForEachBucket(func(k []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	return ids, err
}

const maxAgentIDLen = 256

func checkAgent(id string) error {
	if id == "" || len(id) > maxAgentIDLen {
		return fmt.Errorf("%w: %d bytes", ErrInvalidAgent, len(id))
	}
	return nil
}

// Profile returns the profile of agentID, creating it on first use. A
// Profile only ever reads and writes its own agent's buckets.
func (db *DB) Profile(agentID string) (*Profile, error) {
	if err := checkAgent(agentID); err != nil {
		return nil, err
	}
	exists := false
	err := db.view(func(tx *bolt.Tx) error {
		exists = tx.Bucket(bProfiles).Bucket([]byte(agentID)) != nil
		return nil
	})
	if err == nil && !exists {
		err = db.update(func(tx *bolt.Tx) error {
			_, err := ensureProfile(tx, agentID)
			return err
		})
	}
	if err != nil {
		return nil, fmt.Errorf("open profile: %w", err)
	}
	return &Profile{db: db, agent: agentID}, nil
}

func ensureProfile(tx *bolt.Tx, agentID string) (*bolt.Bucket, error) {
	p, err := tx.Bucket(bProfiles).CreateBucketIfNotExists([]byte(agentID))
	if err != nil {
		return nil, err
	}
	for _, name := range profileBuckets {
		if _, err := p.CreateBucketIfNotExists(name); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Profile is one agent's namespace: settings, history, favorites, contact
// cache, outbox and recordings index. It is safe for concurrent use.
type Profile struct {
	db    *DB
	agent string
}

// AgentID returns the agent the profile belongs to.
func (p *Profile) AgentID() string { return p.agent }

// bucket returns the profile's sub-bucket name in tx; the profile exists
// because Profile created it and only Logout wipes contents, never the
// bucket itself.
func (p *Profile) bucket(tx *bolt.Tx, name []byte) (*bolt.Bucket, error) {
	pb := tx.Bucket(bProfiles).Bucket([]byte(p.agent))
	if pb == nil {
		return nil, fmt.Errorf("profile %w", ErrNotFound)
	}
	b := pb.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("profile bucket %s %w", name, ErrNotFound)
	}
	return b, nil
}
