package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// Core is the part of the core's client API the desk uses; *agent.Agent
// implements it. Every method enqueues and returns at once; results come
// back through Watch.
type Core interface {
	Watch(ctx context.Context, fn func(agent.Notify)) (stop func())
	Login(who domain.AgentInfo, cfg domain.Config) error
	Logout() error
	SetStatus(s domain.Status) error
	Dial(target string) (domain.CallID, error)
	Answer(id domain.CallID) error
	Reject(id domain.CallID, decline bool) error
	Redirect(id domain.CallID, target string) error
	Hangup(id domain.CallID) error
	Hold(id domain.CallID) error
	Resume(id domain.CallID) error
	Mute(on bool) error
	SendDTMF(id domain.CallID, digits string) error
	BlindTransfer(id domain.CallID, target string) error
	Consult(id domain.CallID, target string) (domain.CallID, error)
	CompleteTransfer(consult domain.CallID) error
	Merge(consult domain.CallID) error
	CancelConsult(consult domain.CallID) error
	LeaveConference(key string) error
	EndConference(key string) error
	SetDoNotLog(key string, on bool) error
	SetOutcome(key, outcome string) error
	Reconfigure(r domain.Reconfigure) error
	SetNotes(key, notes string) error
	AddQuickNote(key, name string) error
	ExtendWrapUp(key string) error
	CompleteWrapUp(key string) error
	SetRecording(key string, action domain.RecordAction) error
	AddBookmark(key, label string) error
	PlayAnnouncement(id domain.CallID, name string) error
	ChooseRecord(key, recordID string) error
	CreateContact(key string) error
}

var _ Core = (*agent.Agent)(nil)

// The interfaces below are what the desk needs from data the core does not
// hold. cmd/softphone implements them over store, crm, audio and secrets;
// the tests implement them with fakes. Their methods may block (disk,
// network, keyring): the desk always calls them off the Fyne goroutine and
// applies the result through its dispatcher. Any of them may be nil: the
// matching part of the window then says it is not available.

// Contact is a person or number the agent can call.
type Contact struct {
	Name   string
	Number string
	Source string // where it was found: "CRM", "Contacts", "History", "Favorites"
	URL    string // the CRM record, opened by the person button; "" = none
}

// Label is the best short text for the contact.
func (c Contact) Label() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Number
}

// RecentKind selects a recents list.
type RecentKind uint8

// RecentKind values, with the number of entries each list shows.
const (
	RecentUnknown  RecentKind = 0
	RecentAll      RecentKind = 1 // 30 entries
	RecentMissed   RecentKind = 2 // 10 entries
	RecentIncoming RecentKind = 3 // 10 entries
	RecentOutgoing RecentKind = 4 // 10 entries
)

// Limit is how many entries the list shows.
func (k RecentKind) Limit() int {
	if k == RecentAll {
		return 30
	}
	return 10
}

// RecentCall is one entry of the call history.
type RecentCall struct {
	Key       string
	Contact   Contact
	Direction domain.Direction
	Missed    bool
	At        time.Time
	Talk      time.Duration
}

// MaxFavorites is the most favorites a profile holds (store.MaxFavorites).
const MaxFavorites = 50

// Library is the signed-in agent's own data: favorites and call history
// (store.Profile: Favorites/AddFavorite/RemoveFavorite and History with
// ViewAll/ViewMissed/ViewIncoming/ViewOutgoing).
type Library interface {
	Favorites() ([]Contact, error)
	AddFavorite(c Contact) error // fails beyond MaxFavorites
	RemoveFavorite(number string) error
	Recent(kind RecentKind, limit int) ([]RecentCall, error)
}

// Finder searches the CRM, the local contacts and the history at once
// (package crm, with the store's contact cache). Each Contact's Source
// says where it was found. Search honours ctx (the desk cancels it when
// the query changes). It may return what it found together with an error
// saying which part could not answer (the CRM is down or needs its
// sign-in): the desk shows both. A CRM record found by name comes with the
// numbers the finder knows for it (one Contact per number: the numbers of
// the agent's calls matched to it), offering both the call and the record;
// a contact without a Number offers its record, not a call.
type Finder interface {
	Search(ctx context.Context, query string, limit int) ([]Contact, error)
}

// AudioDevice is a sound device.
type AudioDevice struct {
	ID     string // stable ID the audio adapter opens it by
	Name   string
	Input  bool
	Output bool
}

