package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/app"
	"github.com/callcentre/softphone/store"
	"github.com/callcentre/softphone/ui"
)

// fakeCore stands in for the core's snapshot (who is signed in).
type fakeCore struct {
	mu sync.Mutex
	id string
}

func (f *fakeCore) Snapshot() domain.State {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s domain.State
	s.Agent.ID = f.id
	s.Presence.Presence = domain.PresenceOffline
	if f.id != "" {
		s.Presence.Presence = domain.PresenceAvailable
	}
	return s
}

func (f *fakeCore) set(id string) { f.mu.Lock(); f.id = id; f.mu.Unlock() }

// savedSink collects CallLogSaved events.
type savedSink chan domain.Input

func (s savedSink) Post(in domain.Input) error { s <- in; return nil }

// saveLogs saves logs through a call logger of db's, each stored before
// the next is saved.
func saveLogs(t *testing.T, db *store.DB, logs ...domain.CallLog) {
	t.Helper()
	sink := make(savedSink, 1)
	cl := db.NewCallLogger()
	cl.Attach(sink)
	for _, l := range logs {
		if err := cl.SaveCallLog(l); err != nil {
			t.Fatal(err)
		}
		select {
		case in := <-sink:
			if _, ok := in.(domain.CallLogSaved); !ok {
				t.Fatalf("save: %#v", in)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("call log not saved")
		}
	}
}

// fakeRemover records secret removals (shared-PC logout).
type fakeRemover struct{ removed []string }

func (f *fakeRemover) DeleteAgent(id string) error { f.removed = append(f.removed, id); return nil }

func openStore(t *testing.T) (*store.DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(dir, store.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db, dir
}

// testSources builds the app's sources over db with the default
// configuration, no secret store and a silent log.
func testSources(t *testing.T, db *store.DB, core agentSource, dir string) *sources {
	t.Helper()
	src, err := newSources(db, core, nil, domain.DefaultConfig(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestSourcesLibraryOverTheStore(t *testing.T) {
	db, dir := openStore(t)
	core := &fakeCore{}
	src := testSources(t, db, core, dir)
	if _, err := src.Favorites(); !errors.Is(err, errNotSignedIn) {
		t.Fatalf("favorites while signed out: %v", err)
	}
	core.set("a1")
	if err := src.AddFavorite(ui.Contact{Name: "Zoe", Number: "+442079460018"}); err != nil {
		t.Fatal(err)
	}
	if err := src.AddFavorite(ui.Contact{Name: "anna", Number: "+12025550143"}); err != nil {
		t.Fatal(err)
	}
	favs, err := src.Favorites()
	if err != nil || len(favs) != 2 || favs[0].Name != "anna" || favs[1].Number != "+442079460018" {
		t.Fatalf("favorites %+v %v", favs, err)
	}
	if err := src.RemoveFavorite("+12025550143"); err != nil {
		t.Fatal(err)
	}
	if err := src.AddFavorite(ui.Contact{Number: "not a number"}); err == nil {
		t.Fatal("a bad number must be refused")
	}

	// History views over call logs saved through the store's call logger.
	t0 := time.Now().Add(-time.Hour)
	saveLogs(t, db,
		domain.CallLog{Key: "k1", AgentID: "a1", Direction: domain.DirectionInbound, Remote: domain.Party{Number: "+442079460018", Name: "Alice Martin"},
			StartedAt: t0, AnsweredAt: t0.Add(time.Second), EndedAt: t0.Add(time.Minute), Talk: time.Minute},
		domain.CallLog{Key: "k2", AgentID: "a1", Direction: domain.DirectionInbound, Remote: domain.Party{Number: "+12025550143"},
			StartedAt: t0.Add(2 * time.Minute), EndedAt: t0.Add(3 * time.Minute), Missed: true},
		domain.CallLog{Key: "k3", AgentID: "a1", Direction: domain.DirectionOutbound, Remote: domain.Party{Number: "201"},
			StartedAt: t0.Add(4 * time.Minute), EndedAt: t0.Add(5 * time.Minute)},
	)
	for kind, want := range map[ui.RecentKind][]string{
		ui.RecentAll: {"k3", "k2", "k1"}, ui.RecentMissed: {"k2"}, ui.RecentIncoming: {"k1"}, ui.RecentOutgoing: {"k3"},
	} {
		got, err := src.Recent(kind, kind.Limit())
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, c := range got {
			keys = append(keys, c.Key)
		}
		if len(keys) != len(want) {
			t.Fatalf("list %d: %q, want %q", kind, keys, want)
		}
		for i := range want {
			if keys[i] != want[i] {
				t.Fatalf("list %d: %q, want %q", kind, keys, want)
			}
		}
		if kind == ui.RecentIncoming && (got[0].Contact.Name != "Alice Martin" || got[0].Talk != time.Minute || got[0].Missed) {
			t.Fatalf("incoming entry %+v", got[0])
		}
	}
	if _, err := src.Recent(ui.RecentUnknown, 5); err == nil {
		t.Fatal("an unknown list must be an error")
	}
}

func TestSourcesSettingsAndRememberMe(t *testing.T) {
	db, dir := openStore(t)
	core := &fakeCore{}
	src := testSources(t, db, core, dir)
	if s, err := src.LoadSettings(); err != nil || !s.EchoCancel {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	if err := src.SaveSettings(ui.Settings{}); !errors.Is(err, errNotSignedIn) {
		t.Fatalf("save while signed out: %v", err)
	}
	if src.AgentPasswords() || src.SSO() != "" || src.Shared() {
		t.Fatal("a personal PC without sign-in server: agent ID only, no SSO")
	}
	if _, _, err := src.SignIn(context.Background(), "a1", "pw", false); !errors.Is(err, errNoAgentPassword) {
		t.Fatalf("a password nothing can check: %v", err)
	}
	if _, _, err := src.SignIn(context.Background(), "", "", false); err == nil {
		t.Fatal("empty agent ID must fail")
	}
	who, cfg, err := src.SignIn(context.Background(), " a1 ", "", true)
	if err != nil || who.ID != "a1" || cfg.MaxLines != domain.DefaultConfig().MaxLines {
		t.Fatalf("sign-in %+v %v", who, err)
	}
	if src.Remembered() != "a1" {
		t.Fatalf("remembered %q", src.Remembered())
	}
	core.set("a1")
	set := ui.DefaultSettings()
	set.QuickNotes = []domain.QuickNote{{Name: "Refund", Text: "Refund issued."}}
	set.ScreenPop = domain.ScreenPopAtAnswer
	if err := src.SaveSettings(set); err != nil {
		t.Fatal(err)
	}
	if err := src.SignedOut("a1"); err != nil {
		t.Fatal(err)
	}
	core.set("")
	// Signed out: the remembered agent's settings are what the window shows.
	got, err := src.LoadSettings()
	if err != nil || len(got.QuickNotes) != 1 || got.ScreenPop != domain.ScreenPopAtAnswer {
		t.Fatalf("settings after sign-out %+v %v", got, err)
	}
	// Unchecking "remember me" forgets the agent.
	if _, _, err := src.SignIn(context.Background(), "a1", "", false); err != nil {
		t.Fatal(err)
	}
	if src.Remembered() != "" {
		t.Fatalf("still remembered %q", src.Remembered())
	}
	// A garbled file loses nothing else: nobody is remembered.
	if err := os.WriteFile(filepath.Join(dir, "remembered-agent.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if src.Remembered() != "" {
		t.Fatal("a garbled file must remember nobody")
	}
}

func TestSourcesSharedPCLogoutWipes(t *testing.T) {
	db, dir := openStore(t)
	if err := db.PutMachineSettings(store.MachineSettings{Shared: true}); err != nil {
		t.Fatal(err)
	}
	core := &fakeCore{}
	src := testSources(t, db, core, dir)
	if !src.Shared() {
		t.Fatal("shared flag not read")
	}
	if _, _, err := src.SignIn(context.Background(), "a1", "", true); err != nil {
		t.Fatal(err)
	}
	if src.Remembered() != "" {
		t.Fatal("a shared PC must never remember")
	}
	core.set("a1")
	if err := src.AddFavorite(ui.Contact{Name: "Zoe", Number: "+442079460018"}); err != nil {
		t.Fatal(err)
	}
	// Without a keyring the shared-PC logout cannot remove secrets: it
	// says so instead of pretending.
	if err := src.SignedOut("a1"); !errors.Is(err, store.ErrNoSecrets) {
		t.Fatalf("shared logout without keyring: %v", err)
	}
	rm := &fakeRemover{}
	src.sec = rm
	if err := src.SignedOut("a1"); err != nil || len(rm.removed) != 1 || rm.removed[0] != "a1" {
		t.Fatalf("shared logout: %v, secrets removed for %q", err, rm.removed)
	}
	favs, err := src.Favorites()
	if err != nil || len(favs) != 0 {
		t.Fatalf("favorites after a shared-PC logout: %+v %v", favs, err)
	}
}

// fakeSSO is the app's CRM sign-in for the desk.
type fakeSSO struct {
	name string
	who  domain.AgentInfo
	err  error
}

func (f fakeSSO) SSOName() string { return f.name }
func (f fakeSSO) SignInSSO(context.Context) (domain.AgentInfo, error) {
	return f.who, f.err
}

// TestSourcesSignInSSO: "Sign in with <CRM>" is offered only with a CRM
// sign-in, returns the CRM's agent with the desk's configuration, and
// that agent's settings are the ones loaded before the core signs in.
func TestSourcesSignInSSO(t *testing.T) {
	db, dir := openStore(t)
	src, err := newSources(db, &fakeCore{}, nil, domain.DefaultConfig(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if src.SSO() != "" {
		t.Fatal("sso offered without a crm")
	}
	if _, _, err := src.SignInSSO(context.Background()); !errors.Is(err, ui.ErrNotAvailable) {
		t.Fatalf("sso without a crm: %v", err)
	}
	src.sso = fakeSSO{name: "Salesforce", err: errors.New("access denied")}
	if src.SSO() != "Salesforce" {
		t.Fatalf("SSO %q", src.SSO())
	}
	if _, _, err := src.SignInSSO(context.Background()); err == nil {
		t.Fatal("refused crm sign-in accepted")
	}
	if id := src.settingsAgent(); id != "" {
		t.Fatalf("a refused sign-in left %q signing in", id)
	}
	p, err := db.Profile("ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	set := ui.DefaultSettings()
	set.DefaultSubject = "ada's"
	if err := p.PutSettings(set); err != nil {
		t.Fatal(err)
	}
	src.sso = fakeSSO{name: "Salesforce", who: domain.AgentInfo{ID: "ada@example.com", Name: "Ada"}}
	who, cfg, err := src.SignInSSO(context.Background())
	if err != nil || who.ID != "ada@example.com" || who.Name != "Ada" || cfg.MaxLines == 0 {
		t.Fatalf("sso: %+v %+v %v", who, cfg, err)
	}
	got, err := src.LoadSettings()
	if err != nil || got.DefaultSubject != "ada's" {
		t.Fatalf("settings of the sso agent: %+v %v", got, err)
	}
}

// TestSettingsApplyLive: saving applies the audio settings and the log
// level at once; loading applies the log level; -v keeps debug logs.
func TestSettingsApplyLive(t *testing.T) {
	db, dir := openStore(t)
	core := &fakeCore{}
	src := testSources(t, db, core, dir)
	var applied []ui.Settings
	level := new(slog.LevelVar)
	src.live = &liveSettings{level: level, audio: func(s ui.Settings) { applied = append(applied, s) }}
	core.set("a1")
	set := ui.DefaultSettings()
	set.VerboseLogs, set.Speaker = true, "Fake|Headset"
	if err := src.SaveSettings(set); err != nil {
		t.Fatal(err)
	}
	if level.Level() != slog.LevelDebug || len(applied) != 1 || applied[0].Speaker != "Fake|Headset" {
		t.Fatalf("after save: level %v applied %+v", level.Level(), applied)
	}
	set.VerboseLogs = false
	if err := src.SaveSettings(set); err != nil {
		t.Fatal(err)
	}
	if level.Level() != slog.LevelInfo || len(applied) != 2 {
		t.Fatalf("verbose off: level %v", level.Level())
	}
	src.live.verbose = true
	if _, err := src.LoadSettings(); err != nil {
		t.Fatal(err)
	}
	if level.Level() != slog.LevelDebug || len(applied) != 2 {
		t.Fatalf("load with -v: level %v, audio applied %d times", level.Level(), len(applied))
	}
	core.set("")
	if err := src.SaveSettings(set); err == nil || len(applied) != 2 {
		t.Fatal("settings saved and applied with nobody signed in")
	}
}

// fakeDevice is the app's device code sign-in.
type fakeDevice struct {
	offered bool
	forDesk []bool
}

func (f *fakeDevice) DeviceSignIn() bool { return f.offered }
func (f *fakeDevice) SignInDeviceCode(_ context.Context, forDesk bool, show func(app.DeviceCode)) (domain.AgentInfo, error) {
	f.forDesk = append(f.forDesk, forDesk)
	show(app.DeviceCode{Code: "C0DE", URL: "https://example.test/device"})
	return domain.AgentInfo{ID: "ada@example.com", Name: "Ada"}, nil
}

// TestDeviceCodeSources: the login's and the sync dialog's device code
// sign-ins reach the app (for the desk, for the signed-in agent's CRM),
// pass the code on, and are not offered without the app's flow.
func TestDeviceCodeSources(t *testing.T) {
	db, dir := openStore(t)
	src, err := newSources(db, &fakeCore{}, nil, domain.DefaultConfig(), dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if src.DeviceCodeOffered() {
		t.Fatal("offered without the app's flow")
	}
	dev := &fakeDevice{offered: true}
	src.device = dev
	var shown []ui.DeviceCode
	who, cfg, err := src.SignInDeviceCode(context.Background(), func(dc ui.DeviceCode) { shown = append(shown, dc) })
	if err != nil || who.ID != "ada@example.com" || cfg.MaxLines == 0 || src.settingsAgent() != "ada@example.com" {
		t.Fatalf("desk sign-in: %+v %v", who, err)
	}
	ss := syncSource{device: dev}
	if !ss.DeviceCodeOffered() {
		t.Fatal("the sync dialog does not offer it")
	}
	if err := ss.SignInCRMDeviceCode(context.Background(), func(dc ui.DeviceCode) { shown = append(shown, dc) }); err != nil {
		t.Fatal(err)
	}
	if len(shown) != 2 || shown[0] != (ui.DeviceCode{Code: "C0DE", URL: "https://example.test/device"}) || !slices.Equal(dev.forDesk, []bool{true, false}) {
		t.Fatalf("shown %+v, for desk %v", shown, dev.forDesk)
	}
}
