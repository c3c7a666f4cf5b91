package secrets

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	gokeyring "github.com/zalando/go-keyring"
)

// Kind names what a secret is for.
type Kind string

// Kinds of secret the softphone keeps.
const (
	KindSIPPassword  Kind = "sip-password"
	KindAccessToken  Kind = "access-token"
	KindRefreshToken Kind = "refresh-token"
	KindClientSecret Kind = "client-secret"
)

// Defaults.
const (
	DefaultService = "softphone"
	// DefaultChunkSize keeps every stored value below the Windows
	// credential blob limit (2560 bytes) and the macOS command-line limit
	// go-keyring enforces (about 3000 bytes with service and user, base64
	// encoded).
	DefaultChunkSize = 1800
	DefaultTimeout   = 5 * time.Second
	maxChunks        = 256
)

// backend is the OS keyring as go-keyring exposes it.
type backend interface {
	Set(service, user, secret string) error
	Get(service, user string) (string, error)
	Delete(service, user string) error
}

type osKeyring struct{}

func (osKeyring) Set(s, u, p string) error        { return gokeyring.Set(s, u, p) }
func (osKeyring) Get(s, u string) (string, error) { return gokeyring.Get(s, u) }
func (osKeyring) Delete(s, u string) error        { return gokeyring.Delete(s, u) }

// Store keeps secrets in the OS keyring, keyed per agent, account and kind.
// It is safe for concurrent use.
type Store struct {
	service string
	be      backend
	chunk   int
	timeout time.Duration
	log     *slog.Logger

	mu sync.Mutex // serialises multi-item updates (chunks, index)
}

// Option configures New.
type Option func(*Store)

// WithService sets the keyring service name (default "softphone").
func WithService(name string) Option { return func(s *Store) { s.service = name } }

// WithLogger sets the logger; the store adds component=secrets. Secret
// values are never logged.
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.log = l } }

// WithTimeout bounds each keyring call (default 5 s): a keyring that does
// not answer is reported as ErrNoKeyring instead of hanging the caller.
func WithTimeout(d time.Duration) Option { return func(s *Store) { s.timeout = d } }

// WithChunkSize sets the largest value stored in one keyring item (default
// DefaultChunkSize); longer secrets are split into numbered items.
func WithChunkSize(n int) Option {
	return func(s *Store) {
		if n >= 16 {
			s.chunk = n
		}
	}
}

// New returns a Store over the OS keyring.
func New(opts ...Option) *Store {
	s := &Store{service: DefaultService, be: osKeyring{}, chunk: DefaultChunkSize, timeout: DefaultTimeout, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	s.log = s.log.With("component", "secrets")
	return s
}

// Stored layout (user names under the service):
//
//	<agent>/<account>/<kind>     "s1:" + value              (short secret)
//	                             "c1:<n>:<sha256 prefix>"   (manifest of a long one)
//	<agent>/<account>/<kind>#<i> chunk i of n (1-based)
//	<agent>/.index               "s1:" + newline-separated "<account>/<kind>"
//
// Components are URL path-escaped, so "/" and "#" in an account name
// cannot collide. The index is not secret: it lists what exists so that
// DeleteAgent finds every item; it is written before the secret, so it is
// never missing an item.
const (
	prefixSingle   = "s1:"
	prefixManifest = "c1:"
	indexName      = ".index"
)

func itemName(agentID, account string, kind Kind) (string, error) {
	if agentID == "" || account == "" || kind == "" {
		return "", fmt.Errorf("%w: agent, account and kind are required", ErrInvalidKey)
	}
	return url.PathEscape(agentID) + "/" + url.PathEscape(account) + "/" + url.PathEscape(string(kind)), nil
}

func chunkName(base string, i int) string { return base + "#" + strconv.Itoa(i) }

// call runs one keyring operation with the timeout and maps its errors.
func (s *Store) call(op string, fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- fn() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(s.timeout):
		// The goroutine is left behind: go-keyring calls cannot be cancelled.
		return fmt.Errorf("keyring %s: no answer within %v: %w", op, s.timeout, ErrNoKeyring)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gokeyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, gokeyring.ErrSetDataTooBig):
		return fmt.Errorf("keyring %s: %w", op, ErrTooBig)
	default:
		// go-keyring reports an unreachable or refusing keyring (no D-Bus,
		// no Secret Service, locked collection) as plain errors.
		return fmt.Errorf("keyring %s: %w (%v)", op, ErrNoKeyring, err)
	}
}

