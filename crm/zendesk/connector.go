package zendesk

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"sync"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/oauth"
)

// Connector is the Zendesk crm.Connector for one Zendesk account.
type Connector struct {
	cfg  Config
	norm *crm.Normalizer

	mu       sync.Mutex
	sessions map[string]*Session
}

var _ crm.Connector = (*Connector)(nil)

// New validates cfg and returns a connector. Subdomain (or BaseURL),
// ClientID and Keyring are required.
func New(cfg Config) (*Connector, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.Logger = cfg.Logger.With("component", "crm", "crm", Name)
	return &Connector{cfg: cfg, norm: crm.NewNormalizer(cfg.Region), sessions: map[string]*Session{}}, nil
}

// Name implements crm.Connector.
func (c *Connector) Name() string { return Name }

// Capabilities implements crm.Connector: one ticket per request, made
// idempotent by the Idempotency-Key header and the external_id check.
func (c *Connector) Capabilities() crm.Capabilities {
	return crm.Capabilities{MaxBatch: MaxBatch, Idempotent: true}
}

// AuthorizeURL is the authorization endpoint.
func (c *Connector) AuthorizeURL() string { return c.cfg.BaseURL + "/oauth/authorizations/new" }

func (c *Connector) endpoint() oauth.Endpoint {
	return oauth.Endpoint{CRM: Name, URL: c.cfg.BaseURL + "/oauth/tokens", JSON: true, Client: c.cfg.HTTPClient}
}

// lifetimes adds the client id and the configured token lifetimes to a
// token request. (oauth.Endpoint sends JSON string values; Zendesk
// documents numbers here, so they are only sent when configured.)
func (c *Connector) lifetimes(v url.Values) url.Values {
	v.Set("client_id", c.cfg.ClientID)
	if c.cfg.AccessTTL > 0 {
		v.Set("expires_in", strconv.Itoa(int(c.cfg.AccessTTL.Seconds())))
	}
	if c.cfg.RefreshTTL > 0 {
		v.Set("refresh_token_expires_in", strconv.Itoa(int(c.cfg.RefreshTTL.Seconds())))
	}
	return v
}

func (c *Connector) refreshFunc() oauth.RefreshFunc {
	return func(ctx context.Context, rt string) (oauth.Token, error) {
		return c.endpoint().Exchange(ctx, c.lifetimes(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}))
	}
}

// SignIn implements crm.Connector: authorization code with PKCE through
// the loopback redirect in the system browser, then the identity from
// /api/v2/users/me.json. Zendesk has no forced-login parameter, so
// opts.ForceLogin cannot make the browser forget another agent's Zendesk
// session; the identity shown after sign-in is the check (see README).
func (c *Connector) SignIn(ctx context.Context, agentID string, opts crm.SignInOptions) (crm.Session, error) {
	if agentID == "" {
		return nil, fmt.Errorf("zendesk sign-in: no agent id")
	}
	lb := oauth.Loopback{CRM: "Zendesk", RedirectURL: c.cfg.RedirectURL, Opener: c.cfg.Opener, Timeout: opts.Timeout}
	grant, err := lb.Authorize(ctx, c.AuthorizeURL(), url.Values{"client_id": {c.cfg.ClientID}, "scope": {c.cfg.Scope}})
	if err != nil {
		return nil, err
	}
	tok, err := c.endpoint().Exchange(ctx, c.lifetimes(url.Values{
		"grant_type": {"authorization_code"}, "code": {grant.Code}, "redirect_uri": {grant.RedirectURI},
		"code_verifier": {grant.Verifier}, "scope": {c.cfg.Scope},
	}))
	if err != nil {
		return nil, fmt.Errorf("zendesk sign-in: %w", err)
	}
	if tok.Refresh == "" {
		return nil, &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "no_refresh_token",
			Message: "the OAuth client issued no refresh token; set refresh token lifetimes on the client"}
	}
	s := c.newSession(agentID)
	if err := s.tokens.Set(tok); err != nil {
		return nil, fmt.Errorf("zendesk sign-in: %w", err)
	}
	if err := s.loadIdentity(ctx); err != nil {
		return nil, fmt.Errorf("zendesk sign-in: read the signed-in user: %w", err)
	}
	c.mu.Lock()
	c.sessions[agentID] = s
	c.mu.Unlock()
	c.cfg.Logger.Info("signed in", "agent", agentID, "user", s.Identity().UserID)
	return s, nil
}

// Resume implements crm.Connector: the tokens come from the keyring
// (crm.ErrSignInRequired when there are none); the identity is read at
// once when Zendesk answers, else on the first request that needs it.
func (c *Connector) Resume(ctx context.Context, agentID string) (crm.Session, error) {
	c.mu.Lock()
	if s, ok := c.sessions[agentID]; ok {
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	s := c.newSession(agentID)
	if err := s.tokens.Load(); err != nil {
		return nil, fmt.Errorf("zendesk resume %s: %w", agentID, err)
	}
	if err := s.loadIdentity(ctx); err != nil {
		switch crm.KindOf(err) {
		case crm.KindAuthRevoked, crm.KindPermanent:
			return nil, fmt.Errorf("zendesk resume %s: %w", agentID, err)
		}
		c.cfg.Logger.Info("identity not read yet", "agent", agentID, "kind", crm.KindOf(err).String())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.sessions[agentID]; ok {
		return old, nil
	}
	c.sessions[agentID] = s
	return s, nil
}

func (c *Connector) newSession(agentID string) *Session {
	return &Session{c: c, agent: agentID, tokens: oauth.NewTokens(c.cfg.Keyring, c.cfg.Account, agentID, c.refreshFunc())}
}

func (c *Connector) forget(agentID string, s *Session) {
	c.mu.Lock()
	if c.sessions[agentID] == s {
		delete(c.sessions, agentID)
	}
	c.mu.Unlock()
}
