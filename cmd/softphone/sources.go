package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/app"
	"github.com/callcentre/softphone/sip/demopbx"
	"github.com/callcentre/softphone/store"
	"github.com/callcentre/softphone/ui"
)

// The desk's data sources (ui.Library, ui.SettingsStore, ui.Accounts) over
// the store and the keyring. Their methods block on disk or the keyring;
// the desk calls them off its UI goroutine.

// agentSource tells which agent is signed in (the core's snapshot).
type agentSource interface {
	Snapshot() domain.State
}

// sources implements ui.Library, ui.SettingsStore and ui.Accounts.
type sources struct {
	db     *store.DB
	core   agentSource
	sec    store.SecretRemover // the keyring (*secrets.Store); nil: none
	cfg    domain.Config       // what agents sign in with
	shared bool                // the PC is marked shared (read once at start)
	dir    string              // data directory (the remembered agent's file)
	log    *slog.Logger
	sso    ssoAccount    // the CRM sign-in for the desk; nil: not offered
	device deviceAccount // the CRM's device code sign-in; nil: not offered
	// live applies the settings that take effect at once (audio devices
	// and processing, verbose logs) when they are saved or loaded; nil:
	// none.
	live *liveSettings

	mu      sync.Mutex
	signing string // the agent whose sign-in is in progress

	recordMu sync.Mutex // serialises read-modify-writes of the settings record (settings and note drafts)
}

var (
	_ ui.Library        = (*sources)(nil)
	_ ui.SettingsStore  = (*sources)(nil)
	_ ui.Accounts       = (*sources)(nil)
	_ ui.PasswordPolicy = (*sources)(nil)
	_ ui.DeviceSignIn   = (*sources)(nil)
)

// newSources reads the shared-PC flag once (the login screen asks for it
// while it is built).
func newSources(db *store.DB, core agentSource, sec store.SecretRemover, cfg domain.Config, dir string, log *slog.Logger) (*sources, error) {
	m, err := db.MachineSettings()
	if err != nil {
		return nil, err
	}
	return &sources{db: db, core: core, sec: sec, cfg: cfg, shared: m.Shared, dir: dir, log: log}, nil
}

// signedIn returns the profile of the signed-in agent.
func (s *sources) signedIn() (*store.Profile, error) {
	st := s.core.Snapshot()
	if !st.SignedIn() {
		return nil, errNotSignedIn
	}
	return s.db.Profile(st.Agent.ID)
}

// current is the signed-in agent's ID ("" for nobody).
func (s *sources) current() string {
	if st := s.core.Snapshot(); st.SignedIn() {
		return st.Agent.ID
	}
	return ""
}

// ---- ui.Library ----

// Favorites lists the agent's favorites.
func (s *sources) Favorites() ([]ui.Contact, error) {
	p, err := s.signedIn()
	if err != nil {
		return nil, err
	}
	fs, err := p.Favorites()
	if err != nil {
		return nil, err
	}
	out := make([]ui.Contact, 0, len(fs))
	for _, f := range fs {
		out = append(out, ui.Contact{Name: f.Name, Number: f.Number, Source: "Favorites"})
	}
	return out, nil
}

// AddFavorite stars a contact (store.ErrFavoritesFull beyond 50).
func (s *sources) AddFavorite(c ui.Contact) error {
	p, err := s.signedIn()
	if err != nil {
		return err
	}
	_, err = p.AddFavorite(c.Name, c.Number)
	return err
}

// RemoveFavorite unstars a number.
func (s *sources) RemoveFavorite(number string) error {
	p, err := s.signedIn()
	if err != nil {
		return err
	}
	return p.RemoveFavorite(number)
}

// Recent reads a history view.
func (s *sources) Recent(kind ui.RecentKind, limit int) ([]ui.RecentCall, error) {
	p, err := s.signedIn()
	if err != nil {
		return nil, err
	}
	view := map[ui.RecentKind]store.View{
		ui.RecentAll: store.ViewAll, ui.RecentMissed: store.ViewMissed,
		ui.RecentIncoming: store.ViewIncoming, ui.RecentOutgoing: store.ViewOutgoing,
	}[kind]
	if view == store.ViewUnknown {
		return nil, fmt.Errorf("recent calls: unknown list %d", kind)
	}
	calls, err := p.History(view, limit)
	if err != nil {
		return nil, err
	}
	out := make([]ui.RecentCall, 0, len(calls))
	for _, c := range calls {
		l := c.Log
		at := l.StartedAt
		if at.IsZero() {
			at = c.SavedAt
		}
		out = append(out, ui.RecentCall{
			Key:       l.Key,
			Contact:   ui.Contact{Name: l.Remote.Name, Number: l.Remote.Number, Source: "History"},
			Direction: l.Direction, Missed: l.Missed, At: at, Talk: l.Talk,
		})
	}
	return out, nil
}

