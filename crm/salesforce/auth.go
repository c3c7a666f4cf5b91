package salesforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/oauth"
	"github.com/callcentre/softphone/secrets"
)

// DefaultSignInTimeout bounds the browser round trip.
const DefaultSignInTimeout = 5 * time.Minute

// Connector is the Salesforce crm.Connector.
type Connector struct {
	cfg  Config
	norm *crm.Normalizer

	mu       sync.Mutex
	sessions map[string]*session
}

var _ crm.Connector = (*Connector)(nil)

// New returns a connector. ClientID and Keyring are required.
func New(cfg Config) (*Connector, error) {
	cfg.defaults()
	if cfg.ClientID == "" {
		return nil, fmt.Errorf("salesforce: %w: no client id", ErrConfig)
	}
	if cfg.Keyring == nil {
		return nil, fmt.Errorf("salesforce: %w: no keyring", ErrConfig)
	}
	if _, err := url.Parse(cfg.RedirectURL); err != nil {
		return nil, fmt.Errorf("salesforce: %w: redirect url: %w", ErrConfig, err)
	}
	cfg.Logger = cfg.Logger.With("component", "crm", "crm", Name)
	return &Connector{cfg: cfg, norm: crm.NewNormalizer(cfg.Region), sessions: map[string]*session{}}, nil
}

// Name implements crm.Connector.
func (c *Connector) Name() string { return Name }

// Capabilities implements crm.Connector.
func (c *Connector) Capabilities() crm.Capabilities {
	return crm.Capabilities{MaxBatch: MaxBatch, Idempotent: true}
}

// tokenResponse is the token endpoint's answer (no expires_in).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	InstanceURL  string `json:"instance_url"`
	ID           string `json:"id"`
	TokenType    string `json:"token_type"`
	IssuedAt     string `json:"issued_at"`
	Scope        string `json:"scope"`
}

// SignIn implements crm.Connector: the authorization code flow with PKCE
// through a one-shot loopback listener on 127.0.0.1 (crm/oauth), in the
// system browser.
func (c *Connector) SignIn(ctx context.Context, agentID string, opts crm.SignInOptions) (crm.Session, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultSignInTimeout
	}
	params := url.Values{"client_id": {c.cfg.ClientID}, "scope": {"api refresh_token"}}
	if c.cfg.SharedPC || opts.ForceLogin {
		params.Set("prompt", "login")
	}
	lb := oauth.Loopback{CRM: "Salesforce", RedirectURL: c.cfg.RedirectURL, Opener: c.cfg.Opener, Timeout: opts.Timeout}
	g, err := lb.Authorize(ctx, strings.TrimRight(c.cfg.LoginURL, "/")+"/services/oauth2/authorize", params)
	if err != nil {
		return nil, err
	}
	tok, err := c.tokenRequest(ctx, c.cfg.LoginURL, url.Values{
		"grant_type": {"authorization_code"}, "code": {g.Code}, "client_id": {c.cfg.ClientID},
		"redirect_uri": {g.RedirectURI}, "code_verifier": {g.Verifier},
	})
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		return nil, &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "no_refresh_token",
			Message: "the connected app did not grant refresh_token; add the refresh_token scope"}
	}
	s := c.newSession(agentID, tok, tok.RefreshToken)
	if err := s.persist(tok.RefreshToken, tok.AccessToken); err != nil {
		return nil, err
	}
	if err := s.loadIdentity(ctx); err != nil {
		c.cfg.Logger.Warn("identity not read", "agent", agentID, "err", err)
	}
	c.mu.Lock()
	c.sessions[agentID] = s
	c.mu.Unlock()
	c.cfg.Logger.Info("signed in", "agent", agentID, "user", s.Identity().UserID)
	return s, nil
}

// Resume implements crm.Connector: it refreshes the access token with the
// agent's refresh token from the keyring (which also gives the instance
// URL). ErrSignInRequired when no refresh token is stored or it was
// revoked.
func (c *Connector) Resume(ctx context.Context, agentID string) (crm.Session, error) {
	c.mu.Lock()
	if s, ok := c.sessions[agentID]; ok {
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()
	rt, err := c.cfg.Keyring.Get(agentID, c.cfg.Account, secrets.KindRefreshToken)
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, fmt.Errorf("salesforce resume %s: %w", agentID, crm.ErrSignInRequired)
	}
	if err != nil {
		return nil, fmt.Errorf("salesforce resume: read keyring: %w", err)
	}
	tok, err := c.tokenRequest(ctx, c.cfg.LoginURL, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {c.cfg.ClientID},
	})
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken != "" {
		rt = tok.RefreshToken
	}
	s := c.newSession(agentID, tok, rt)
	if err := s.persist(rt, tok.AccessToken); err != nil {
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

func (c *Connector) newSession(agentID string, tok tokenResponse, rt string) *session {
	s := &session{c: c, agent: agentID, access: tok.AccessToken, refresh: rt, instance: strings.TrimRight(tok.InstanceURL, "/")}
	// The identity URL ends with /id/{org}/{user}.
	parts := strings.Split(strings.TrimRight(tok.ID, "/"), "/")
	if len(parts) >= 2 {
		s.ident.OrgID, s.ident.UserID = parts[len(parts)-2], parts[len(parts)-1]
	}
	return s
}

// tokenRequest posts to the token endpoint. invalid_grant means the
// refresh token or code is dead: KindAuthRevoked wrapping
// ErrSignInRequired.
func (c *Connector) tokenRequest(ctx context.Context, base string, form url.Values) (tokenResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/services/oauth2/token", strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResponse{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	body, status, _, err := c.send(req, false)
	if err != nil {
		return tokenResponse{}, err
	}
	if status != http.StatusOK {
		var oe struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &oe)
		e := &crm.Error{CRM: Name, Kind: crm.KindPermanent, Status: status, Code: oe.Error, Message: oe.Description}
		switch {
		case oe.Error == "invalid_grant":
			e.Kind, e.Err = crm.KindAuthRevoked, crm.ErrSignInRequired
		case status >= 500 || status == http.StatusTooManyRequests:
			e.Kind = crm.KindTransient
		}
		return tokenResponse{}, e
	}
	var tok tokenResponse
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" || tok.InstanceURL == "" {
		return tokenResponse{}, &crm.Error{CRM: Name, Kind: crm.KindTransient, Status: status, Code: "bad_token_response", Message: "unreadable token response", Err: err}
	}
	return tok, nil
}

// send performs one request and reads the body; transport failures are
// classified by crm.TransportError.
func (c *Connector) send(req *http.Request, write bool) ([]byte, int, http.Header, error) {
	return crm.Send(c.cfg.HTTPClient, Name, req, write)
}
