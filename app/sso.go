package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/hubspot"
	"github.com/callcentre/softphone/secrets"
)

// Signing in to the desk with the CRM identity ("Sign in with <CRM>").
//
// A connector keeps an agent's tokens in the keyring under the agent's ID,
// but before an SSO sign-in nobody knows the agent's ID: it is what the CRM
// says about the user who signs in. So the connector signs a placeholder
// agent in, whose keyring writes the app's keyring wrapper (ssoKeyring)
// holds in memory; once the identity is known the captured tokens are
// written under the real agent ID in the OS keyring, the placeholder is
// forgotten, and the connector resumes the real agent's session from the
// keyring. The desk then signs the agent in to the core as usual, and the
// CRM session watcher finds the session already resumed.
//
// The SIP account is the PC's (the config file's account, its password in
// the keyring under MachineAgent): the desk registers it at start,
// whoever signs in, so an SSO sign-in needs no SIP password of the agent.
// When the PC's password is not stored, the registration fails at start
// and the header says so (whatever the sign-in method).

// ssoPrefix starts the placeholder agent IDs of SSO sign-ins in progress.
const ssoPrefix = "sso-pending-"

// ssoKeyring is the connectors' keyring: it passes everything through to
// the OS keyring, except the secrets of placeholder agents, which it keeps
// in memory until adopt writes them under the real agent or drop forgets
// them.
type ssoKeyring struct {
	next crm.Keyring

	mu   sync.Mutex
	held map[string]map[heldKey]string // placeholder -> secrets
}

type heldKey struct {
	account string
	kind    secrets.Kind
}

var _ crm.Keyring = (*ssoKeyring)(nil)

func newSSOKeyring(next crm.Keyring) *ssoKeyring {
	return &ssoKeyring{next: next, held: map[string]map[heldKey]string{}}
}

// placeholder registers a fresh placeholder agent.
func (k *ssoKeyring) placeholder() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("sso: random: %w", err)
	}
	id := ssoPrefix + hex.EncodeToString(b)
	k.mu.Lock()
	k.held[id] = map[heldKey]string{}
	k.mu.Unlock()
	return id, nil
}

// hold returns the held secrets of agentID (nil for a real agent).
func (k *ssoKeyring) hold(agentID string) map[heldKey]string {
	if !strings.HasPrefix(agentID, ssoPrefix) {
		return nil
	}
	return k.held[agentID]
}

// Set implements crm.Keyring.
func (k *ssoKeyring) Set(agentID, account string, kind secrets.Kind, secret string) error {
	k.mu.Lock()
	if h := k.hold(agentID); h != nil {
		h[heldKey{account, kind}] = secret
		k.mu.Unlock()
		return nil
	}
	k.mu.Unlock()
	return k.next.Set(agentID, account, kind, secret)
}

// Get implements crm.Keyring.
func (k *ssoKeyring) Get(agentID, account string, kind secrets.Kind) (string, error) {
	k.mu.Lock()
	if h := k.hold(agentID); h != nil {
		s, ok := h[heldKey{account, kind}]
		k.mu.Unlock()
		if !ok {
			return "", fmt.Errorf("sso sign-in in progress: %w", secrets.ErrNotFound)
		}
		return s, nil
	}
	k.mu.Unlock()
	return k.next.Get(agentID, account, kind)
}

// Delete implements crm.Keyring.
func (k *ssoKeyring) Delete(agentID, account string, kind secrets.Kind) error {
	k.mu.Lock()
	if h := k.hold(agentID); h != nil {
		_, ok := h[heldKey{account, kind}]
		delete(h, heldKey{account, kind})
		k.mu.Unlock()
		if !ok {
			return fmt.Errorf("sso sign-in in progress: %w", secrets.ErrNotFound)
		}
		return nil
	}
	k.mu.Unlock()
	return k.next.Delete(agentID, account, kind)
}

