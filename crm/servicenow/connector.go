package servicenow

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/oauth"
	"github.com/callcentre/softphone/secrets"
)

// Connector is the ServiceNow crm.Connector of one instance.
type Connector struct {
	cfg  Config
	norm *crm.Normalizer

	// keyFieldMissing is set once an insert came back without the call
	// key field: logging stops (see LogCalls).
	keyFieldMissing atomic.Bool

	mu       sync.Mutex
	sessions map[string]*session
}

var _ crm.Connector = (*Connector)(nil)

// New returns a connector; InstanceURL, ClientID and Keyring are required.
func New(cfg Config) (*Connector, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("servicenow: %w", err)
	}
	cfg.Logger = cfg.Logger.With("component", "crm", "crm", Name)
	return &Connector{cfg: cfg, norm: crm.NewNormalizer(cfg.Region), sessions: map[string]*session{}}, nil
}

// Name implements crm.Connector.
func (c *Connector) Name() string { return Name }

// Capabilities implements crm.Connector: one record per request; a replay
// never duplicates (unique call key field, or the import set's coalesce).
func (c *Connector) Capabilities() crm.Capabilities {
	return crm.Capabilities{MaxBatch: MaxBatch, Idempotent: true}
}

// Config returns the effective configuration (defaults applied).
func (c *Connector) Config() Config { return c.cfg }

// clientSecret returns the IT-provisioned client secret, or "" when none
// is stored (a public client).
func (c *Connector) clientSecret() (string, error) {
	v, err := c.cfg.Keyring.Get(c.cfg.ClientSecretAgent, c.cfg.Account, secrets.KindClientSecret)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("servicenow: read client secret: %w", err)
	}
	return v, nil
}

// exchange posts a token request (form) to oauth_token.do, adding the
// client id and the client secret when one is provisioned.
func (c *Connector) exchange(ctx context.Context, params url.Values) (oauth.Token, error) {
	params.Set("client_id", c.cfg.ClientID)
	sec, err := c.clientSecret()
	if err != nil {
		return oauth.Token{}, err
	}
	if sec != "" {
		params.Set("client_secret", sec)
	}
	ep := oauth.Endpoint{CRM: Name, URL: c.cfg.InstanceURL + "/oauth_token.do", Client: c.cfg.HTTPClient}
	return ep.Exchange(ctx, params)
}

func (c *Connector) newTokens(agentID string) *oauth.Tokens {
	return oauth.NewTokens(c.cfg.Keyring, c.cfg.Account, agentID, func(ctx context.Context, rt string) (oauth.Token, error) {
		return c.exchange(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	})
}

// SignIn implements crm.Connector: the authorization code flow with PKCE
// at oauth_auth.do through a one-shot loopback listener, the code
// exchanged at oauth_token.do, the tokens kept in the keyring, and the
// signed-in user read from sys_user. ServiceNow has no forced-login
// parameter, so ForceLogin cannot make the instance ask again: Identity
// tells who signed in.
func (c *Connector) SignIn(ctx context.Context, agentID string, opts crm.SignInOptions) (crm.Session, error) {
	if agentID == "" {
		return nil, fmt.Errorf("servicenow sign-in: %w: no agent", ErrConfig)
	}
	lb := oauth.Loopback{CRM: "ServiceNow", RedirectURL: c.cfg.RedirectURL, Opener: c.cfg.Opener, Timeout: opts.Timeout}
	grant, err := lb.Authorize(ctx, c.cfg.InstanceURL+"/oauth_auth.do", url.Values{"client_id": {c.cfg.ClientID}})
	if err != nil {
		return nil, err
	}
	tok, err := c.exchange(ctx, url.Values{
		"grant_type": {"authorization_code"}, "code": {grant.Code}, "redirect_uri": {grant.RedirectURI},
		"code_verifier": {grant.Verifier},
	})
	if err != nil {
		return nil, err
	}
	if tok.Refresh == "" {
		return nil, &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "no_refresh_token",
			Message: "the instance issued no refresh token; set a Refresh Token Lifespan on the application registry entry"}
	}
	s := &session{c: c, agent: agentID, tok: c.newTokens(agentID)}
	if err := s.tok.Set(tok); err != nil {
		return nil, fmt.Errorf("servicenow sign-in: %w", err)
	}
	if err := s.loadIdentity(ctx); err != nil {
		// Without the user's sys_id no call can be attributed: the sign-in
		// failed, and its tokens do not stay on the PC.
		return nil, errors.Join(err, s.tok.Clear())
	}
	c.mu.Lock()
	c.sessions[agentID] = s
	c.mu.Unlock()
	c.cfg.Logger.Info("signed in", "agent", agentID, "user", s.Identity().UserID)
	return s, nil
}

// Resume implements crm.Connector: the agent's tokens from the keyring
// (refreshed when the access token is missing or refused) and the
// signed-in user from sys_user. ErrSignInRequired when nothing is stored
// or the refresh token was revoked.
func (c *Connector) Resume(ctx context.Context, agentID string) (crm.Session, error) {
	c.mu.Lock()
	if s, ok := c.sessions[agentID]; ok {
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	s := &session{c: c, agent: agentID, tok: c.newTokens(agentID)}
	if err := s.tok.Load(); err != nil {
		return nil, fmt.Errorf("servicenow resume %s: %w", agentID, err)
	}
	if err := s.loadIdentity(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.sessions[agentID]; ok {
		return old, nil
	}
	c.sessions[agentID] = s
	return s, nil
}

func (c *Connector) forget(agentID string, s *session) {
	c.mu.Lock()
	if c.sessions[agentID] == s {
		delete(c.sessions, agentID)
	}
	c.mu.Unlock()
}

// revoke asks the instance to revoke token (oauth_revoke_token.do, no
// authentication needed).
func (c *Connector) revoke(ctx context.Context, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		c.cfg.InstanceURL+"/oauth_revoke_token.do?"+url.Values{"token": {token}}.Encode(), nil)
	if err != nil {
		return err
	}
	_, status, hdr, err := crm.Send(c.cfg.HTTPClient, Name, req, false)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return crm.StatusError(Name, status, hdr, false, "revoke_failed", "token revocation refused")
	}
	return nil
}
