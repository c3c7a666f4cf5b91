package crm

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/store"
)

// Opener opens a URL in the default browser. OpenBrowser is the real one;
// tests pass a recorder so no browser starts.
type Opener func(url string) error

// ContactCache keeps the records matched to a number for offline caller
// ID. *store.Profile implements it.
type ContactCache interface {
	CacheContacts(number string, recs []domain.CRMRecord) error
	LookupContacts(number string) (store.CachedContacts, bool, error)
}

var _ ContactCache = (*store.Profile)(nil)

// Default Directory settings.
const (
	DefaultLookupTimeout = 4 * time.Second
	maxLookups           = 8
)

// Directory implements domain.Directory over the signed-in agent's
// Session: Lookup asks the CRM (falling back to the store's contact cache
// when the CRM cannot answer) and posts domain.CallerMatched; ScreenPop and
// ScreenPopNew open the record or new-contact URL through the Opener.
type Directory struct {
	norm    *Normalizer
	open    Opener
	log     *slog.Logger
	timeout time.Duration
	fresh   time.Duration
	sem     chan struct{}

	mu    sync.RWMutex
	sink  domain.EventSink
	sess  Session
	cache ContactCache
	wg    sync.WaitGroup
}

var _ domain.Directory = (*Directory)(nil)

// DirectoryOption configures NewDirectory.
type DirectoryOption func(*Directory)

// WithOpener replaces the browser opener (tests record the URL).
func WithOpener(o Opener) DirectoryOption { return func(d *Directory) { d.open = o } }

// WithLookupTimeout bounds one CRM lookup (default 4 s); past it the
// cached records (if any) answer.
func WithLookupTimeout(t time.Duration) DirectoryOption {
	return func(d *Directory) { d.timeout = t }
}

// WithCacheFresh answers from the contact cache without asking the CRM
// when the cached match is younger than age (default 0: always ask).
func WithCacheFresh(age time.Duration) DirectoryOption {
	return func(d *Directory) { d.fresh = age }
}

// WithDirectoryLogger sets the logger (component=crm-directory is added).
func WithDirectoryLogger(l *slog.Logger) DirectoryOption { return func(d *Directory) { d.log = l } }

// NewDirectory returns a Directory parsing numbers with norm. Attach the
// agent, then SetSession after sign-in.
func NewDirectory(norm *Normalizer, opts ...DirectoryOption) *Directory {
	d := &Directory{norm: norm, open: OpenBrowser, log: slog.Default(), timeout: DefaultLookupTimeout,
		sem: make(chan struct{}, maxLookups)}
	for _, o := range opts {
		o(d)
	}
	d.log = d.log.With("component", "crm-directory")
	return d
}

// Attach sets the sink CallerMatched is posted to.
func (d *Directory) Attach(sink domain.EventSink) {
	d.mu.Lock()
	d.sink = sink
	d.mu.Unlock()
}

// SetSession sets the signed-in agent's session and contact cache (the
// agent's store profile); nil, nil at sign-out. A lookup without a session
// is answered from the cache alone.
func (d *Directory) SetSession(s Session, cache ContactCache) {
	d.mu.Lock()
	d.sess, d.cache = s, cache
	d.mu.Unlock()
}

// Wait blocks until running lookups and pops have finished (shutdown,
// tests).
func (d *Directory) Wait() { d.wg.Wait() }

func (d *Directory) current() (domain.EventSink, Session, ContactCache) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.sink, d.sess, d.cache
}

// Lookup implements domain.Directory: it returns at once and posts
// CallerMatched{Key, Number, Records} (Err set when neither the CRM nor the cache
// could answer).
func (d *Directory) Lookup(key, number string) error {
	sink, sess, cache := d.current()
	if sink == nil {
		return fmt.Errorf("crm directory: no event sink attached")
	}
	p, err := d.norm.Parse(number)
	if err != nil {
		return err
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.sem <- struct{}{}
		defer func() { <-d.sem }()
		recs, err := d.lookup(sess, cache, p)
		in := domain.CallerMatched{Key: key, Number: number, Records: recs}
		if err != nil {
			in.Err = err.Error()
		}
		if err := sink.Post(in); err != nil {
			d.log.Debug("caller match not delivered", "call_key", key, "err", err)
		}
	}()
	return nil
}

// lookup asks the CRM and falls back to the cache.
func (d *Directory) lookup(sess Session, cache ContactCache, p Phone) ([]domain.CRMRecord, error) {
	var cached store.CachedContacts
	var found bool
	if cache != nil {
		c, ok, err := cache.LookupContacts(p.E164)
		if err != nil {
			d.log.Warn("contact cache unreadable", "err", err)
		}
		cached, found = c, ok && err == nil
		if found && d.fresh > 0 && time.Since(cached.CachedAt) < d.fresh {
			return cached.Records, nil
		}
	}
	if sess == nil {
		if found {
			return cached.Records, nil
		}
		return nil, ErrNoSession
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	recs, err := sess.LookupPhone(ctx, p)
	if err != nil {
		d.log.Info("crm lookup failed; using cache", "kind", KindOf(err).String(), "cached", found)
		if found {
			return cached.Records, nil
		}
		return nil, fmt.Errorf("caller lookup: %w", err)
	}
	if cache != nil {
		if err := cache.CacheContacts(p.E164, recs); err != nil {
			d.log.Warn("contact cache not updated", "err", err)
		}
	}
	return recs, nil
}

// ScreenPop implements domain.Directory: a session that is a ServerPopper
// pops the record in the agent's open CRM tab; otherwise (or when that
// pop does not happen) the record's URL (its own, or the one the session
// builds) opens in the browser.
func (d *Directory) ScreenPop(key string, rec domain.CRMRecord) error {
	_, sess, _ := d.current()
	u := rec.URL
	if u == "" {
		if sess == nil {
			return ErrNoSession
		}
		var err error
		if u, err = sess.RecordURL(rec); err != nil {
			return err
		}
	}
	sp, ok := sess.(ServerPopper)
	if !ok {
		d.openAsync(key, u)
		return nil
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
		defer cancel()
		done, err := sp.PopRecord(ctx, rec)
		if err != nil {
			d.log.Warn("server-side screen pop failed; opening the browser", "call_key", key, "err", err)
		}
		if done {
			return
		}
		if err := d.open(u); err != nil {
			d.log.Warn("screen pop failed", "call_key", key, "err", err)
		}
	}()
	return nil
}

// ScreenPopNew implements domain.Directory: it opens the CRM's new-contact
// form prefilled with the number.
func (d *Directory) ScreenPopNew(key, number string) error {
	_, sess, _ := d.current()
	if sess == nil {
		return ErrNoSession
	}
	p, err := d.norm.Parse(number)
	if err != nil {
		return err
	}
	u, err := sess.NewRecordURL(p)
	if err != nil {
		return err
	}
	d.openAsync(key, u)
	return nil
}

func (d *Directory) openAsync(key, u string) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := d.open(u); err != nil {
			d.log.Warn("screen pop failed", "call_key", key, "err", err)
		}
	}()
}