// adopt writes the placeholder's secrets under agentID in the OS keyring
// and forgets the placeholder.
func (k *ssoKeyring) adopt(placeholder, agentID string) error {
	k.mu.Lock()
	h := k.held[placeholder]
	delete(k.held, placeholder)
	k.mu.Unlock()
	if len(h) == 0 {
		return fmt.Errorf("sso: the crm sign-in kept no tokens")
	}
	for key, s := range h {
		if err := k.next.Set(agentID, key.account, key.kind, s); err != nil {
			return fmt.Errorf("sso: keep the crm tokens: %w", err)
		}
	}
	return nil
}

// drop forgets a placeholder (a failed sign-in).
func (k *ssoKeyring) drop(placeholder string) {
	k.mu.Lock()
	delete(k.held, placeholder)
	k.mu.Unlock()
}

// SSOName is the CRM to offer "Sign in with <CRM>" for ("" when none):
// a configured CRM whose agents sign in through the browser (Salesforce,
// HubSpot in OAuth mode, Dynamics 365, ServiceNow, Zendesk). The webhook
// and HubSpot's portal token have no user sign-in to take an identity from.
func (a *App) SSOName() string {
	if !a.ssoOK || a.Connector == nil {
		return ""
	}
	return crm.DisplayName(a.Connector.Name())
}

// DefaultAgentIDFromCRM is the agent ID of a CRM user when
// Config.AgentIDFromCRM is nil: the CRM username in lower case (Salesforce
// and ServiceNow user names, the HubSpot owner's or Zendesk user's
// e-mail), else the CRM user ID (Dynamics 365's systemuser id).
func DefaultAgentIDFromCRM(id crm.Identity) string {
	if u := strings.ToLower(strings.TrimSpace(id.Username)); u != "" {
		return u
	}
	return strings.TrimSpace(id.UserID)
}

// SignInSSO signs an agent in to the desk with their CRM identity: the
// CRM's browser sign-in (PKCE with a loopback redirect, a fresh login on a
// shared PC) runs before anyone is signed in, the agent ID comes from the
// signed-in CRM user (Config.AgentIDFromCRM), and the CRM tokens are kept
// in the keyring under that agent. It returns who to sign in to the core
// with (domain.AgentInfo: the agent ID and the CRM user's display name);
// the CRM session is ready when the core signs the agent in. It blocks for
// the browser round trip; call it off the UI goroutine. ErrNoSSO when the
// configured CRM offers no user sign-in (SSOName is "").
func (a *App) SignInSSO(ctx context.Context) (domain.AgentInfo, error) {
	if a.SSOName() == "" {
		return domain.AgentInfo{}, ErrNoSSO
	}
	m, err := a.Store.MachineSettings()
	if err != nil {
		return domain.AgentInfo{}, err
	}
	return a.signInAs(ctx, func(ctx context.Context, placeholder string) (crm.Session, error) {
		return a.Connector.SignIn(ctx, placeholder, crm.SignInOptions{ForceLogin: m.Shared})
	})
}

// DeviceCode is what the agent must see during a device code sign-in:
// open URL on any device and enter Code there.
type DeviceCode struct {
	Code    string
	URL     string
	Message string // the identity provider's instructions, in the user's language
}

// DeviceSignIn reports whether the configured CRM offers the device code
// sign-in (Dynamics 365): for desks where the browser round trip cannot
// run (thin clients, no browser on the desk).
func (a *App) DeviceSignIn() bool {
	_, ok := a.Connector.(*dynamics.Connector)
	return ok
}