func (s *Store) rawGet(user string) (string, error) {
	var v string
	err := s.call("get", func() error {
		var err error
		v, err = s.be.Get(s.service, user)
		return err
	})
	return v, err
}

func (s *Store) rawSet(user, v string) error {
	return s.call("set", func() error { return s.be.Set(s.service, user, v) })
}

func (s *Store) rawDelete(user string) error {
	err := s.call("delete", func() error { return s.be.Delete(s.service, user) })
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// split cuts v into pieces of at most n bytes on rune boundaries.
func split(v string, n int) []string {
	var parts []string
	for len(v) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(v[cut]) {
			cut--
		}
		if cut == 0 {
			cut = n
		}
		parts = append(parts, v[:cut])
		v = v[cut:]
	}
	return append(parts, v)
}

func checksum(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:8])
}

// chunksOf returns how many chunk items the value stored under base uses.
func (s *Store) chunksOf(base string) (int, error) {
	v, err := s.rawGet(base)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, _, err := parseManifest(v)
	if err != nil {
		return 0, nil // a single value
	}
	return n, nil
}

func parseManifest(v string) (int, string, error) {
	rest, ok := strings.CutPrefix(v, prefixManifest)
	if !ok {
		return 0, "", ErrCorrupt
	}
	ns, sum, ok := strings.Cut(rest, ":")
	n, err := strconv.Atoi(ns)
	if !ok || err != nil || n < 1 || n > maxChunks {
		return 0, "", ErrCorrupt
	}
	return n, sum, nil
}