// Audio lists devices, reports levels for the meters and plays tests
// (package audio), on the devices picked in the settings even before they
// are saved. Level must be cheap and never block: the settings window
// samples it ten times a second while it is open. Test and TestRinger may
// block while the device opens (the desk calls them off the UI goroutine)
// and fail with a plain reason when it cannot be opened.
type Audio interface {
	Devices() ([]AudioDevice, error)
	// Level is the 0..1 peak of a device: with input, a microphone (any
	// one: polling keeps it open for the meter); else an output device,
	// which reads 0 unless it is the headset in use.
	Level(deviceID string, input bool) float64
	Test(deviceID string) error       // the test tone on an output device
	TestRinger(deviceID string) error // the ringtone on an output device
}

// CheckResult is the outcome of a pre-shift check.
type CheckResult struct {
	Microphone string  // the microphone checked, by name
	Speaker    string  // the headset the tone played in, by name
	MicPeak    float64 // the loudest microphone peak (0..1); near 0: silent
	EchoPath   bool    // the microphone heard the test tone (speakers, a leaking headset)
	Underruns  uint64  // gaps in the headset's sound during the check
}

// EchoResult is the measured echo test call: test beeps sent into the
// call and heard back from the PBX's echo service.
type EchoResult struct {
	Sent, Heard int           // Heard == 0: one-way audio, the far end does not hear the agent
	RoundTrip   time.Duration // the median round trip of the beeps heard back (0 for none)
}

// PreShift is the pre-shift audio check (cmd over app.App.PreShiftCheck,
// which runs audio.Engine.Check, and app.App.EchoCheck). Check blocks for
// about d; MicLevel must be cheap (sampled ten times a second while the
// check window is open). EchoCheck measures the echo test call the desk
// dialled to EchoNumber through the core: it waits until the call is
// connected, then sends bursts test beeps (about one a second) and
// listens for them coming back; it fails with a plain reason when the call
// ends first or has no audio.
type PreShift interface {
	Check(ctx context.Context, d time.Duration) (CheckResult, error)
	MicLevel() float64  // 0..1 peak since the last call
	EchoNumber() string // the PBX's echo test; "" offers no echo call
	EchoCheck(ctx context.Context, call domain.CallID, bursts int) (EchoResult, error)
}

// Settings are the agent's desktop settings, stored per profile.
type Settings struct {
	Microphone       string
	Speaker          string
	Ringer           string
	EchoCancel       bool
	NoiseSuppression bool
	AutoGain         bool
	ScreenPop        domain.ScreenPopPolicy
	AutoSaveNotes    bool
	DefaultSubject   string
	QuickNotes       []domain.QuickNote
	Outcomes         []string
	Tooltips         bool
	EditBeforeDial   bool   // click-to-dial fills the number entry instead of dialling
	ConfirmLinks     bool   // ask before a clicked tel:/sip:/callto: link dials (Desk.ConfirmDial)
	Language         string // "en", "de"; "" follows the system
	VerboseLogs      bool
	StartAtLogin     bool // the OS starts the app when the user logs in (through Autostart; read from the OS at load)
	PreShiftAtSignIn bool // the pre-shift check opens after each sign-in
}

// DefaultSettings are used until the agent saves their own.
func DefaultSettings() Settings {
	return Settings{EchoCancel: true, NoiseSuppression: true, AutoGain: true, ScreenPop: domain.ScreenPopAtRinging, Tooltips: true}
}

// SettingsStore loads and saves Settings (store.Profile.Settings and
// PutSettings). SaveSettings also applies at once what the adapters hold
// (audio devices and processing, verbose logs); the desk folds the core's
// part (outcomes, quick notes, screen pop, call subject) into the core's
// configuration at sign-in and, when they are saved during a shift, at
// once through Core.Reconfigure.
type SettingsStore interface {
	LoadSettings() (Settings, error)
	SaveSettings(s Settings) error
}

// NoteDraft is the notes of a call not yet logged, kept on this PC while
// the agent types them (Settings.AutoSaveNotes).
type NoteDraft struct {
	Key   string    // the interaction (call key)
	Who   string    // the customer, as the call screen shows them
	Notes string    // the text as last typed
	At    time.Time // when it was last changed
}

// NoteDrafts keeps the signed-in agent's note drafts in their profile
// (cmd over the store's profile), so that notes typed on the call or
// wrap-up screen survive a crash or a restart of the app: the desk saves
// a call's draft a moment after the agent stops typing (AutoSaveNotes on),
// drops it when the call has left the core (logged, or "do not log"), and
// after the next sign-in offers back the drafts of calls that never
// reached the call log. Its methods may block (disk); the desk calls them
// off the UI goroutine.
type NoteDrafts interface {
	SaveDraft(d NoteDraft) error
	DropDraft(key string) error
	Drafts() ([]NoteDraft, error)
}

