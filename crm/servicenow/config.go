package servicenow

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/callcentre/softphone/crm"
)

// Defaults.
const (
	// Name is the connector's outbox target name.
	Name = "servicenow"
	// DefaultRedirectURL is the loopback callback to register in the
	// application registry entry.
	DefaultRedirectURL = "http://localhost:8746/servicenow/callback"
	// DefaultInteractionTable is the table call logs are written to.
	DefaultInteractionTable = "interaction"
	// DefaultCallKeyField is the custom unique field holding the call key.
	DefaultCallKeyField = "u_cti_call_id"
	// DefaultTimeout bounds each request.
	DefaultTimeout = 30 * time.Second
	// DefaultLookupLimit is sysparm_limit of a caller lookup per table.
	DefaultLookupLimit = 20
	// DefaultClientSecretAgent is the keyring "agent" under which IT
	// provisions a client secret (the app's machine-wide secrets).
	DefaultClientSecretAgent = "machine"
	// MaxBatch: the Table API writes one record per request.
	MaxBatch = 1
)

// Field keys of Config.FieldMap: which call-log values go to which
// column of the interaction table (besides the standard columns type,
// direction, state, short_description, work_notes, opened_at, closed_at,
// opened_for and assigned_to, which are always written).
const (
	FieldDuration     = "duration"      // talk time in seconds
	FieldRemoteNumber = "remote_number" // the customer's number, E.164 when known
	FieldDialedNumber = "dialed_number" // what the agent dialled
	FieldRecording    = "recording"     // recording links, one per line
	FieldOutcome      = "outcome"       // the wrap-up outcome
	FieldQueue        = "queue"         // the queue the call came through
)

// DefaultFieldMap is the column of each Field* key when Config.FieldMap
// does not name one; the admin creates these custom fields (README.md).
func DefaultFieldMap() map[string]string {
	return map[string]string{
		FieldDuration:     "u_duration",
		FieldRemoteNumber: "u_phone_number",
		FieldDialedNumber: "u_dialed_number",
		FieldRecording:    "u_recording_url",
		FieldOutcome:      "u_outcome",
		FieldQueue:        "u_queue",
	}
}

// LookupTable is one table searched for callers.
type LookupTable struct {
	// Table is the table name ("customer_contact", "sys_user",
	// "csm_consumer").
	Table string
	// PhoneFields are the phone columns matched ("phone", "mobile_phone").
	PhoneFields []string
	// NameField is the display column (default "name").
	NameField string
	// SearchFields are matched with LIKE by a free-text search (default
	// NameField and "email").
	SearchFields []string
	// Filter is an encoded query every lookup adds (default
	// "active=true"; "-" for none).
	Filter string
}

// Config configures the connector. The app fills InstanceURL, ClientID
// and Keyring; the rest has defaults.
type Config struct {
	// InstanceURL is the instance, https://acme.service-now.com; the
	// OAuth endpoints (oauth_auth.do, oauth_token.do,
	// oauth_revoke_token.do), the REST API and screen pops live under it.
	InstanceURL string
	// ClientID is the application registry entry's client id (a public
	// client with PKCE).
	ClientID string
	// RedirectURL is the loopback callback registered in the entry
	// (DefaultRedirectURL); the connector listens on its port on
	// 127.0.0.1 only while a sign-in runs.
	RedirectURL string
	// ClientSecretAgent is the keyring agent under which IT provisioned a
	// client secret (secrets.KindClientSecret, account Account) for a
	// registry entry that requires one; when none is stored, none is sent
	// (PKCE public client). Default DefaultClientSecretAgent.
	ClientSecretAgent string
	// SharedPC is a hot-desk PC. ServiceNow's authorize endpoint has no
	// forced-login parameter, so the connector cannot force a fresh login;
	// the app should open sign-ins in a private browser window (Opener) and
	// shows the signed-in user (Identity) for the agent to confirm.
	SharedPC bool
	// Region is the default region for national numbers ("US").
	Region string
	// LookupTables are searched for callers in order (default
	// customer_contact on phone and mobile_phone).
	LookupTables []LookupTable
	// LookupLimit is sysparm_limit per table (DefaultLookupLimit).
	LookupLimit int
	// MatchSuffix is how many trailing digits a lookup asks the instance
	// to match (phoneENDSWITH...): 0 means the whole national number,
	// which finds numbers stored as digits or E.164; 4 to 7 also finds
	// numbers stored with spaces or dashes ("(415) 555-1212") at the cost
	// of more rows to verify client-side (raise LookupLimit with it).
	MatchSuffix int
	// InteractionTable receives call logs (DefaultInteractionTable).
	InteractionTable string
	// CallKeyField is the custom field with a unique index holding the
	// call key (DefaultCallKeyField).
	CallKeyField string
	// FieldMap overrides DefaultFieldMap; an empty column name drops the
	// value.
	FieldMap map[string]string
	// ImportSetTable, when set, sends logs through the Import Set API to
	// this staging table (POST /api/now/import/{table}) whose transform map
	// coalesces on CallKeyField, instead of the Table API.
	ImportSetTable string
	// WorkspacePath, when set, makes screen pops open the record in a
	// workspace, {InstanceURL}{WorkspacePath}/{table}/{sys_id}, for example
	// "/now/cwf/agent/record"; default the classic form
	// {InstanceURL}/nav_to.do?uri={table}.do?sys_id={sys_id}.
	WorkspacePath string
	// Account names the keyring entries (default Name).
	Account string

	// Keyring keeps the tokens (the OS keyring, *secrets.Store).
	Keyring crm.Keyring
	// Opener opens the authorize URL in the system browser
	// (crm.OpenBrowser by default).
	Opener crm.Opener
	// HTTPClient sends every request (default: Timeout DefaultTimeout);
	// past its timeout a write is ambiguous.
	HTTPClient *http.Client
	// Logger receives the connector's logs (never tokens, numbers or
	// notes).
	Logger *slog.Logger
}

var nameRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

func (c *Config) defaults() {
	c.InstanceURL = strings.TrimRight(c.InstanceURL, "/")
	if c.RedirectURL == "" {
		c.RedirectURL = DefaultRedirectURL
	}
	if c.ClientSecretAgent == "" {
		c.ClientSecretAgent = DefaultClientSecretAgent
	}
	if len(c.LookupTables) == 0 {
		c.LookupTables = []LookupTable{{Table: "customer_contact", PhoneFields: []string{"phone", "mobile_phone"}}}
	}
	for i := range c.LookupTables {
		t := &c.LookupTables[i]
		if t.NameField == "" {
			t.NameField = "name"
		}
		if len(t.SearchFields) == 0 {
			t.SearchFields = []string{t.NameField, "email"}
		}
		switch t.Filter {
		case "":
			t.Filter = "active=true"
		case "-":
			t.Filter = ""
		}
	}
	if c.LookupLimit <= 0 {
		c.LookupLimit = DefaultLookupLimit
	}
	if c.InteractionTable == "" {
		c.InteractionTable = DefaultInteractionTable
	}
	if c.CallKeyField == "" {
		c.CallKeyField = DefaultCallKeyField
	}
	fm := DefaultFieldMap()
	for k, v := range c.FieldMap {
		fm[k] = v
	}
	c.FieldMap = fm
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
}

func (c *Config) validate() error {
	u, err := url.Parse(c.InstanceURL)
	switch {
	case c.InstanceURL == "":
		return fmt.Errorf("%w: no instance url", ErrConfig)
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return fmt.Errorf("%w: instance url %q is not an http(s) url", ErrConfig, c.InstanceURL)
	case c.ClientID == "":
		return fmt.Errorf("%w: no client id", ErrConfig)
	case c.Keyring == nil:
		return fmt.Errorf("%w: no keyring", ErrConfig)
	case !nameRE.MatchString(c.InteractionTable):
		return fmt.Errorf("%w: interaction table %q is not a table name", ErrConfig, c.InteractionTable)
	case !nameRE.MatchString(c.CallKeyField):
		return fmt.Errorf("%w: call key field %q is not a column name", ErrConfig, c.CallKeyField)
	case c.ImportSetTable != "" && !nameRE.MatchString(c.ImportSetTable):
		return fmt.Errorf("%w: import set table %q is not a table name", ErrConfig, c.ImportSetTable)
	case c.MatchSuffix < 0 || (c.MatchSuffix > 0 && c.MatchSuffix < 4):
		return fmt.Errorf("%w: match suffix %d: use 0 (national number) or at least 4 digits", ErrConfig, c.MatchSuffix)
	case c.WorkspacePath != "" && !strings.HasPrefix(c.WorkspacePath, "/"):
		return fmt.Errorf("%w: workspace path %q must start with /", ErrConfig, c.WorkspacePath)
	}
	if ru, err := url.Parse(c.RedirectURL); err != nil || ru.Scheme != "http" || (ru.Hostname() != "localhost" && ru.Hostname() != "127.0.0.1") || ru.Port() == "" {
		return fmt.Errorf("%w: redirect url %q must be http://localhost:PORT/... (a registered loopback callback)", ErrConfig, c.RedirectURL)
	}
	for _, t := range c.LookupTables {
		if !nameRE.MatchString(t.Table) || !nameRE.MatchString(t.NameField) {
			return fmt.Errorf("%w: lookup table %q (name field %q)", ErrConfig, t.Table, t.NameField)
		}
		if len(t.PhoneFields) == 0 {
			return fmt.Errorf("%w: lookup table %s has no phone fields", ErrConfig, t.Table)
		}
		for _, f := range slices.Concat(t.PhoneFields, t.SearchFields) {
			if !nameRE.MatchString(f) {
				return fmt.Errorf("%w: lookup table %s: %q is not a column name", ErrConfig, t.Table, f)
			}
		}
	}
	for k, v := range c.FieldMap {
		if v != "" && !nameRE.MatchString(v) {
			return fmt.Errorf("%w: field map %s: %q is not a column name", ErrConfig, k, v)
		}
	}
	return nil
}
