package dynamics

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/oauth"
)

// Connector is the Dynamics 365 / Dataverse crm.Connector.
type Connector struct {
	cfg  Config
	norm *crm.Normalizer
	tok  oauth.Endpoint

	mu       sync.Mutex
	sessions map[string]*session
}

var _ crm.Connector = (*Connector)(nil)

// New validates cfg and returns a connector.
func New(cfg Config) (*Connector, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	cfg.Logger = cfg.Logger.With("component", "crm", "crm", Name)
	c := &Connector{cfg: cfg, norm: crm.NewNormalizer(cfg.Region), sessions: map[string]*session{}}
	c.tok = oauth.Endpoint{CRM: Name, URL: c.endpoint("token"), Client: cfg.HTTPClient}
	return c, nil
}

// Name implements crm.Connector.
func (c *Connector) Name() string { return Name }

// Capabilities implements crm.Connector: one phone call per request,
// idempotent through the deterministic activityid.
func (c *Connector) Capabilities() crm.Capabilities {
	return crm.Capabilities{MaxBatch: MaxBatch, Idempotent: true}
}

func (c *Connector) endpoint(what string) string {
	return c.cfg.Authority + "/" + url.PathEscape(c.cfg.Tenant) + "/oauth2/v2.0/" + what
}

// refresher is the oauth.RefreshFunc: Entra rotates the refresh token on
// every use. Besides invalid_grant, Entra refuses a refresh with
// interaction_required (MFA or a Conditional Access sign-in frequency),
// consent_required or login_required, and with invalid_client when the
// app registration changed: none of those is a refusal of the data, and
// only an interactive sign-in can cure them, so they are KindAuthRevoked
// (the outbox keeps the agent's logs and asks for a sign-in) rather than
// KindPermanent (which would dead-letter them).
func (c *Connector) refresher(ctx context.Context, rt string) (oauth.Token, error) {
	tok, err := c.tok.Exchange(ctx, url.Values{"grant_type": {"refresh_token"}, "client_id": {c.cfg.ClientID},
		"refresh_token": {rt}, "scope": {c.cfg.Scope}})
	var e *crm.Error
	if err != nil && errors.As(err, &e) && e.Kind == crm.KindPermanent {
		e.Kind, e.Err = crm.KindAuthRevoked, crm.ErrSignInRequired
	}
	return tok, err
}

// SignIn implements crm.Connector: Entra ID's authorization code flow
// with PKCE through a loopback listener on a free port (Entra ignores the
// port of http://localhost), prompt=login on shared PCs or with
// ForceLogin, else prompt=select_account. The tokens go to the keyring;
// the identity comes from WhoAmI and the systemuser's name.
func (c *Connector) SignIn(ctx context.Context, agentID string, opts crm.SignInOptions) (crm.Session, error) {
	prompt := "select_account"
	if c.cfg.SharedPC || opts.ForceLogin {
		prompt = "login"
	}
	lb := oauth.Loopback{CRM: "Dynamics 365", RedirectURL: c.cfg.RedirectURL, Opener: c.cfg.Opener, Timeout: opts.Timeout}
	grant, err := lb.Authorize(ctx, c.endpoint("authorize"), url.Values{
		"client_id": {c.cfg.ClientID}, "scope": {c.cfg.Scope}, "response_mode": {"query"}, "prompt": {prompt},
	})
	if err != nil {
		return nil, err
	}
	tok, err := c.tok.Exchange(ctx, url.Values{"grant_type": {"authorization_code"}, "client_id": {c.cfg.ClientID},
		"code": {grant.Code}, "redirect_uri": {grant.RedirectURI}, "code_verifier": {grant.Verifier}, "scope": {c.cfg.Scope}})
	if err != nil {
		return nil, err
	}
	return c.finishSignIn(ctx, agentID, tok)
}

// finishSignIn keeps a fresh token pair and reads who signed in.
func (c *Connector) finishSignIn(ctx context.Context, agentID string, tok oauth.Token) (crm.Session, error) {
	if tok.Refresh == "" {
		return nil, &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "no_refresh_token",
			Message: "Entra ID granted no refresh token; the app registration must allow the offline_access scope"}
	}
	s := c.newSession(agentID)
	if err := s.tok.Set(tok); err != nil {
		return nil, fmt.Errorf("dynamics sign-in: %w", err)
	}
	if err := s.loadIdentity(ctx); err != nil {
		// The agent did sign in; the tokens stay so a later Resume works.
		return nil, fmt.Errorf("dynamics sign-in: read the signed-in user: %w", err)
	}
	c.mu.Lock()
	c.sessions[agentID] = s
	c.mu.Unlock()
	c.cfg.Logger.Info("signed in", "agent", agentID)
	return s, nil
}

// Resume implements crm.Connector: the tokens from the keyring (a refresh
// when the access token is refused), then WhoAmI for the identity. It
// returns crm.ErrSignInRequired when nothing is stored or the refresh
// token is dead.
func (c *Connector) Resume(ctx context.Context, agentID string) (crm.Session, error) {
	c.mu.Lock()
	if s, ok := c.sessions[agentID]; ok {
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	s := c.newSession(agentID)
	if err := s.tok.Load(); err != nil {
		return nil, fmt.Errorf("dynamics resume %s: %w", agentID, err)
	}
	if err := s.loadIdentity(ctx); err != nil {
		if oauth.IsRevoked(err) && !errors.Is(err, crm.ErrSignInRequired) {
			err = fmt.Errorf("%w: %w", crm.ErrSignInRequired, err)
		}
		return nil, fmt.Errorf("dynamics resume %s: %w", agentID, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.sessions[agentID]; ok {
		return old, nil
	}
	c.sessions[agentID] = s
	return s, nil
}

func (c *Connector) newSession(agentID string) *session {
	s := &session{c: c, agent: agentID}
	s.tok = oauth.NewTokens(c.cfg.Keyring, c.cfg.Account, agentID, c.refresher)
	return s
}

func (c *Connector) forget(agentID string, s *session) {
	c.mu.Lock()
	if c.sessions[agentID] == s {
		delete(c.sessions, agentID)
	}
	c.mu.Unlock()
}
