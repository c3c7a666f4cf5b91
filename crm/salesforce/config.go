package salesforce

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/callcentre/softphone/crm"
)

// Defaults.
const (
	DefaultLoginURL        = "https://login.salesforce.com"
	DefaultAPIVersion      = "62.0"
	DefaultExternalIDField = "CTI_Call_Id__c"
	DefaultRedirectURL     = "http://localhost:1717/OauthRedirect"
	DefaultTimeout         = 30 * time.Second
	DefaultTaskStatus      = "Completed"
	// MaxBatch is the sObject Collections limit.
	MaxBatch = 200
	// Name is the connector's outbox target name.
	Name = "salesforce"
)

// Custom-field mapping keys (Config.FieldMap): which call-log values go to
// which Task custom field.
const (
	FieldRemoteNumber = "remote_number"
	FieldDialedNumber = "dialed_number"
	FieldStartedAt    = "started_at"
	FieldAnsweredAt   = "answered_at"
	FieldEndedAt      = "ended_at"
	FieldRecording    = "recording"
	FieldQueue        = "queue"
	FieldHoldSeconds  = "hold_seconds"
	FieldOutcome      = "outcome"
)

// Config configures the connector.
type Config struct {
	// LoginURL is where the OAuth endpoints live: the My Domain URL,
	// https://login.salesforce.com or https://test.salesforce.com.
	LoginURL string
	// ClientID is the consumer key of the External Client App (a public
	// client: PKCE on, no secret).
	ClientID string
	// RedirectURL is the registered loopback callback, e.g.
	// http://localhost:1717/OauthRedirect; the connector listens on its
	// port on 127.0.0.1 only while a sign-in runs.
	RedirectURL string
	// SharedPC forces a fresh login (prompt=login) so the browser's
	// session of the previous agent is never reused.
	SharedPC bool
	// APIVersion is the pinned REST version ("62.0").
	APIVersion string
	// ExternalIDField is the Task field (External ID, Unique) holding the
	// idempotency key.
	ExternalIDField string
	// FieldMap maps the Field* keys to Task custom fields.
	FieldMap map[string]string
	// TaskStatus is the closed Task status (default "Completed").
	TaskStatus string
	// PersonAccounts adds person-account fields to the lookup (only for
	// orgs that have them enabled).
	PersonAccounts bool
	// LightningURL overrides the base of screen-pop URLs (default: derived
	// from the instance URL, *.my.salesforce.com -> *.lightning.force.com).
	LightningURL string
	// Region is the default region for national numbers ("US").
	Region string
	// Location is the time zone of ActivityDate (default time.Local).
	Location *time.Location
	// Account names the keyring entries (default "salesforce").
	Account string

	Keyring crm.Keyring
	// Opener opens the authorize URL in the system browser
	// (crm.OpenBrowser); tests follow the redirect with an HTTP client.
	Opener crm.Opener
	// HTTPClient is used for every request (default: a client with
	// Timeout). Its Timeout bounds each request; past it a write is
	// ambiguous.
	HTTPClient *http.Client
	Logger     *slog.Logger
}

func (c *Config) defaults() {
	if c.LoginURL == "" {
		c.LoginURL = DefaultLoginURL
	}
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	if c.ExternalIDField == "" {
		c.ExternalIDField = DefaultExternalIDField
	}
	if c.RedirectURL == "" {
		c.RedirectURL = DefaultRedirectURL
	}
	if c.TaskStatus == "" {
		c.TaskStatus = DefaultTaskStatus
	}
	if c.Account == "" {
		c.Account = Name
	}
	if c.Location == nil {
		c.Location = time.Local
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
}