// write stores v under base, chunked when long, and removes chunks an
// older, longer value left behind.
func (s *Store) write(base, v string) error {
	old, err := s.chunksOf(base)
	if err != nil {
		return err
	}
	n := 0
	if len(v)+len(prefixSingle) <= s.chunk {
		if err := s.rawSet(base, prefixSingle+v); err != nil {
			return err
		}
	} else {
		parts := split(v, s.chunk)
		if len(parts) > maxChunks {
			return fmt.Errorf("%d bytes: %w", len(v), ErrTooBig)
		}
		n = len(parts)
		for i, p := range parts {
			if err := s.rawSet(chunkName(base, i+1), p); err != nil {
				return err
			}
		}
		if err := s.rawSet(base, prefixManifest+strconv.Itoa(n)+":"+checksum(v)); err != nil {
			return err
		}
	}
	for i := n + 1; i <= old; i++ {
		if err := s.rawDelete(chunkName(base, i)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) read(base string) (string, error) {
	v, err := s.rawGet(base)
	if err != nil {
		return "", err
	}
	if single, ok := strings.CutPrefix(v, prefixSingle); ok {
		return single, nil
	}
	if !strings.HasPrefix(v, prefixManifest) {
		return v, nil // written by something else: return as is
	}
	n, sum, err := parseManifest(v)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i := 1; i <= n; i++ {
		p, err := s.rawGet(chunkName(base, i))
		if errors.Is(err, ErrNotFound) {
			return "", fmt.Errorf("chunk %d of %d missing: %w", i, n, ErrCorrupt)
		}
		if err != nil {
			return "", err
		}
		b.WriteString(p)
	}
	out := b.String()
	if checksum(out) != sum {
		return "", fmt.Errorf("chunks do not match: %w", ErrCorrupt)
	}
	return out, nil
}

func (s *Store) remove(base string) error {
	n, err := s.chunksOf(base)
	if err != nil {
		return err
	}
	if err := s.rawDelete(base); err != nil {
		return err
	}
	for i := 1; i <= n; i++ {
		if err := s.rawDelete(chunkName(base, i)); err != nil {
			return err
		}
	}
	return nil
}

func indexItem(agentID string) string { return url.PathEscape(agentID) + "/" + indexName }

func (s *Store) index(agentID string) ([]string, error) {
	v, err := s.read(indexItem(agentID))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if v == "" {
		return nil, nil
	}
	return strings.Split(v, "\n"), nil
}

func (s *Store) setIndex(agentID string, names []string) error {
	if len(names) == 0 {
		return s.remove(indexItem(agentID))
	}
	return s.write(indexItem(agentID), strings.Join(names, "\n"))
}

// Set stores the secret of agentID's account (a SIP account, a CRM org) of
// the given kind, replacing any previous value. Long values (OAuth tokens)
// are split into chunks that fit every OS keyring.
func (s *Store) Set(agentID, account string, kind Kind, secret string) error {
	base, err := itemName(agentID, account, kind)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, err := s.index(agentID)
	if err != nil {
		return fmt.Errorf("set secret: %w", err)
	}
	rel := strings.TrimPrefix(base, url.PathEscape(agentID)+"/")
	if !slices.Contains(idx, rel) {
		if err := s.setIndex(agentID, append(idx, rel)); err != nil {
			return fmt.Errorf("set secret: %w", err)
		}
	}
	if err := s.write(base, secret); err != nil {
		return fmt.Errorf("set secret: %w", err)
	}
	s.log.Debug("secret stored", "agent", agentID, "kind", string(kind))
	return nil
}

// Get returns the secret, or ErrNotFound.
func (s *Store) Get(agentID, account string, kind Kind) (string, error) {
	base, err := itemName(agentID, account, kind)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, err := s.read(base)
	if err != nil {
		return "", fmt.Errorf("get secret: %w", err)
	}
	return v, nil
}

// Delete removes the secret and all its chunks. Deleting a missing secret
// is not an error.
func (s *Store) Delete(agentID, account string, kind Kind) error {
	base, err := itemName(agentID, account, kind)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.remove(base); err != nil {
		return fmt.Errorf("delete secret: %w", err)
	}
	idx, err := s.index(agentID)
	if err != nil {
		return fmt.Errorf("delete secret: %w", err)
	}
	rel := strings.TrimPrefix(base, url.PathEscape(agentID)+"/")
	if i := slices.Index(idx, rel); i >= 0 {
		if err := s.setIndex(agentID, slices.Delete(idx, i, i+1)); err != nil {
			return fmt.Errorf("delete secret: %w", err)
		}
	}
	s.log.Debug("secret deleted", "agent", agentID, "kind", string(kind))
	return nil
}

// DeleteAgent removes every secret of agentID (shared-PC logout). It
// implements store.SecretRemover.
func (s *Store) DeleteAgent(agentID string) error {
	if agentID == "" {
		return fmt.Errorf("%w: empty agent", ErrInvalidKey)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	idx, err := s.index(agentID)
	if err != nil {
		return fmt.Errorf("delete agent secrets: %w", err)
	}
	prefix := url.PathEscape(agentID) + "/"
	for _, rel := range idx {
		if err := s.remove(prefix + rel); err != nil {
			return fmt.Errorf("delete agent secrets: %w", err)
		}
	}
	if err := s.remove(indexItem(agentID)); err != nil {
		return fmt.Errorf("delete agent secrets: %w", err)
	}
	s.log.Info("agent secrets deleted", "agent", agentID, "count", len(idx))
	return nil
}

// Check probes the keyring: nil when it answers (even with "not found"),
// ErrNoKeyring otherwise. Call it at startup to tell the user early.
func (s *Store) Check() error {
	_, err := s.rawGet(".probe")
	if err == nil || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