// ---- ui.SettingsStore ----

// settingsAgent is whose settings are meant: the signed-in agent, the one
// signing in, or the agent remembered on this PC.
func (s *sources) settingsAgent() string {
	if st := s.core.Snapshot(); st.SignedIn() {
		return st.Agent.ID
	}
	s.mu.Lock()
	id := s.signing
	s.mu.Unlock()
	if id != "" {
		return id
	}
	return s.Remembered()
}

// LoadSettings reads the agent's settings (defaults when none are stored
// or nobody is known yet).
func (s *sources) LoadSettings() (ui.Settings, error) {
	set := ui.DefaultSettings()
	id := s.settingsAgent()
	if id == "" {
		return set, nil
	}
	p, err := s.db.Profile(id)
	if err != nil {
		return set, err
	}
	if _, err := p.GetSettings(&set); err != nil {
		return ui.DefaultSettings(), err
	}
	s.live.loaded(set)
	return set, nil
}

// SaveSettings stores the signed-in agent's settings.
func (s *sources) SaveSettings(set ui.Settings) error {
	p, err := s.signedIn()
	if err != nil {
		return err
	}
	// The record also holds the note drafts: they are kept.
	s.recordMu.Lock()
	r := storedSettings{Settings: ui.DefaultSettings()}
	if _, rerr := p.GetSettings(&r); rerr != nil {
		r = storedSettings{} // unreadable: the settings saved now replace it
	}
	r.Settings = set
	err = p.PutSettings(r)
	s.recordMu.Unlock()
	if err != nil {
		return err
	}
	s.live.saved(set)
	return nil
}

// liveSettings applies the desk's settings that need no new sign-in: the
// audio devices and processing (the engine moves open streams without
// dropping a call) and verbose logs. The core's part (outcomes, quick
// notes, screen pop, call subject) the desk hands the core itself
// (Core.Reconfigure).
type liveSettings struct {
	audio   func(ui.Settings) // audioSource.Apply; nil without audio
	level   *slog.LevelVar    // the log level of every logger
	verbose bool              // -v: debug logs whatever the setting
}

// saved applies everything that can apply at once.
func (l *liveSettings) saved(set ui.Settings) {
	if l == nil {
		return
	}
	if l.audio != nil {
		l.audio(set)
	}
	l.logs(set)
}

// loaded applies the log level (the engine takes the audio settings from
// the profile itself at sign-in).
func (l *liveSettings) loaded(set ui.Settings) {
	if l != nil {
		l.logs(set)
	}
}

func (l *liveSettings) logs(set ui.Settings) {
	if l.level == nil {
		return
	}
	if set.VerboseLogs || l.verbose {
		l.level.Set(slog.LevelDebug)
	} else {
		l.level.Set(slog.LevelInfo)
	}
}

// ---- ui.Accounts ----

// Shared reports a PC marked shared ("remember me" is off).
func (s *sources) Shared() bool { return s.shared }

// AgentPasswords is false: no provisioning or CRM sign-in is configured
// that could check an agent's password, so only the agent ID is asked.
func (s *sources) AgentPasswords() bool { return false }

// ssoAccount is the part of *app.App that signs agents in to the desk
// with their CRM identity.
type ssoAccount interface {
	SSOName() string
	SignInSSO(ctx context.Context) (domain.AgentInfo, error)
}

// SSO is the CRM's name for "Sign in with <CRM>" ("" when the configured
// CRM has no user sign-in: the local directory, the webhook, HubSpot's
// portal token).
func (s *sources) SSO() string {
	if s.sso == nil {
		return ""
	}
	return s.sso.SSOName()
}

// rememberedFile keeps the remembered agent ID (not a secret).
func (s *sources) rememberedFile() string { return filepath.Join(s.dir, "remembered-agent.json") }

type remembered struct {
	Agent string `json:"agent"`
}

// Remembered returns the agent remembered on this PC ("" on a shared PC).
func (s *sources) Remembered() string {
	if s.shared {
		return ""
	}
	raw, err := os.ReadFile(s.rememberedFile())
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("remembered agent unreadable", "err", err)
		}
		return ""
	}
	var r remembered
	if err := json.Unmarshal(raw, &r); err != nil {
		s.log.Warn("remembered agent unreadable", "err", err)
		return ""
	}
	return r.Agent
}

