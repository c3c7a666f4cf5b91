package ui

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"fyne.io/fyne/v2"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// inflight counts calls into the fakes that are still running, so the rig
// knows when background work has finished.
var inflight atomic.Int64

func enter() func() {
	inflight.Add(1)
	return func() { inflight.Add(-1) }
}

type fakeLibrary struct {
	mu     sync.Mutex
	favs   []Contact
	recent []RecentCall
	asked  []RecentKind
	fail   error
}

func (f *fakeLibrary) Favorites() ([]Contact, error) {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.favs), f.fail
}

func (f *fakeLibrary) AddFavorite(c Contact) error {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.favs) >= MaxFavorites {
		return errorf("at most %d favorites", MaxFavorites)
	}
	f.favs = append(f.favs, c)
	return nil
}

func (f *fakeLibrary) RemoveFavorite(number string) error {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.favs = slices.DeleteFunc(f.favs, func(c Contact) bool { return c.Number == number })
	return nil
}

func (f *fakeLibrary) Recent(kind RecentKind, limit int) ([]RecentCall, error) {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, kind)
	var out []RecentCall
	for _, c := range f.recent {
		ok := kind == RecentAll ||
			(kind == RecentMissed && c.Missed) ||
			(kind == RecentIncoming && !c.Missed && c.Direction == domain.DirectionInbound) ||
			(kind == RecentOutgoing && c.Direction == domain.DirectionOutbound)
		if ok && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

type fakeFinder struct {
	mu      sync.Mutex
	queries []string
	people  []Contact
	err     error // returned with whatever matched (a part did not answer)
}

func (f *fakeFinder) Search(_ context.Context, q string, limit int) ([]Contact, error) {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	var out []Contact
	for _, c := range f.people {
		if strings.Contains(strings.ToLower(c.Name), strings.ToLower(q)) && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, f.err
}

type fakeAudio struct {
	mu     sync.Mutex
	devs   []AudioDevice
	levels map[string]float64 // by ID + "/in" (a microphone) or "/out"
	tested []string           // test tones played, by device ID
	rung   []string           // ringtones played, by device ID
	fail   error              // the next tests' error
}

func (f *fakeAudio) Devices() ([]AudioDevice, error) {
	defer enter()()
	return slices.Clone(f.devs), nil
}

func (f *fakeAudio) Level(id string, input bool) float64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if input {
		return f.levels[id+"/in"]
	}
	return f.levels[id+"/out"]
}

func (f *fakeAudio) Test(id string) error {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.tested = append(f.tested, id)
	return nil
}

func (f *fakeAudio) TestRinger(id string) error {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.rung = append(f.rung, id)
	return nil
}

type fakeSettings struct {
	mu    sync.Mutex
	s     Settings
	saved []Settings
}

func (f *fakeSettings) LoadSettings() (Settings, error) {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.s, nil
}

func (f *fakeSettings) SaveSettings(s Settings) error {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.s = s
	f.saved = append(f.saved, s)
	return nil
}

type fakeDiag struct{ n atomic.Int32 }

func (f *fakeDiag) ExportDiagnostics() (string, error) {
	defer enter()()
	f.n.Add(1)
	return "/tmp/softphone-diagnostics.zip", nil
}

type fakeAccounts struct {
	mu         sync.Mutex
	shared     bool
	remembered string
	sso        string
	cfg        domain.Config
	users      map[string]string
	signIns    []string
	signedOut  []string
	// noPasswords: nothing checks agent passwords (PasswordPolicy).
	noPasswords bool
}

func (f *fakeAccounts) AgentPasswords() bool { return !f.noPasswords }

func (f *fakeAccounts) Shared() bool       { return f.shared }
func (f *fakeAccounts) Remembered() string { defer enter()(); return f.remembered }
func (f *fakeAccounts) SSO() string        { return f.sso }

func (f *fakeAccounts) SignIn(_ context.Context, id, password string, remember bool) (domain.AgentInfo, domain.Config, error) {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signIns = append(f.signIns, id+" remember="+map[bool]string{true: "yes", false: "no"}[remember])
	if p, ok := f.users[id]; !ok || p != password {
		return domain.AgentInfo{}, domain.Config{}, errDenied
	}
	return domain.AgentInfo{ID: id, Name: "Alice Smith"}, f.cfg, nil
}

func (f *fakeAccounts) SignInSSO(context.Context) (domain.AgentInfo, domain.Config, error) {
	defer enter()()
	return domain.AgentInfo{ID: "a1", Name: "Alice Smith"}, f.cfg, nil
}

func (f *fakeAccounts) SignedOut(id string) error {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signedOut = append(f.signedOut, id)
	return nil
}

type fakeSync struct {
	mu     sync.Mutex
	state  viewmodel.Sync
	failed []FailedLog
	resent []string
}

func (f *fakeSync) SyncState() viewmodel.Sync {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

func (f *fakeSync) Failed() ([]FailedLog, error) {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.failed), nil
}

func (f *fakeSync) Resend(key string) error {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resent = append(f.resent, key)
	return nil
}

type fakeStats struct {
	mu sync.Mutex
	s  map[domain.CallID]domain.CallStats
}

func (f *fakeStats) CallStats(id domain.CallID) (domain.CallStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.s[id]
	if !ok {
		return domain.CallStats{}, ErrNotAvailable
	}
	return s, nil
}

type fakeShell struct {
	titles    []string
	attention []string
	notified  []string
	icons     []string
}

func (f *fakeShell) Notify(title, body string) { f.notified = append(f.notified, title+": "+body) }

func (f *fakeShell) SetTitle(t string)             { f.titles = append(f.titles, t) }
func (f *fakeShell) Attention(title, body string)  { f.attention = append(f.attention, title+": "+body) }
func (f *fakeShell) SetTrayIcon(res fyne.Resource) { f.icons = append(f.icons, res.Name()) }

// fakeCRMSync is a Sync whose CRM needs the agent's sign-in.
type fakeCRMSync struct {
	fakeSync
	signIns int
	fail    error
}

func (f *fakeCRMSync) SignInCRM(context.Context) error {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.signIns++
	if f.fail != nil {
		return f.fail
	}
	f.state.SignInNeeded = false
	return nil
}