// SignInDeviceCode is SignInSSO through the CRM's device code flow
// (Dynamics 365, Entra ID): show is called once with the code and URL to
// display, then it waits until the agent has entered the code elsewhere,
// declined, the code expired or ctx ends. With an agent signed in
// (forDesk false) it signs that agent in to the CRM instead (like
// SignInCRM) and returns who they are. ErrNoDeviceCode when the CRM has
// no device code flow.
func (a *App) SignInDeviceCode(ctx context.Context, forDesk bool, show func(DeviceCode)) (domain.AgentInfo, error) {
	dyn, ok := a.Connector.(*dynamics.Connector)
	if !ok {
		return domain.AgentInfo{}, ErrNoDeviceCode
	}
	relay := func(dc dynamics.DeviceCode) {
		show(DeviceCode{Code: dc.UserCode, URL: dc.VerificationURI, Message: dc.Message})
	}
	if forDesk {
		return a.signInAs(ctx, func(ctx context.Context, placeholder string) (crm.Session, error) {
			return dyn.SignInDeviceCode(ctx, placeholder, relay)
		})
	}
	id, err := a.signedInAgent()
	if err != nil {
		return domain.AgentInfo{}, err
	}
	sess, err := dyn.SignInDeviceCode(ctx, id, relay)
	if err != nil {
		return domain.AgentInfo{}, err
	}
	a.crmSess.setSession(id, sess)
	return domain.AgentInfo{ID: id, Name: sess.Identity().Display}, nil
}

// signedInAgent is the agent the CRM session watcher follows.
func (a *App) signedInAgent() (string, error) {
	if a.Connector == nil || a.crmSess == nil {
		return "", ErrNoCRM
	}
	a.crmSess.mu.Lock()
	id := a.crmSess.agentID
	a.crmSess.mu.Unlock()
	if id == "" {
		return "", ErrNotSignedIn
	}
	return id, nil
}

// signInAs runs signIn for a placeholder agent, takes the agent ID from
// the CRM identity, moves the tokens to that agent and resumes its session.
func (a *App) signInAs(ctx context.Context, signIn func(ctx context.Context, placeholder string) (crm.Session, error)) (domain.AgentInfo, error) {
	if a.ssoKR == nil {
		return domain.AgentInfo{}, ErrNoSSO
	}
	if id, err := a.signedInAgent(); err == nil {
		return domain.AgentInfo{}, fmt.Errorf("%w: %s", ErrAlreadySignedIn, id)
	}
	ph, err := a.ssoKR.placeholder()
	if err != nil {
		return domain.AgentInfo{}, err
	}
	defer a.ssoKR.drop(ph)
	sess, err := signIn(ctx, ph)
	if err != nil {
		return domain.AgentInfo{}, err
	}
	ident := sess.Identity()
	id := a.agentIDFrom(ident)
	if id == "" || strings.HasPrefix(id, ssoPrefix) {
		return domain.AgentInfo{}, ErrNoCRMIdentity
	}
	if err := a.ssoKR.adopt(ph, id); err != nil {
		return domain.AgentInfo{}, err
	}
	if _, err := a.Store.Profile(id); err != nil {
		return domain.AgentInfo{}, err
	}
	// The session under the real agent: from the keyring, as after a
	// restart (a connector still holding an earlier session of this agent
	// hands that one back).
	if _, err := a.Connector.Resume(ctx, id); err != nil {
		return domain.AgentInfo{}, fmt.Errorf("sso: resume the crm session of %s: %w", id, err)
	}
	name := ident.Display
	if name == "" {
		name = ident.Username
	}
	a.log.Info("signed in with the crm", "crm", a.Connector.Name(), "agent", id)
	return domain.AgentInfo{ID: id, Name: name}, nil
}

func (a *App) agentIDFrom(id crm.Identity) string {
	if a.agentIDFromCRM != nil {
		return strings.TrimSpace(a.agentIDFromCRM(id))
	}
	return DefaultAgentIDFromCRM(id)
}

// ssoCapable says whether the configuration's CRM has a user sign-in.
func ssoCapable(cfg Config) bool {
	switch {
	case cfg.Salesforce != nil, cfg.Dynamics != nil, cfg.ServiceNow != nil, cfg.Zendesk != nil:
		return true
	case cfg.HubSpot != nil:
		return cfg.HubSpot.Auth == hubspot.AuthOAuth
	}
	return false
}
