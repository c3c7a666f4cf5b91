package store

import (
	"log/slog"
	"time"
)

// Defaults used when no Option overrides them.
const (
	DefaultOpenTimeout   = time.Second
	DefaultRetentionDays = 90
	DefaultAllLimit      = 30
	DefaultViewLimit     = 10
	DefaultQueueSize     = 1024
	DefaultCountryCode   = "1"
	// MaxFavorites is the most favorites a profile may hold.
	MaxFavorites = 50
	// FileName is the database file inside the data directory.
	FileName = "softphone.db"
)

type config struct {
	timeout       time.Duration
	log           *slog.Logger
	now           func() time.Time
	retentionDays int
	allLimit      int
	viewLimit     int
	queueSize     int
	normalize     func(string) (string, error)
	maxBatch      int
}

func defaultConfig() config {
	return config{
		timeout:       DefaultOpenTimeout,
		log:           slog.Default(),
		now:           time.Now,
		retentionDays: DefaultRetentionDays,
		allLimit:      DefaultAllLimit,
		viewLimit:     DefaultViewLimit,
		queueSize:     DefaultQueueSize,
		normalize:     func(s string) (string, error) { return NormalizeE164(s, DefaultCountryCode) },
		maxBatch:      64,
	}
}

// Option configures Open.
type Option func(*config)

// WithOpenTimeout sets how long Open waits for the file lock before it
// reports ErrAlreadyRunning (default one second).
func WithOpenTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithLogger sets the logger; the store adds component=store.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRetentionDays sets how many days of call history PurgeExpired keeps
// (default 90; zero or less keeps everything).
func WithRetentionDays(days int) Option { return func(c *config) { c.retentionDays = days } }

// WithViewLimits sets the default number of calls History returns for
// ViewAll and for the other views (defaults 30 and 10).
func WithViewLimits(all, others int) Option {
	return func(c *config) {
		if all > 0 {
			c.allLimit = all
		}
		if others > 0 {
			c.viewLimit = others
		}
	}
}

// WithQueueSize sets the capacity of the call-log writer queue (default
// 1024). SaveCallLog fails with ErrQueueFull beyond it.
func WithQueueSize(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.queueSize = n
		}
	}
}

// WithCountryCode sets the default country calling code (digits, "44") the
// built-in normaliser applies to national numbers.
func WithCountryCode(cc string) Option {
	return func(c *config) {
		c.normalize = func(s string) (string, error) { return NormalizeE164(s, cc) }
	}
}

// WithNormalizer replaces the phone-number normaliser used for favorites
// and the contact cache (for example one built on a maintained
// phone-number library). It must return E.164 ("+441632960961") or an error.
func WithNormalizer(fn func(raw string) (string, error)) Option {
	return func(c *config) {
		if fn != nil {
			c.normalize = fn
		}
	}
}
