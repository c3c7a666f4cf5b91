package dynamics

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/callcentre/softphone/crm"
)

// Defaults.
const (
	// Name is the connector's outbox target name.
	Name = "dynamics"
	// DefaultAuthority is Microsoft Entra ID's global authority.
	DefaultAuthority = "https://login.microsoftonline.com"
	// DefaultTenant lets any work account sign in; set the tenant id to
	// pin the organisation.
	DefaultTenant = "organizations"
	// DefaultRedirectURL is the loopback redirect registered on the app
	// ("Mobile and desktop applications"); Entra ignores its port, so the
	// sign-in listens on a free one.
	DefaultRedirectURL = "http://localhost"
	// DefaultAPIVersion is the pinned Web API version.
	DefaultAPIVersion = "9.2"
	// DefaultTimeout bounds each request of the default HTTP client.
	DefaultTimeout = 30 * time.Second
	// MaxBatch is the most logs one LogCalls carries: one phone call
	// activity at a time ($batch is not used).
	MaxBatch = 1
)

// Column mapping keys (Config.Columns): which call-log values go to which
// custom phonecall column. Without a column the outcome, queue and
// recording links are written into the description.
const (
	ColumnCallKey   = "call_key"  // the idempotency key as text
	ColumnOutcome   = "outcome"   // the disposition
	ColumnQueue     = "queue"     // the queue the call came through
	ColumnRecording = "recording" // the recording links, one per line
)

// Config configures the connector. OrgURL, ClientID and Keyring are
// required.
type Config struct {
	// OrgURL is the Dataverse environment, https://contoso.crm.dynamics.com
	// (the Web API and the screen-pop pages live under it).
	OrgURL string
	// Authority is the Entra ID authority (DefaultAuthority); Tenant is
	// the directory (tenant) id or domain, or "organizations"
	// (DefaultTenant). The endpoints are {Authority}/{Tenant}/oauth2/v2.0/.
	Authority string
	Tenant    string
	// ClientID is the application (client) id of the app registration: a
	// public client (Allow public client flows = Yes), no secret.
	ClientID string
	// RedirectURL is the registered loopback redirect (DefaultRedirectURL,
	// http://localhost): its port is ignored by Entra, so a free port is
	// used for each sign-in.
	RedirectURL string
	// Scope overrides the requested scopes (default: OrgURL +
	// "/user_impersonation offline_access openid profile").
	Scope string
	// SharedPC asks Entra for a fresh login (prompt=login) at every
	// sign-in; otherwise the account picker is shown
	// (prompt=select_account). SignInOptions.ForceLogin does the same
	// per sign-in.
	SharedPC bool
	// APIVersion is the Web API version ("9.2").
	APIVersion string
	// AppID is the model-driven app (appmodule id) screen pops open in;
	// empty opens the environment's default app.
	AppID string
	// Leads adds leads to the caller lookup (Dynamics 365 Sales orgs).
	Leads bool
	// Columns maps the Column* keys to custom phonecall columns (logical
	// names such as "cti_callkey").
	Columns map[string]string
	// Region is the default region for national numbers ("US").
	Region string
	// Account names the keyring entries (default Name).
	Account string

	// Keyring keeps the tokens (the OS keyring through secrets.Store).
	Keyring crm.Keyring
	// Opener opens the authorize URL in the system browser
	// (crm.OpenBrowser by default); tests follow it over HTTP.
	Opener crm.Opener
	// HTTPClient sends every request (default: a client with
	// DefaultTimeout). Past its Timeout a write is ambiguous.
	HTTPClient *http.Client
	// Logger receives the connector's logs (never tokens, numbers or
	// notes); slog.Default when nil.
	Logger *slog.Logger
}

func (c *Config) defaults() error {
	if c.Authority == "" {
		c.Authority = DefaultAuthority
	}
	if c.Tenant == "" {
		c.Tenant = DefaultTenant
	}
	if c.RedirectURL == "" {
		c.RedirectURL = DefaultRedirectURL
	}
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
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
	c.OrgURL = strings.TrimRight(strings.TrimSpace(c.OrgURL), "/")
	c.Authority = strings.TrimRight(strings.TrimSpace(c.Authority), "/")
	switch {
	case c.OrgURL == "":
		return fmt.Errorf("dynamics: %w: no organization url (https://contoso.crm.dynamics.com)", ErrConfig)
	case c.ClientID == "":
		return fmt.Errorf("dynamics: %w: no client id", ErrConfig)
	case c.Keyring == nil:
		return fmt.Errorf("dynamics: %w: no keyring", ErrConfig)
	case strings.ContainsAny(c.Tenant, "/?#"):
		return fmt.Errorf("dynamics: %w: tenant %q is not a tenant id or domain", ErrConfig, c.Tenant)
	}
	for name, v := range map[string]string{"organization url": c.OrgURL, "authority": c.Authority} {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("dynamics: %w: %s %q is not an http(s) url", ErrConfig, name, v)
		}
	}
	ru, err := url.Parse(c.RedirectURL)
	if err != nil || ru.Scheme != "http" || (ru.Hostname() != "localhost" && ru.Hostname() != "127.0.0.1") {
		return fmt.Errorf("dynamics: %w: redirect url %q is not an http loopback address", ErrConfig, c.RedirectURL)
	}
	if c.Scope == "" {
		c.Scope = c.OrgURL + "/user_impersonation offline_access openid profile"
	}
	for k := range c.Columns {
		switch k {
		case ColumnCallKey, ColumnOutcome, ColumnQueue, ColumnRecording:
		default:
			return fmt.Errorf("dynamics: %w: unknown column mapping %q", ErrConfig, k)
		}
	}
	return nil
}
