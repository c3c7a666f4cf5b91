package hubspot

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/callcentre/softphone/crm"
)

// Name is the connector's outbox target name.
const Name = "hubspot"

// Defaults.
const (
	DefaultAPIURL       = "https://api.hubapi.com"
	DefaultAuthorizeURL = "https://app.hubspot.com/oauth/authorize"
	DefaultRedirectURL  = "http://localhost:1718/oauth-callback"
	DefaultCallKey      = "cti_call_id"
	DefaultTimeout      = 30 * time.Second
	// PortalAgent is the keyring "agent" under which IT provisions the
	// machine-wide portal token and the OAuth client secret; it survives
	// an agent's sign-out and hot-desk logout.
	PortalAgent = "hubspot-portal"
	// MaxBatch is HubSpot's batch limit (inputs per request).
	MaxBatch = 100
)

// DefaultScopes are the OAuth scopes per-agent sign-in asks for (the
// private app needs the same ones, see README.md).
var DefaultScopes = []string{"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write",
	"crm.objects.companies.read", "crm.objects.owners.read"}

// AuthMode is how agents get a HubSpot credential. The numbers are kept in
// configuration: never renumber.
type AuthMode uint8

// AuthMode values.
const (
	// AuthPortalToken (the default): IT provisions a private-app or
	// installed-app access token per portal; calls are attributed to the
	// agent's owner id.
	AuthPortalToken AuthMode = 0
	// AuthOAuth: each agent signs in through the browser (PKCE plus the
	// client secret IT provisioned in the keyring).
	AuthOAuth AuthMode = 1
)

// String names the mode.
func (m AuthMode) String() string {
	switch m {
	case AuthPortalToken:
		return "portal-token"
	case AuthOAuth:
		return "oauth"
	}
	return fmt.Sprintf("auth-mode(%d)", uint8(m))
}

// Default outcome names (case-insensitive) and HubSpot's default call
// outcome GUIDs of every portal.
var DefaultDispositions = map[string]string{
	"busy":              "9d9162e7-6cf3-4944-bf63-4dff82258764",
	"connected":         "f240bbac-87c9-4f6e-bf70-924b57d47db7",
	"left live message": "a4c4c377-d246-4b32-a13b-75a56a4cd0ff",
	"left voicemail":    "b2cf5968-551e-4856-9783-52b3da59a7d0",
	"no answer":         "73a0d17f-1163-4015-bdd5-ec830791da20",
	"wrong number":      "17b47fee-58de-441e-a44c-c6300d46f273",
}

// Config configures the connector.
type Config struct {
	// Auth chooses the portal token (default) or per-agent OAuth.
	Auth AuthMode
	// APIURL is the API base (default https://api.hubapi.com); the token,
	// introspection and revocation endpoints live there too.
	APIURL string
	// AuthorizeURL is the OAuth consent page (default
	// https://app.hubspot.com/oauth/authorize). OAuth only.
	AuthorizeURL string
	// ClientID is the app's client id. OAuth only (required there).
	ClientID string
	// RedirectURL is the loopback redirect registered in the app (default
	// http://localhost:1718/oauth-callback). OAuth only.
	RedirectURL string
	// Scopes asked for at sign-in (default DefaultScopes). OAuth only.
	Scopes []string
	// OwnerEmail gives an agent's e-mail address in HubSpot, used to find
	// the agent's owner id. Default: the agent id itself when it is an
	// e-mail address. With OAuth the signed-in user's address is used
	// when this is nil.
	OwnerEmail func(agentID string) string
	// CallKeyProperty is the custom call property with "unique values"
	// that holds the idempotency key (default cti_call_id).
	CallKeyProperty string
	// Dispositions maps outcome names (case-insensitive) to call outcome
	// GUIDs; it extends and overrides DefaultDispositions (custom
	// outcomes of the portal). An outcome with no GUID goes into the
	// call's notes.
	Dispositions map[string]string
	// UIURL overrides the base of screen-pop URLs (default
	// https://{uiDomain} from account-info); demo mode points it at the
	// emulator.
	UIURL string
	// Region is the default region for national numbers ("US").
	Region string
	// Account names the keyring entries (default "hubspot").
	Account string

	// Keyring keeps the tokens (the OS keyring through *secrets.Store).
	Keyring crm.Keyring
	// Opener opens the authorize URL in the system browser
	// (crm.OpenBrowser). OAuth only.
	Opener crm.Opener
	// HTTPClient is used for every request (default: 30 s timeout); past
	// its timeout a write is ambiguous.
	HTTPClient *http.Client
	// Logger receives operational logs (never tokens, numbers or notes).
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if c.AuthorizeURL == "" {
		c.AuthorizeURL = DefaultAuthorizeURL
	}
	if c.RedirectURL == "" {
		c.RedirectURL = DefaultRedirectURL
	}
	if len(c.Scopes) == 0 {
		c.Scopes = DefaultScopes
	}
	if c.CallKeyProperty == "" {
		c.CallKeyProperty = DefaultCallKey
	}
	if c.Account == "" {
		c.Account = Name
	}
	if c.Opener == nil {
		c.Opener = crm.OpenBrowser
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.UIURL = strings.TrimRight(c.UIURL, "/")
}

func (c *Config) validate() error {
	if c.Keyring == nil {
		return fmt.Errorf("hubspot: %w: no keyring", ErrConfig)
	}
	if c.Auth != AuthPortalToken && c.Auth != AuthOAuth {
		return fmt.Errorf("hubspot: %w: unknown auth mode %d", ErrConfig, c.Auth)
	}
	for name, u := range map[string]string{"api url": c.APIURL, "authorize url": c.AuthorizeURL, "ui url": c.UIURL} {
		if u == "" {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			return fmt.Errorf("hubspot: %w: %s %q is not an http(s) url", ErrConfig, name, u)
		}
	}
	if c.Auth == AuthOAuth {
		if c.ClientID == "" {
			return fmt.Errorf("hubspot: %w: oauth needs a client id", ErrConfig)
		}
		ru, err := url.Parse(c.RedirectURL)
		if err != nil || ru.Scheme != "http" || (ru.Hostname() != "localhost" && ru.Hostname() != "127.0.0.1") || ru.Port() == "" {
			return fmt.Errorf("hubspot: %w: redirect url %q must be http://localhost:PORT/... as registered in the app", ErrConfig, c.RedirectURL)
		}
	}
	if strings.TrimSpace(c.CallKeyProperty) != c.CallKeyProperty || strings.ContainsAny(c.CallKeyProperty, " /?#") {
		return fmt.Errorf("hubspot: %w: call key property %q is not a property name", ErrConfig, c.CallKeyProperty)
	}
	for k, v := range c.Dispositions {
		if strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return fmt.Errorf("hubspot: %w: empty outcome or disposition id in the disposition map", ErrConfig)
		}
	}
	return nil
}