// remember writes (or, with id "", removes) the remembered agent.
func (s *sources) remember(id string) error {
	path := s.rememberedFile()
	if id == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	raw, err := json.Marshal(remembered{Agent: id})
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// SignIn checks the agent ID, creates the profile on first use and
// remembers (or forgets) the agent on this PC.
func (s *sources) SignIn(_ context.Context, agentID, password string, rememberMe bool) (domain.AgentInfo, domain.Config, error) {
	id := strings.TrimSpace(agentID)
	if password != "" {
		return domain.AgentInfo{}, domain.Config{}, errNoAgentPassword
	}
	if _, err := s.db.Profile(id); err != nil {
		return domain.AgentInfo{}, domain.Config{}, err
	}
	var err error
	switch {
	case s.shared:
	case rememberMe:
		err = s.remember(id)
	case s.Remembered() == id:
		err = s.remember("")
	}
	if err != nil {
		s.log.Warn("remember me not saved", "err", err)
	}
	s.mu.Lock()
	s.signing = id
	s.mu.Unlock()
	return domain.AgentInfo{ID: id}, s.cfg.Clone(), nil
}

// SignInSSO signs the agent in with the CRM (the browser round trip; it
// blocks): the agent ID is the CRM user's (app.App.SignInSSO), its store
// profile exists and the CRM session is ready when the desk signs the
// agent in to the core. Nothing is remembered: the next shift signs in
// with the CRM again.
func (s *sources) SignInSSO(ctx context.Context) (domain.AgentInfo, domain.Config, error) {
	if s.SSO() == "" {
		return domain.AgentInfo{}, domain.Config{}, ui.ErrNotAvailable
	}
	who, err := s.sso.SignInSSO(ctx)
	if err != nil {
		return domain.AgentInfo{}, domain.Config{}, err
	}
	s.mu.Lock()
	s.signing = who.ID
	s.mu.Unlock()
	return who, s.cfg.Clone(), nil
}

// deviceAccount is the part of *app.App that runs the CRM's device code
// sign-in (Dynamics 365).
type deviceAccount interface {
	DeviceSignIn() bool
	SignInDeviceCode(ctx context.Context, forDesk bool, show func(app.DeviceCode)) (domain.AgentInfo, error)
}

// DeviceCodeOffered implements ui.DeviceSignIn.
func (s *sources) DeviceCodeOffered() bool { return s.device != nil && s.device.DeviceSignIn() }

// SignInDeviceCode implements ui.DeviceSignIn: the CRM's device code
// sign-in for the desk (the agent ID is the CRM user's, as with SignInSSO).
func (s *sources) SignInDeviceCode(ctx context.Context, show func(ui.DeviceCode)) (domain.AgentInfo, domain.Config, error) {
	if !s.DeviceCodeOffered() {
		return domain.AgentInfo{}, domain.Config{}, ui.ErrNotAvailable
	}
	who, err := s.device.SignInDeviceCode(ctx, true, func(dc app.DeviceCode) { show(deviceCodeOf(dc)) })
	if err != nil {
		return domain.AgentInfo{}, domain.Config{}, err
	}
	s.mu.Lock()
	s.signing = who.ID
	s.mu.Unlock()
	return who, s.cfg.Clone(), nil
}

func deviceCodeOf(dc app.DeviceCode) ui.DeviceCode {
	return ui.DeviceCode{Code: dc.Code, URL: dc.URL, Message: dc.Message}
}

// sharedPolicy is what a sign-out on a shared PC wipes: everything
// personal. Queued call logs stay for delivery under the agent's identity.
var sharedPolicy = store.LogoutPolicy{WipeHistory: true, WipeContacts: true, WipeRecordings: true, WipeFavorites: true}

// SignedOut ends the agent's session on this PC (store.DB.Logout): on a
// shared PC the agent's secrets and personal data are removed.
func (s *sources) SignedOut(agentID string) error {
	s.mu.Lock()
	if s.signing == agentID {
		s.signing = ""
	}
	s.mu.Unlock()
	if _, err := s.db.Logout(agentID, sharedPolicy, s.sec); err != nil {
		return err
	}
	return nil
}

// demoOf describes the demo PBX for the banner.
func demoOf(pbx *demopbx.PBX) ui.Demo {
	var exts []ui.DemoExtension
	for _, e := range demopbx.Extensions() {
		exts = append(exts, ui.DemoExtension{Number: e.Number, Label: e.Label})
	}
	return ui.Demo{Extensions: exts, RingMe: func() error {
		_, err := pbx.CallAgent("")
		return err
	}}
}
