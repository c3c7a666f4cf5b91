package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/oauth"
	"github.com/callcentre/softphone/secrets"
)

// Connector is the HubSpot crm.Connector.
type Connector struct {
	cfg   Config
	norm  *crm.Normalizer
	disps map[string]string // lower-case outcome -> GUID

	mu       sync.Mutex
	sessions map[string]*Session
}

var _ crm.Connector = (*Connector)(nil)

// New returns a connector; Keyring is required, and ClientID with a
// loopback RedirectURL for AuthOAuth.
func New(cfg Config) (*Connector, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	disps := mergeDispositions(DefaultDispositions, nil, cfg.Dispositions)
	cfg.Logger = cfg.Logger.With("component", "crm", "crm", Name)
	return &Connector{cfg: cfg, norm: crm.NewNormalizer(cfg.Region), disps: disps, sessions: map[string]*Session{}}, nil
}

// mergeDispositions builds the outcome map: HubSpot's defaults, then the
// portal's own outcomes by label, then the admin's configured ones.
func mergeDispositions(layers ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, l := range layers {
		for k, v := range l {
			if k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v); k != "" && v != "" {
				out[k] = v
			}
		}
	}
	return out
}

// Name implements crm.Connector.
func (c *Connector) Name() string { return Name }

// Capabilities implements crm.Connector: batches of 100, idempotent
// through the unique call property.
func (c *Connector) Capabilities() crm.Capabilities {
	return crm.Capabilities{MaxBatch: MaxBatch, Idempotent: true}
}

// Mode is the configured sign-in mode.
func (c *Connector) Mode() AuthMode { return c.cfg.Auth }

// SetPortalToken provisions a portal (private-app) access token into the
// keyring: machine-wide when agentID is "" (under PortalAgent, what IT's
// provisioning does once per PC), or for one agent. SignIn verifies it.
func (c *Connector) SetPortalToken(agentID, token string) error {
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return fmt.Errorf("hubspot: %w: the portal token is empty or has spaces", ErrConfig)
	}
	if agentID == "" {
		agentID = PortalAgent
	}
	if err := c.cfg.Keyring.Set(agentID, c.cfg.Account, secrets.KindAccessToken, token); err != nil {
		return fmt.Errorf("hubspot: keep portal token: %w", err)
	}
	return nil
}

// SetClientSecret provisions the OAuth app's client secret into the
// keyring (machine-wide, under PortalAgent) for AuthOAuth.
func (c *Connector) SetClientSecret(secret string) error {
	secret = strings.TrimSpace(secret)
	if secret == "" {
		return fmt.Errorf("hubspot: %w: empty client secret", ErrConfig)
	}
	if err := c.cfg.Keyring.Set(PortalAgent, c.cfg.Account, secrets.KindClientSecret, secret); err != nil {
		return fmt.Errorf("hubspot: keep client secret: %w", err)
	}
	return nil
}

func (c *Connector) clientSecret() (string, error) {
	s, err := c.cfg.Keyring.Get(PortalAgent, c.cfg.Account, secrets.KindClientSecret)
	if errors.Is(err, secrets.ErrNotFound) || (err == nil && s == "") {
		return "", &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "no_client_secret",
			Message: "the HubSpot app's client secret is not provisioned on this computer; ask IT", Err: ErrNoClientSecret}
	}
	if err != nil {
		return "", fmt.Errorf("hubspot: read keyring: %w", err)
	}
	return s, nil
}

func (c *Connector) getSecret(agentID string, kind secrets.Kind) (string, error) {
	v, err := c.cfg.Keyring.Get(agentID, c.cfg.Account, kind)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("hubspot: read keyring: %w", err)
	}
	return v, nil
}

func (c *Connector) ownerEmail(agentID, signedIn string) string {
	if c.cfg.OwnerEmail != nil {
		if e := strings.TrimSpace(c.cfg.OwnerEmail(agentID)); e != "" {
			return e
		}
	}
	if signedIn != "" {
		return signedIn
	}
	if strings.Contains(agentID, "@") {
		return agentID
	}
	return ""
}

func (c *Connector) keep(s *Session) *Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sessions[s.agent] = s
	return s
}

func (c *Connector) forget(s *Session) {
	c.mu.Lock()
	if c.sessions[s.agent] == s {
		delete(c.sessions, s.agent)
	}
	c.mu.Unlock()
}

