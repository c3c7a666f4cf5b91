package main

import (
	"github.com/callcentre/softphone/ui"
)

// maxDrafts bounds the drafts kept per agent: more than a handful means
// drafts are never dropped, and the oldest go first.
const maxDrafts = 20

// storedSettings is the profile's settings record: the desk's Settings
// and the agent's note drafts (ui.NoteDrafts) in one JSON object, so a
// shared-PC sign-out wipes the drafts with the profile. Settings is
// embedded, so a record written before drafts existed reads the same.
type storedSettings struct {
	ui.Settings
	NoteDrafts []ui.NoteDraft `json:"note_drafts,omitempty"`
}

var _ ui.NoteDrafts = (*sources)(nil)

// updateRecord reads the signed-in agent's settings record, changes it and
// writes it back, under the lock every writer of the record takes.
func (s *sources) updateRecord(fn func(r *storedSettings)) error {
	p, err := s.signedIn()
	if err != nil {
		return err
	}
	s.recordMu.Lock()
	defer s.recordMu.Unlock()
	r := storedSettings{Settings: ui.DefaultSettings()}
	if _, err := p.GetSettings(&r); err != nil {
		return err
	}
	fn(&r)
	return p.PutSettings(r)
}

// SaveDraft keeps the notes of a call in progress in the agent's profile.
func (s *sources) SaveDraft(d ui.NoteDraft) error {
	return s.updateRecord(func(r *storedSettings) {
		for i := range r.NoteDrafts {
			if r.NoteDrafts[i].Key == d.Key {
				r.NoteDrafts[i] = d
				return
			}
		}
		r.NoteDrafts = append(r.NoteDrafts, d)
		if n := len(r.NoteDrafts); n > maxDrafts {
			r.NoteDrafts = r.NoteDrafts[n-maxDrafts:]
		}
	})
}

// DropDraft removes a call's draft (it is logged, or was discarded).
func (s *sources) DropDraft(key string) error {
	return s.updateRecord(func(r *storedSettings) {
		out := r.NoteDrafts[:0]
		for _, d := range r.NoteDrafts {
			if d.Key != key {
				out = append(out, d)
			}
		}
		r.NoteDrafts = out
	})
}

// Drafts returns the signed-in agent's drafts.
func (s *sources) Drafts() ([]ui.NoteDraft, error) {
	p, err := s.signedIn()
	if err != nil {
		return nil, err
	}
	s.recordMu.Lock()
	defer s.recordMu.Unlock()
	var r storedSettings
	if _, err := p.GetSettings(&r); err != nil {
		return nil, err
	}
	return r.NoteDrafts, nil
}
