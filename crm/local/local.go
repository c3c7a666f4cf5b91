// Package local is the embedded default CRM: a local contact directory
// (imported from CSV and vCard files) that gives caller ID, search and an
// in-app screen pop when no external CRM is configured.
//
// The contacts are kept through a Backend: StoreBackend keeps each agent's
// directory in that agent's store profile (durable, per hot-desk agent);
// SetBackend switches to the signed-in agent's directory. Lookups are
// answered from an in-memory index of the loaded directory.
//
// Call logs: with the local CRM, the call logs are kept locally in the
// store's call history, which is this CRM's activity log. The store keeps
// exactly one history record per call key (it is idempotent), and each
// log names the local contact it was matched to (CallLog.Matches and
// RecordID carry the LocalContact record), so a contact's calls are the
// history records with its ID. The app builds its call logger with no
// CRM target, so nothing is queued for delivery elsewhere.
//
// It imports crm, store (StoreBackend) and agent/domain; never agent, ui,
// sip or audio.
//
// # Concurrency contract
//
// A Directory is safe for concurrent use. Lookup posts CallerMatched from
// its own goroutine; the pop callbacks run on a fresh goroutine and must
// hand their work to the UI (fyne.Do). Add, the imports and SetBackend
// write the backend (the store: an fsynced transaction), so call them off
// the UI goroutine.
package local

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
)

// RecordType is the CRMRecord.Type of local contacts.
const RecordType = "LocalContact"

// ErrUnknownContact means a screen pop named a contact that is not in the
// directory.
var ErrUnknownContact = errors.New("contact not in the local directory")

// Contact is one directory entry; Phones are E.164.
type Contact struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Company string   `json:"company,omitempty"`
	Email   string   `json:"email,omitempty"`
	Phones  []string `json:"phones"`
}

// Backend keeps the directory durably.
type Backend interface {
	Load() ([]Contact, error)
	Save([]Contact) error
}

// Directory is the local contact directory; it implements
// domain.Directory.
type Directory struct {
	be    Backend
	norm  *crm.Normalizer
	log   *slog.Logger
	pop   func(key string, c Contact)
	popNw func(key, e164 string)

	mu       sync.RWMutex
	sink     domain.EventSink
	contacts []Contact
	byPhone  map[string][]int
	next     int
	wg       sync.WaitGroup
}

var _ domain.Directory = (*Directory)(nil)

// Option configures New.
type Option func(*Directory)

// WithPop sets the in-app screen pop of a contact (the UI shows it).
func WithPop(fn func(key string, c Contact)) Option { return func(d *Directory) { d.pop = fn } }

// WithPopNew sets the in-app new-contact form for an unknown number.
func WithPopNew(fn func(key, e164 string)) Option { return func(d *Directory) { d.popNw = fn } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(d *Directory) { d.log = l } }

// New loads the directory from be.
func New(be Backend, norm *crm.Normalizer, opts ...Option) (*Directory, error) {
	d := &Directory{be: be, norm: norm, log: slog.Default()}
	for _, o := range opts {
		o(d)
	}
	d.log = d.log.With("component", "crm-local")
	cs, err := be.Load()
	if err != nil {
		return nil, fmt.Errorf("load local directory: %w", err)
	}
	d.setLocked(cs)
	return d, nil
}

