package zendesk

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/callcentre/softphone/crm"
)

// Defaults.
const (
	// Name is the connector's outbox target name.
	Name = "zendesk"
	// DefaultRedirectURL is the loopback callback to register on the
	// OAuth client (Zendesk matches it exactly, port included).
	DefaultRedirectURL = "http://127.0.0.1:47815/zendesk/callback"
	// DefaultScope is what the client asks for: users and tickets.
	DefaultScope = "read write"
	// DefaultTimeout bounds each request.
	DefaultTimeout = 30 * time.Second
	// DefaultTicketStatus is the status of a call-log ticket.
	DefaultTicketStatus = "solved"
	// MaxBatch is one: Zendesk has no batch ticket create with
	// idempotency keys.
	MaxBatch = 1
)

// DefaultTags are the tags of every call-log ticket (plus the direction).
var DefaultTags = []string{"softphone", "phone_call"}

// Config configures the connector.
type Config struct {
	// Subdomain is the Zendesk account ("acme" for acme.zendesk.com).
	// BaseURL replaces https://{Subdomain}.zendesk.com entirely (a host
	// mapped domain, the emulator); one of the two is required. With
	// BaseURL, Subdomain only names the account (Identity.OrgID) and
	// defaults to the first label of BaseURL's host (or its IP address).
	Subdomain string
	BaseURL   string
	// ClientID is the unique identifier of the OAuth client (kind
	// "public": PKCE, no secret).
	ClientID string
	// RedirectURL is the loopback callback registered on the client
	// (DefaultRedirectURL); the connector listens on its port on
	// 127.0.0.1 only while a sign-in runs.
	RedirectURL string
	// Scope is the OAuth scope (DefaultScope).
	Scope string
	// AccessTTL and RefreshTTL, when set, are the token lifetimes asked
	// for with every token request (expires_in 5 minutes to 2 days,
	// refresh_token_expires_in 7 to 90 days); zero leaves the lifetimes
	// configured on the OAuth client (Zendesk's defaults: 30 minutes and
	// 30 days).
	AccessTTL, RefreshTTL time.Duration
	// Region is the default region for national numbers ("US").
	Region string
	// TicketStatus is the status a call-log ticket is created with
	// (DefaultTicketStatus; "open" keeps it in the agent's views).
	TicketStatus string
	// Tags are added to every call-log ticket (DefaultTags when nil; an
	// empty non-nil slice adds none but the direction tag).
	Tags []string
	// CallKeyFieldID, when set, is a ticket custom field (text) that also
	// receives the call key, for reporting; external_id always holds it.
	CallKeyFieldID int64
	// TalkDisplay enables the Talk Partner Edition display API for
	// screen pops (the account must have Talk Partner Edition).
	TalkDisplay bool
	// Account names the keyring entries (default Name).
	Account string

	// Keyring keeps the tokens (the OS keyring: *secrets.Store).
	Keyring crm.Keyring
	// Opener opens the authorize URL in the system browser
	// (crm.OpenBrowser when nil).
	Opener crm.Opener
	// HTTPClient sends every request (a client with DefaultTimeout when
	// nil); past its Timeout a write is ambiguous.
	HTTPClient *http.Client
	// Logger receives the connector's logs (slog.Default when nil).
	Logger *slog.Logger
}

var subdomainRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

func (c *Config) validate() error {
	if c.BaseURL == "" {
		sub := strings.ToLower(strings.TrimSpace(c.Subdomain))
		if !subdomainRE.MatchString(sub) {
			return fmt.Errorf("zendesk: %w: subdomain %q is not a Zendesk subdomain (acme for acme.zendesk.com)", ErrConfig, c.Subdomain)
		}
		c.BaseURL = "https://" + sub + ".zendesk.com"
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("zendesk: %w: base url %q is not an absolute http(s) url", ErrConfig, c.BaseURL)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.Subdomain == "" {
		c.Subdomain = u.Hostname() // an IP address (the emulator) stays whole
		if net.ParseIP(c.Subdomain) == nil {
			c.Subdomain = strings.Split(c.Subdomain, ".")[0]
		}
	}
	if c.ClientID == "" {
		return fmt.Errorf("zendesk: %w: no client id", ErrConfig)
	}
	if c.Keyring == nil {
		return fmt.Errorf("zendesk: %w: no keyring", ErrConfig)
	}
	if c.RedirectURL == "" {
		c.RedirectURL = DefaultRedirectURL
	}
	ru, err := url.Parse(c.RedirectURL)
	if err != nil || ru.Scheme != "http" || (ru.Hostname() != "127.0.0.1" && ru.Hostname() != "localhost") || ru.Port() == "" || ru.Port() == "0" {
		return fmt.Errorf("zendesk: %w: redirect url %q must be http://127.0.0.1:PORT/... or http://localhost:PORT/... with the registered port", ErrConfig, c.RedirectURL)
	}
	if c.Scope == "" {
		c.Scope = DefaultScope
	}
	if c.AccessTTL != 0 && (c.AccessTTL < 5*time.Minute || c.AccessTTL > 48*time.Hour) {
		return fmt.Errorf("zendesk: %w: access token lifetime %s outside 5m..48h", ErrConfig, c.AccessTTL)
	}
	if c.RefreshTTL != 0 && (c.RefreshTTL < 7*24*time.Hour || c.RefreshTTL > 90*24*time.Hour) {
		return fmt.Errorf("zendesk: %w: refresh token lifetime %s outside 7..90 days", ErrConfig, c.RefreshTTL)
	}
	if c.TicketStatus == "" {
		c.TicketStatus = DefaultTicketStatus
	}
	switch c.TicketStatus {
	case "new", "open", "pending", "hold", "solved":
	default:
		return fmt.Errorf("zendesk: %w: ticket status %q (new, open, pending, hold or solved)", ErrConfig, c.TicketStatus)
	}
	if c.Tags == nil {
		c.Tags = DefaultTags
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
	return nil
}
