package oauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/secrets"
)

// RefreshFunc asks the provider for a new access token with refresh
// token rt (an Endpoint.Exchange with grant_type=refresh_token).
type RefreshFunc func(ctx context.Context, rt string) (Token, error)

// Tokens is one agent's token pair. The refresh token lives in the
// keyring (account, agent); the access token too, so a restart within its
// lifetime needs no refresh.
type Tokens struct {
	kr      crm.Keyring
	agent   string
	account string
	refresh RefreshFunc

	refreshMu sync.Mutex // single flight

	mu      sync.Mutex
	access  string
	rt      string
	expiry  time.Time
	gen     int
	revoked bool
}

// NewTokens returns the token pair of agent under account, refreshed
// through refresh.
func NewTokens(kr crm.Keyring, account, agent string, refresh RefreshFunc) *Tokens {
	return &Tokens{kr: kr, agent: agent, account: account, refresh: refresh}
}

// Set keeps a fresh token pair (after a sign-in): the refresh token first,
// then the access token, so a crash in between never loses the refresh
// token. A token without a refresh token keeps the one already held.
func (t *Tokens) Set(tok Token) error {
	t.mu.Lock()
	rt := tok.Refresh
	if rt == "" {
		rt = t.rt
	}
	t.mu.Unlock()
	if rt != "" {
		if err := t.kr.Set(t.agent, t.account, secrets.KindRefreshToken, rt); err != nil {
			return fmt.Errorf("keep refresh token: %w", err)
		}
		// The provider may have killed the old refresh token (rotation):
		// from here on only the new one is any use, even if keeping the
		// access token fails below.
		t.mu.Lock()
		t.rt = rt
		t.mu.Unlock()
	}
	if err := t.kr.Set(t.agent, t.account, secrets.KindAccessToken, tok.Access); err != nil {
		return fmt.Errorf("keep access token: %w", err)
	}
	t.mu.Lock()
	t.access, t.rt, t.expiry, t.revoked = tok.Access, rt, tok.Expiry, false
	t.gen++
	t.mu.Unlock()
	return nil
}

// Load reads the pair from the keyring (after a restart). It returns
// crm.ErrSignInRequired when no refresh token is stored; the access token
// is optional (a refresh gets one).
func (t *Tokens) Load() error {
	rt, err := t.kr.Get(t.agent, t.account, secrets.KindRefreshToken)
	if errors.Is(err, secrets.ErrNotFound) {
		return fmt.Errorf("%s: %w", t.account, crm.ErrSignInRequired)
	}
	if err != nil {
		return fmt.Errorf("read keyring: %w", err)
	}
	at, err := t.kr.Get(t.agent, t.account, secrets.KindAccessToken)
	if err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return fmt.Errorf("read keyring: %w", err)
	}
	t.mu.Lock()
	t.access, t.rt, t.gen = at, rt, t.gen+1
	t.mu.Unlock()
	return nil
}

// Access returns the access token and its generation (for Refresh). An
// empty token or one past its expiry should be refreshed before use.
func (t *Tokens) Access() (string, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.access, t.gen
}

// Fresh returns an access token, refreshing first when none is held or it
// expires within a minute.
func (t *Tokens) Fresh(ctx context.Context) (string, int, error) {
	t.mu.Lock()
	at, gen, exp := t.access, t.gen, t.expiry
	t.mu.Unlock()
	if at != "" && (exp.IsZero() || time.Until(exp) > time.Minute) {
		return at, gen, nil
	}
	if err := t.Refresh(ctx, gen); err != nil {
		return "", 0, err
	}
	at, gen = t.Access()
	return at, gen, nil
}

// RefreshToken returns the refresh token held (for revocation).
func (t *Tokens) RefreshToken() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rt
}

// Refresh gets a new access token unless another caller already did since
// generation gen (the one whose token was refused). A rotated refresh
// token is persisted before the new access token is used. A dead refresh
// token (KindAuthRevoked) removes both tokens from the keyring: the agent
// must sign in again, and every later call fails at once with
// crm.ErrSignInRequired.
func (t *Tokens) Refresh(ctx context.Context, gen int) error {
	t.refreshMu.Lock()
	defer t.refreshMu.Unlock()
	t.mu.Lock()
	if t.revoked {
		t.mu.Unlock()
		return fmt.Errorf("%s: %w", t.account, crm.ErrSignInRequired)
	}
	if t.gen != gen {
		t.mu.Unlock()
		return nil
	}
	rt := t.rt
	t.mu.Unlock()
	if rt == "" {
		return fmt.Errorf("%s: %w", t.account, crm.ErrSignInRequired)
	}
	tok, err := t.refresh(ctx, rt)
	if err != nil {
		if IsRevoked(err) {
			t.mu.Lock()
			t.revoked = true
			t.mu.Unlock()
			_ = t.Clear()
		}
		return err
	}
	return t.Set(tok)
}

// Clear removes both tokens from the keyring and memory.
func (t *Tokens) Clear() error {
	t.mu.Lock()
	t.access, t.rt = "", ""
	t.gen++
	t.mu.Unlock()
	var errs []error
	for _, k := range []secrets.Kind{secrets.KindAccessToken, secrets.KindRefreshToken} {
		if err := t.kr.Delete(t.agent, t.account, k); err != nil && !errors.Is(err, secrets.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