// SetBackend switches the directory to be (the signed-in agent's store
// profile) and loads it; on error the directory is unchanged.
func (d *Directory) SetBackend(be Backend) error {
	cs, err := be.Load()
	if err != nil {
		return fmt.Errorf("load local directory: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.be, d.next = be, 0
	d.setLocked(cs)
	return nil
}

func (d *Directory) setLocked(cs []Contact) {
	d.contacts = cs
	d.byPhone = map[string][]int{}
	for i, c := range cs {
		for _, p := range c.Phones {
			d.byPhone[p] = append(d.byPhone[p], i)
		}
		if n, err := strconv.Atoi(strings.TrimPrefix(c.ID, "L")); err == nil && n >= d.next {
			d.next = n + 1
		}
	}
}

// Attach sets the sink CallerMatched is posted to.
func (d *Directory) Attach(sink domain.EventSink) {
	d.mu.Lock()
	d.sink = sink
	d.mu.Unlock()
}

// Wait waits for posted lookups and pops (tests, shutdown).
func (d *Directory) Wait() { d.wg.Wait() }

// Contacts returns a copy of the directory.
func (d *Directory) Contacts() []Contact {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return slices.Clone(d.contacts)
}

func record(c Contact) domain.CRMRecord {
	return domain.CRMRecord{ID: c.ID, Type: RecordType, Name: c.Name, Phones: slices.Clone(c.Phones)}
}

// Match returns the contacts with number.
func (d *Directory) Match(number string) ([]domain.CRMRecord, error) {
	p, err := d.norm.Parse(number)
	if err != nil {
		return nil, err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []domain.CRMRecord
	for _, i := range d.byPhone[p.E164] {
		out = append(out, record(d.contacts[i]))
	}
	return out, nil
}

// Lookup implements domain.Directory.
func (d *Directory) Lookup(key, number string) error {
	d.mu.RLock()
	sink := d.sink
	d.mu.RUnlock()
	if sink == nil {
		return errors.New("local directory: no event sink attached")
	}
	recs, err := d.Match(number)
	if err != nil {
		// The directory holds only E.164 numbers: a number that cannot be
		// read (an internal extension, an anonymous caller) matches
		// nothing, which is an answer, not a failure.
		recs = nil
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := sink.Post(domain.CallerMatched{Key: key, Number: number, Records: recs}); err != nil {
			d.log.Debug("caller match not delivered", "call_key", key, "err", err)
		}
	}()
	return nil
}

// Search finds contacts whose name, company, email or number contains
// text (case-insensitive), at most limit.
func (d *Directory) Search(text string, limit int) []Contact {
	t := strings.ToLower(strings.TrimSpace(text))
	if t == "" {
		return nil
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, t)
	d.mu.RLock()
	defer d.mu.RUnlock()
	var out []Contact
	for _, c := range d.contacts {
		hit := strings.Contains(strings.ToLower(c.Name), t) || strings.Contains(strings.ToLower(c.Company), t) ||
			strings.Contains(strings.ToLower(c.Email), t)
		for _, p := range c.Phones {
			hit = hit || (len(digits) >= 3 && strings.Contains(p, digits))
		}
		if hit {
			out = append(out, c)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
	}
	return out
}

// ScreenPop implements domain.Directory: the contact is shown in the app.
func (d *Directory) ScreenPop(key string, rec domain.CRMRecord) error {
	d.mu.RLock()
	i := slices.IndexFunc(d.contacts, func(c Contact) bool { return c.ID == rec.ID })
	var c Contact
	if i >= 0 {
		c = d.contacts[i]
	}
	d.mu.RUnlock()
	if i < 0 {
		return fmt.Errorf("screen pop %s: %w", rec.ID, ErrUnknownContact)
	}
	if d.pop == nil {
		return crm.ErrUnsupported
	}
	d.wg.Add(1)
	go func() { defer d.wg.Done(); d.pop(key, c) }()
	return nil
}

// ScreenPopNew implements domain.Directory: the app's new-contact form.
func (d *Directory) ScreenPopNew(key, number string) error {
	p, err := d.norm.Parse(number)
	if err != nil {
		return err
	}
	if d.popNw == nil {
		return crm.ErrUnsupported
	}
	d.wg.Add(1)
	go func() { defer d.wg.Done(); d.popNw(key, p.E164) }()
	return nil
}

// ImportReport says what an import did.
type ImportReport struct {
	Added, Updated, Skipped int
	Problems                []string // "line 7: no usable phone number", never the number itself
}

// Add merges contacts into the directory and saves it: a contact with the
// same name and a shared number updates the existing one; invalid numbers
// are dropped (reported by index). Nothing is saved when the backend fails.
func (d *Directory) Add(in []Contact) (ImportReport, error) {
	return d.merge(in, func(i int) string { return "contact " + strconv.Itoa(i+1) })
}

func (d *Directory) merge(in []Contact, where func(int) string) (ImportReport, error) {
	var rep ImportReport
	d.mu.Lock()
	defer d.mu.Unlock()
	cs := slices.Clone(d.contacts)
	next := d.next
	for i, c := range in {
		c.Name = strings.TrimSpace(c.Name)
		var phones []string
		for _, raw := range c.Phones {
			p, err := d.norm.Parse(raw)
			if err != nil {
				rep.Problems = append(rep.Problems, where(i)+": a phone number could not be read")
				continue
			}
			if !slices.Contains(phones, p.E164) {
				phones = append(phones, p.E164)
			}
		}
		if len(phones) == 0 || c.Name == "" {
			rep.Skipped++
			rep.Problems = append(rep.Problems, where(i)+": needs a name and a usable phone number")
			continue
		}
		c.Phones = phones
		j := slices.IndexFunc(cs, func(o Contact) bool {
			return strings.EqualFold(o.Name, c.Name) && slices.ContainsFunc(o.Phones, func(p string) bool { return slices.Contains(phones, p) })
		})
		if j >= 0 {
			c.ID = cs[j].ID
			if c.Company == "" {
				c.Company = cs[j].Company
			}
			if c.Email == "" {
				c.Email = cs[j].Email
			}
			for _, p := range cs[j].Phones {
				if !slices.Contains(c.Phones, p) {
					c.Phones = append(c.Phones, p)
				}
			}
			cs[j] = c
			rep.Updated++
			continue
		}
		c.ID = "L" + strconv.Itoa(next)
		next++
		cs = append(cs, c)
		rep.Added++
	}
	if err := d.be.Save(cs); err != nil {
		return ImportReport{}, fmt.Errorf("save local directory: %w", err)
	}
	d.next = next
	d.setLocked(cs)
	return rep, nil
}
