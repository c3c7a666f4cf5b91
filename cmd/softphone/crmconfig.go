package main

import (
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/callcentre/softphone/app"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/hubspot"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/servicenow"
	"github.com/callcentre/softphone/crm/webhook"
	"github.com/callcentre/softphone/crm/zendesk"
	"github.com/callcentre/softphone/secrets"
)

// crmConfig is the configuration file's "crm" section: which CRM the desk
// logs calls to and looks callers up in. It holds no secret: OAuth tokens
// live in the OS keyring after the agent's sign-in, and the secrets IT
// provisions (a HubSpot portal token, a client secret, the webhook's
// signing secret) are stored with -set-crm-secret.
//
//	"crm": {
//	  "type": "salesforce",
//	  "instance_url": "https://example.my.salesforce.com",
//	  "client_id": "3MVG...",
//	  "redirect_url": "http://localhost:1717/OauthRedirect",
//	  "call_key_field": "CTI_Call_Id__c",
//	  "region": "US"
//	}
type crmConfig struct {
	// Type is "local" (the default: the desk's own directory), "salesforce",
	// "hubspot", "dynamics", "servicenow", "zendesk" or "webhook".
	Type string `json:"type"`
	// InstanceURL is the CRM's address: the Salesforce My Domain (or login)
	// URL, the Dynamics organisation URL, the ServiceNow instance URL, the
	// Zendesk https://SUBDOMAIN.zendesk.com URL, HubSpot's API base
	// (optional).
	InstanceURL string `json:"instance_url"`
	// ClientID is the OAuth client registered for the desk.
	ClientID string `json:"client_id"`
	// RedirectURL is the registered loopback callback (each connector has
	// a default).
	RedirectURL string `json:"redirect_url"`
	// Tenant is the Entra ID tenant of Dynamics 365 (default
	// "organizations").
	Tenant string `json:"tenant"`
	// CallKeyField is the custom field or property holding the call key
	// that makes logging idempotent (each connector has a default).
	CallKeyField string `json:"call_key_field"`
	// Region is the default country of national numbers ("US", "DE").
	Region string `json:"region"`
	// LogURL and LookupURL configure the generic webhook.
	LogURL    string `json:"log_url"`
	LookupURL string `json:"lookup_url"`
}

// crmTypes are the accepted values of crm.type.
var crmTypes = []string{"local", "none", "salesforce", "hubspot", "dynamics", "servicenow", "zendesk", "webhook"}

// kind is the normalised type ("local" for none).
func (c *crmConfig) kind() string {
	if c == nil {
		return "local"
	}
	t := strings.ToLower(strings.TrimSpace(c.Type))
	if t == "" || t == "none" {
		return "local"
	}
	return t
}

// check validates the section without building anything.
func (c *crmConfig) check() error {
	k := c.kind()
	known := false
	for _, t := range crmTypes {
		known = known || t == k
	}
	if !known {
		return fmt.Errorf("%w: crm: type %q (use %s)", errBadConfig, c.Type, strings.Join(crmTypes, ", "))
	}
	for name, u := range map[string]string{"instance_url": c.InstanceURL, "log_url": c.LogURL} {
		if u == "" {
			continue
		}
		pu, err := url.Parse(u)
		if err != nil || pu.Host == "" || (pu.Scheme != "https" && pu.Scheme != "http") {
			return fmt.Errorf("%w: crm: %s %q is not an absolute http(s) URL", errBadConfig, name, u)
		}
	}
	switch k {
	case "salesforce", "dynamics", "servicenow", "zendesk":
		if c.ClientID == "" {
			return fmt.Errorf("%w: crm: %s needs client_id (the OAuth client IT registered)", errBadConfig, k)
		}
	case "webhook":
		if c.LogURL == "" {
			return fmt.Errorf("%w: crm: webhook needs log_url", errBadConfig)
		}
	}
	switch k {
	case "dynamics", "servicenow", "zendesk":
		if c.InstanceURL == "" {
			return fmt.Errorf("%w: crm: %s needs instance_url", errBadConfig, k)
		}
	}
	if k == "zendesk" && c.CallKeyField != "" {
		if _, err := strconv.ParseInt(c.CallKeyField, 10, 64); err != nil {
			return fmt.Errorf("%w: crm: zendesk call_key_field %q is not a ticket field id", errBadConfig, c.CallKeyField)
		}
	}
	return nil
}