// SignIn implements crm.Connector. With the portal token it verifies the
// token IT provisioned (the agent's own, else the machine-wide one),
// resolves the agent's owner by e-mail, checks the call-key property and
// keeps the token under the agent. With OAuth it runs the browser sign-in
// (PKCE, loopback redirect, the provisioned client secret). HubSpot has no
// forced-login parameter, so opts.ForceLogin cannot be honoured at the
// identity provider: the signed-in user is checked and shown instead.
func (c *Connector) SignIn(ctx context.Context, agentID string, opts crm.SignInOptions) (crm.Session, error) {
	if agentID == "" {
		return nil, fmt.Errorf("hubspot sign-in: %w: no agent id", ErrConfig)
	}
	if c.cfg.Auth == AuthOAuth {
		return c.signInOAuth(ctx, agentID, opts)
	}
	own, err := c.getSecret(agentID, secrets.KindAccessToken)
	if err != nil {
		return nil, err
	}
	portal, err := c.getSecret(PortalAgent, secrets.KindAccessToken)
	if err != nil {
		return nil, err
	}
	var candidates []string
	for _, t := range []string{own, portal} {
		if t != "" && (len(candidates) == 0 || candidates[0] != t) {
			candidates = append(candidates, t)
		}
	}
	if len(candidates) == 0 {
		return nil, &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "no_portal_token",
			Message: "no HubSpot portal token is provisioned on this computer; ask IT", Err: ErrNoPortalToken}
	}
	var lastErr error
	for _, tok := range candidates {
		s := &Session{c: c, agent: agentID, static: tok}
		if err := s.setup(ctx, c.ownerEmail(agentID, ""), true); err != nil {
			lastErr = err
			if crm.KindOf(err) == crm.KindAuthRevoked {
				continue // a stale copy: try IT's current token
			}
			return nil, err
		}
		if err := c.cfg.Keyring.Set(agentID, c.cfg.Account, secrets.KindAccessToken, tok); err != nil {
			return nil, fmt.Errorf("hubspot: keep portal token: %w", err)
		}
		c.cfg.Logger.Info("signed in", "agent", agentID, "mode", c.cfg.Auth.String(), "owner", s.OwnerID())
		return c.keep(s), nil
	}
	return nil, lastErr
}

func (c *Connector) tokenEndpoint() oauth.Endpoint {
	return oauth.Endpoint{CRM: Name, URL: c.cfg.APIURL + "/oauth/v3/token", Client: c.cfg.HTTPClient}
}

func (c *Connector) refreshFunc() oauth.RefreshFunc {
	return func(ctx context.Context, rt string) (oauth.Token, error) {
		secret, err := c.clientSecret()
		if err != nil {
			return oauth.Token{}, err
		}
		return c.tokenEndpoint().Exchange(ctx, url.Values{"grant_type": {"refresh_token"}, "client_id": {c.cfg.ClientID},
			"client_secret": {secret}, "refresh_token": {rt}})
	}
}

func (c *Connector) signInOAuth(ctx context.Context, agentID string, opts crm.SignInOptions) (crm.Session, error) {
	secret, err := c.clientSecret()
	if err != nil {
		return nil, err
	}
	lb := oauth.Loopback{CRM: "HubSpot", RedirectURL: c.cfg.RedirectURL, Opener: c.cfg.Opener, Timeout: opts.Timeout}
	grant, err := lb.Authorize(ctx, c.cfg.AuthorizeURL, url.Values{"client_id": {c.cfg.ClientID}, "scope": {strings.Join(c.cfg.Scopes, " ")}})
	if err != nil {
		return nil, err
	}
	tok, err := c.tokenEndpoint().Exchange(ctx, url.Values{"grant_type": {"authorization_code"}, "client_id": {c.cfg.ClientID},
		"client_secret": {secret}, "redirect_uri": {grant.RedirectURI}, "code": {grant.Code}, "code_verifier": {grant.Verifier}})
	if err != nil {
		return nil, err
	}
	if tok.Refresh == "" {
		return nil, &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "no_refresh_token", Message: "HubSpot did not grant a refresh token"}
	}
	s := &Session{c: c, agent: agentID, tokens: oauth.NewTokens(c.cfg.Keyring, c.cfg.Account, agentID, c.refreshFunc())}
	if err := s.tokens.Set(tok); err != nil {
		return nil, fmt.Errorf("hubspot: %w", err)
	}
	if err := s.setup(ctx, "", true); err != nil {
		_ = s.tokens.Clear()
		return nil, err
	}
	c.cfg.Logger.Info("signed in", "agent", agentID, "mode", c.cfg.Auth.String(), "owner", s.OwnerID())
	return c.keep(s), nil
}

// Resume implements crm.Connector: the agent's kept portal token, or its
// OAuth token pair, from the keyring; the owner and portal are read again.
// ErrSignInRequired when the agent has nothing kept or it was refused.
func (c *Connector) Resume(ctx context.Context, agentID string) (crm.Session, error) {
	c.mu.Lock()
	if s, ok := c.sessions[agentID]; ok {
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	s := &Session{c: c, agent: agentID}
	if c.cfg.Auth == AuthOAuth {
		s.tokens = oauth.NewTokens(c.cfg.Keyring, c.cfg.Account, agentID, c.refreshFunc())
		if err := s.tokens.Load(); err != nil {
			return nil, fmt.Errorf("hubspot resume: %w", err)
		}
	} else {
		tok, err := c.getSecret(agentID, secrets.KindAccessToken)
		if err != nil {
			return nil, err
		}
		if tok == "" {
			return nil, fmt.Errorf("hubspot resume: %w", crm.ErrSignInRequired)
		}
		s.static = tok
	}
	if err := s.setup(ctx, c.ownerEmail(agentID, ""), false); err != nil {
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

// send performs one request and reads the body.
func (c *Connector) send(req *http.Request, write bool) ([]byte, int, http.Header, error) {
	return crm.Send(c.cfg.HTTPClient, Name, req, write)
}
