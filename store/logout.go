package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	bolt "go.etcd.io/bbolt"
)

// SecretRemover removes every secret of an agent; *secrets.Store implements
// it. It is an interface so that store does not depend on the keyring.
type SecretRemover interface {
	DeleteAgent(agentID string) error
}

// LogoutPolicy says which personal data Logout wipes on a shared PC.
type LogoutPolicy struct {
	WipeHistory    bool // call history and its indexes
	WipeContacts   bool // the contact cache and the local contact directory
	WipeRecordings bool // the recordings index and the recording files
	WipeFavorites  bool
}

// LogoutResult reports what Logout did.
type LogoutResult struct {
	Shared         bool // the PC is marked shared: secrets were removed
	QueuedKept     int  // outbox entries still queued under the agent's identity
	FilesRemoved   int
	HistoryRemoved int
}

// Logout ends agentID's session on this PC. The agent's queued outbox
// entries always stay queued under the agent's own identity (they are sent
// later with that agent's token, never another's). On a PC marked shared
// (MachineSettings.Shared) it removes the agent's secrets through sec and
// wipes the personal data the policy selects; on a personal PC it removes
// nothing. Settings are kept either way.
//
// Because bbolt does not zero freed pages, a wiping logout compacts the
// file (Compact) so the wiped data is no longer in it. Queued outbox
// entries (with their payload) and dead letters stay until delivered or
// resent; delivered entries are wiped with the history.
func (db *DB) Logout(agentID string, policy LogoutPolicy, sec SecretRemover) (LogoutResult, error) {
	var res LogoutResult
	if err := checkAgent(agentID); err != nil {
		return res, err
	}
	m, err := db.MachineSettings()
	if err != nil {
		return res, err
	}
	p, err := db.Profile(agentID)
	if err != nil {
		return res, err
	}
	c, err := p.Counts()
	if err != nil {
		return res, err
	}
	res.QueuedKept = c.Queued()
	if !m.Shared {
		db.log.Info("agent logged out", "agent", agentID, "shared", false, "queued", res.QueuedKept)
		return res, nil
	}
	res.Shared = true
	if sec == nil {
		return res, ErrNoSecrets
	}
	var errs []error
	if err := sec.DeleteAgent(agentID); err != nil {
		errs = append(errs, fmt.Errorf("remove secrets: %w", err))
	}
	if policy.WipeRecordings {
		rs, err := p.AllRecordings()
		if err != nil {
			errs = append(errs, err)
		}
		for _, r := range rs {
			for _, path := range r.Paths {
				err := os.Remove(path)
				switch {
				case err == nil:
					res.FilesRemoved++
				case errors.Is(err, fs.ErrNotExist):
				default:
					errs = append(errs, fmt.Errorf("remove recording file: %w", err))
				}
			}
		}
	}
	var wipe [][]byte
	if policy.WipeHistory {
		wipe = append(wipe, bHistory, bHKey, bHTime, bVMissed, bVIn, bVOut)
	}
	if policy.WipeContacts {
		wipe = append(wipe, bContacts, bDirectory, bDirPhone)
	}
	if policy.WipeRecordings {
		wipe = append(wipe, bRecordings)
	}
	if policy.WipeFavorites {
		wipe = append(wipe, bFavorites)
	}
	err = db.update(func(tx *bolt.Tx) error {
		pb := tx.Bucket(bProfiles).Bucket([]byte(agentID))
		if pb == nil {
			return fmt.Errorf("profile %w", ErrNotFound)
		}
		if policy.WipeHistory {
			res.HistoryRemoved = pb.Bucket(bHKey).Stats().KeyN
		}
		for _, name := range wipe {
			if err := pb.DeleteBucket(name); err != nil {
				return err
			}
			if _, err := pb.CreateBucket(name); err != nil {
				return err
			}
		}
		if !policy.WipeHistory {
			return nil
		}
		// Delivered outbox entries are history too; queued and dead ones
		// stay for delivery under the agent's identity.
		ob := pb.Bucket(bOutbox)
		return ob.ForEachBucket(func(t []byte) error {
			tb := ob.Bucket(t)
			if err := tb.DeleteBucket(bDone); err != nil {
				return err
			}
			_, err := tb.CreateBucket(bDone)
			return err
		})
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("wipe personal data: %w", err))
	} else if len(wipe) > 0 {
		// Deleted pages keep their bytes until reused: rewrite the file.
		if err := db.Compact(); err != nil {
			errs = append(errs, err)
		}
	}
	db.log.Info("agent logged out", "agent", agentID, "shared", true, "queued", res.QueuedKept,
		"history_removed", res.HistoryRemoved, "files_removed", res.FilesRemoved, "failed", len(errs) > 0)
	if len(errs) > 0 {
		return res, fmt.Errorf("logout: %w", errors.Join(errs...))
	}
	return res, nil
}