// apply puts the external CRM into the app's configuration (nothing for
// the local directory). shared is the PC's hot-desk policy: it forces a
// fresh login at the CRM's identity provider.
func (c *crmConfig) apply(bc *app.Config, shared bool) error {
	if c == nil {
		return nil // no crm section: the local directory
	}
	if err := c.check(); err != nil {
		return err
	}
	bc.Region = c.Region
	switch c.kind() {
	case "salesforce":
		bc.Salesforce = &salesforce.Config{LoginURL: c.InstanceURL, ClientID: c.ClientID, RedirectURL: c.RedirectURL,
			ExternalIDField: c.CallKeyField, SharedPC: shared}
	case "webhook":
		bc.Webhook = &webhook.Config{LogURL: c.LogURL, LookupURL: c.LookupURL}
	case "hubspot":
		bc.HubSpot = c.hubspot()
	case "dynamics":
		dc := &dynamics.Config{OrgURL: c.InstanceURL, ClientID: c.ClientID, Tenant: c.Tenant, RedirectURL: c.RedirectURL,
			SharedPC: shared}
		if c.CallKeyField != "" {
			dc.Columns = map[string]string{dynamics.ColumnCallKey: c.CallKeyField}
		}
		bc.Dynamics = dc
	case "servicenow":
		bc.ServiceNow = &servicenow.Config{InstanceURL: c.InstanceURL, ClientID: c.ClientID, RedirectURL: c.RedirectURL,
			CallKeyField: c.CallKeyField, SharedPC: shared}
	case "zendesk":
		zc := &zendesk.Config{BaseURL: c.InstanceURL, ClientID: c.ClientID, RedirectURL: c.RedirectURL}
		if c.CallKeyField != "" {
			zc.CallKeyFieldID, _ = strconv.ParseInt(c.CallKeyField, 10, 64) // checked
		}
		bc.Zendesk = zc
	}
	return nil
}

// hubspot is the HubSpot configuration: per-agent OAuth when a client id
// is configured, else the portal token IT provisions.
func (c *crmConfig) hubspot() *hubspot.Config {
	hc := &hubspot.Config{APIURL: c.InstanceURL, ClientID: c.ClientID, RedirectURL: c.RedirectURL,
		CallKeyProperty: c.CallKeyField}
	if c.ClientID != "" {
		hc.Auth = hubspot.AuthOAuth
	}
	return hc
}

// setCRMSecret reads the secret IT provisions for the configured CRM from
// the first line of r and stores it in the OS keyring: HubSpot's portal
// token (or its OAuth client secret when a client id is configured),
// ServiceNow's client secret, the webhook's signing secret. The CRMs whose
// agents sign in through the browser with a public client need none.
func setCRMSecret(cfg configFile, kr crm.Keyring, r io.Reader, w io.Writer) error {
	c := cfg.CRM
	k := c.kind()
	what := map[string]string{"hubspot": "HubSpot portal token", "servicenow": "ServiceNow client secret",
		"webhook": "webhook signing secret (at least 16 characters)"}[k]
	if k == "hubspot" && c.ClientID != "" {
		what = "HubSpot OAuth client secret"
	}
	if what == "" {
		return fmt.Errorf("%w: crm %q has no secret to store: agents sign in through the browser", errBadConfig, k)
	}
	secret, err := readSecretLine(r, w, what)
	if err != nil {
		return err
	}
	if secret = strings.TrimSpace(secret); secret == "" { // tokens and keys have no spaces
		return errEmptyPassword
	}
	switch k {
	case "hubspot":
		hc := c.hubspot()
		hc.Keyring = kr
		conn, err := hubspot.New(*hc)
		if err != nil {
			return err
		}
		if hc.Auth == hubspot.AuthOAuth {
			err = conn.SetClientSecret(secret)
		} else {
			err = conn.SetPortalToken("", secret)
		}
		if err != nil {
			return err
		}
	case "servicenow":
		if err := kr.Set(servicenow.DefaultClientSecretAgent, servicenow.Name, secrets.KindClientSecret, secret); err != nil {
			return fmt.Errorf("store secret: %w", err)
		}
	case "webhook":
		if err := app.SetWebhookSecrets(kr, "", secret, ""); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\nstored in the keyring")
	return nil
}