// Autostart is the operating system's start-at-login entry for this
// user (cmd over desktop.Autostart: an XDG autostart file, a LaunchAgent,
// the Run registry key). It is per OS user, not per agent: the desk reads
// it into Settings.StartAtLogin when settings load and changes it when the
// agent saves a different choice. Both methods may block briefly (file
// I/O); the desk calls them off the UI goroutine.
type Autostart interface {
	Enabled() (bool, error)
	SetEnabled(on bool) error
}

// Diagnostics exports a bundle (logs, versions, settings) with secrets
// redacted and returns where it was written.
type Diagnostics interface {
	ExportDiagnostics() (path string, err error)
}

// Accounts signs agents in on this PC: provisioning, the keyring and the
// store profile (cmd over secrets and store). SignIn returns who signed in
// and the core configuration to log in with; the desk then calls
// Core.Login. SignedOut runs after the core reports Offline (on a shared PC
// it wipes the agent's secrets and personal data).
type Accounts interface {
	Shared() bool       // the PC is marked shared: "remember me" is off
	Remembered() string // agent ID remembered on this PC, "" for none
	SSO() string        // CRM name for "Sign in with <CRM>", "" when not offered
	SignIn(ctx context.Context, agentID, password string, remember bool) (domain.AgentInfo, domain.Config, error)
	SignInSSO(ctx context.Context) (domain.AgentInfo, domain.Config, error)
	SignedOut(agentID string) error
}

// DeviceCode is what the agent must see during a device code sign-in:
// open URL on any device (a phone) and enter Code there.
type DeviceCode struct {
	Code    string
	URL     string
	Message string // the identity provider's own instructions, if any
}

// DeviceSignIn is an optional interface of Accounts: the CRM's device code
// sign-in (Dynamics 365 through Entra ID), offered as "Sign in with a code"
// where the browser round trip cannot run (thin clients, no browser on the
// desk). SignInDeviceCode calls show once with the code, then blocks until
// the agent has entered it elsewhere, declined, the code expired or ctx
// ends; like SignInSSO it returns who signed in.
type DeviceSignIn interface {
	DeviceCodeOffered() bool
	SignInDeviceCode(ctx context.Context, show func(DeviceCode)) (domain.AgentInfo, domain.Config, error)
}

// CRMDeviceSignIn is an optional interface of Sync: the device code
// sign-in to the external CRM for the signed-in agent, offered beside
// CRMSignIn's browser sign-in while SyncState reports SignInNeeded.
type CRMDeviceSignIn interface {
	DeviceCodeOffered() bool
	SignInCRMDeviceCode(ctx context.Context, show func(DeviceCode)) error
}

// PasswordPolicy is an optional interface of Accounts. When AgentPasswords
// reports false, nothing on this PC can check an agent's password (no
// provisioning or CRM sign-in), so the login screen asks for the agent ID
// only.
type PasswordPolicy interface {
	AgentPasswords() bool
}

// FailedLog is a call log the CRM did not accept.
type FailedLog struct {
	Key   string
	Who   string // the customer, as shown in the history
	At    time.Time
	Error string // plain words
}

// Sync reports CRM delivery (the crm outbox) and resends failed logs.
type Sync interface {
	SyncState() viewmodel.Sync
	Failed() ([]FailedLog, error)
	Resend(key string) error
}

// CRMSignIn is an optional interface of Sync: the external CRM's
// interactive sign-in for the signed-in agent (the system browser and back;
// it blocks until the round trip ends). The sync dialog offers it while
// SyncState reports SignInNeeded.
type CRMSignIn interface {
	SignInCRM(ctx context.Context) error
}

// Stats reports a connected call's RTP statistics (package sip implements
// it as part of domain.AudioSource).
type Stats interface {
	CallStats(id domain.CallID) (domain.CallStats, error)
}

// Shell is the desktop around the window: title, attention on an incoming
// call (raise, keep on top, OS notification), OS notifications for failures
// (without raising the window) and the tray icon. NewShell implements it
// over a fyne.App and fyne.Window.
type Shell interface {
	SetTitle(title string)
	Attention(title, body string)
	Notify(title, body string)
	SetTrayIcon(res fyne.Resource)
}
