package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/control"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/hubspot"
	"github.com/callcentre/softphone/crm/local"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/servicenow"
	"github.com/callcentre/softphone/crm/webhook"
	"github.com/callcentre/softphone/crm/zendesk"
	"github.com/callcentre/softphone/desktop"
	"github.com/callcentre/softphone/secrets"
	"github.com/callcentre/softphone/sip"
	"github.com/callcentre/softphone/sip/demopbx"
	"github.com/callcentre/softphone/store"
)

// Config is what Build needs; cmd fills it from flags and settings.
type Config struct {
	// DataDir is where the database lives (default store.DefaultDir()).
	DataDir string
	// Demo runs the built-in demo PBX instead of a real account. It is
	// also used when Account is nil.
	Demo bool
	// Account is the SIP account (nil: demo mode).
	Account *sip.Account
	// Password reads the SIP password (from the keyring); required with
	// an Account.
	Password func() (string, error)
	// AgentConfig is the core's configuration used at sign-in (default
	// domain.DefaultConfig()).
	AgentConfig *domain.Config
	// ControlAddr is the control API's loopback address (default
	// control.DefaultAddr); "off" disables the API.
	ControlAddr string
	// ControlToken is the control API token. Empty: read it from the
	// keyring (Secrets), creating it on first use; without a keyring a
	// fresh token is made for this run.
	ControlToken string
	// AllowedOrigins are the CRM web origins allowed to use the control
	// API.
	AllowedOrigins []string
	// Secrets is the keyring (nil: none).
	Secrets *secrets.Store
	// InstanceSocket is the single-instance socket path (default
	// desktop.SocketPath()); "off" disables it. When another instance
	// holds it, Build fails with desktop.ErrAlreadyRunning: cmd first
	// tries desktop.Send and only builds when nothing is running.
	InstanceSocket string
	// ConfirmLink asks before a clicked link dials (nil: no confirmation).
	ConfirmLink desktop.Confirm
	// DemoOptions tune the demo PBX (tests shorten its delays).
	DemoOptions demopbx.Options
	// Logger is the root logger (default slog.Default()).
	Logger *slog.Logger

	// Region is the ISO 3166 region national numbers are read in (caller
	// ID, contact imports, the store's number keys), e.g. "GB"; default
	// "US".
	Region string
	// Salesforce configures the Salesforce connector (LoginURL, ClientID,
	// RedirectURL, SharedPC, field mapping ...; Keyring defaults to
	// Secrets, Logger to Logger, Region to Region). With Salesforce and
	// Webhook both nil there is no external CRM: the local directory
	// (crm/local) in the agent's store profile is the CRM, and call logs
	// stay in the store's history.
	Salesforce *salesforce.Config
	// Webhook configures the generic webhook connector (crm/webhook) as
	// the external CRM instead of Salesforce: Name (default "webhook"),
	// LogURL, LookupURL, SearchURL, RecordURL, NewRecordURL, HTTPClient;
	// Logger defaults to Logger. Its HMAC signing secret and optional
	// bearer token are read from the OS keyring (Secrets, required) under
	// agent MachineAgent, account WebhookAccount(Name), kinds
	// secrets.KindClientSecret and secrets.KindAccessToken (store them
	// with SetWebhookSecrets); Build refuses a Secret or BearerToken set
	// here (ErrSecretInConfig). Call logs go through the outbox like
	// Salesforce's, caller lookup through LookupURL with the store's
	// contact cache as fallback; the webhook has no interactive sign-in.
	// Setting more than one external CRM is ErrTwoCRMs.
	Webhook *webhook.Config
	// HubSpot, Dynamics, ServiceNow and Zendesk configure the other CRM
	// connectors (crm/hubspot, crm/dynamics, crm/servicenow, crm/zendesk)
	// like Salesforce: Keyring defaults to Secrets, Logger to Logger,
	// Region to Region. Each signs agents in the way its CRM supports
	// (App.SignInCRM) and logs through the outbox.
	HubSpot    *hubspot.Config
	Dynamics   *dynamics.Config
	ServiceNow *servicenow.Config
	Zendesk    *zendesk.Config
	// AgentIDFromCRM maps the CRM user of a "Sign in with <CRM>" sign-in
	// (App.SignInSSO) to the desk's agent ID (nil: DefaultAgentIDFromCRM,
	// the CRM username in lower case, else the CRM user ID).
	AgentIDFromCRM func(crm.Identity) string
	// OnScreenPop shows the local CRM's in-app screen pops (the UI hands
	// them to fyne.Do; it runs on its own goroutine). nil: the local CRM
	// refuses pops and the core shows a notice. Never opens a browser.
	OnScreenPop func(ScreenPop)
	// Opener opens the external CRM's screen pops (default
	// crm.OpenBrowser).
	Opener crm.Opener
	// OnOutboxChange receives the external CRM's outbox status (pending,
	// dead letters, last error, offline) on the worker goroutine; it must
	// not block.
	OnOutboxChange func(outbox.Status)
	// OutboxOptions tune the outbox worker (tests shorten its delays).
	OutboxOptions []outbox.Option
	// FlushTimeout bounds the wait for an agent's queued call logs at
	// sign-out (default DefaultFlushTimeout).
	FlushTimeout time.Duration

	// NoAudio runs without the audio engine: calls connect without sound
	// and the core says so in plain words (App.AudioErr tells why).
	NoAudio bool
	// AudioDriver is the sound device layer (nil: PortAudio, which the
	// app opens at the audio engine's first use and closes; when it
	// cannot be initialised calls connect without sound). Tests pass
	// audiotest's fake driver; a given driver is closed by the caller
	// after App.Close.
	AudioDriver audio.Driver
	// AudioSettings are the audio settings while nobody is signed in and
	// the defaults under an agent's saved ones (nil:
	// audio.DefaultSettings()).
	AudioSettings *audio.Settings
	// OnAudioEvent receives the audio engine's device, level and
	// recording events (audio.Event: a device fell back to the default,
	// vanished or is unavailable; the meters) on one goroutine of the
	// engine's, in order; it must return quickly (the UI hands them to
	// fyne.Do).
	OnAudioEvent func(audio.Event)
	// EchoTestNumber is the PBX's echo test number the pre-shift check
	// dials (App.EchoTestNumber; the demo PBX has its own). "" offers no
	// echo call.
	EchoTestNumber string
	// AnnouncementsDir holds the announcement WAV files played into calls
	// (default DataDir/announcements).
	AnnouncementsDir string
}

// App is the running application.
type App struct {
	// Agent is the core; the UI and the control API are its clients.
	Agent *agent.Agent
	// Store is the local database.
	Store *store.DB
	// SIP is the telephony engine.
	SIP *sip.Engine
	// PBX is the demo PBX (nil unless Demo).
	PBX *demopbx.PBX
	// Demo reports demo mode (the UI shows the banner).
	Demo bool
	// Control is the control API (nil when disabled).
	Control *control.Server
	// ControlAddr is the address the control API listens on.
	ControlAddr string
	// ControlToken is the control API token (shown in settings so CRM
	// pages can be configured with it).
	ControlToken string
	// AgentConfig is the configuration agents sign in with.
	AgentConfig domain.Config
	// Instance is the single-instance socket (nil when disabled).
	Instance *desktop.Instance
	// Normalizer reads phone numbers (E.164) for the store and the CRM.
	Normalizer *crm.Normalizer
	// Local is the local CRM, the agent's Directory port when no external
	// CRM is configured (nil otherwise): import contacts into it
	// (ImportCSV, ImportVCard) while an agent is signed in.
	Local *local.Directory
	// CRM is the external CRM's Directory port (nil without an external
	// CRM).
	CRM *crm.Directory
	// Connector is the external CRM (Salesforce or the webhook; nil
	// without one).
	Connector crm.Connector
	// Salesforce is the Salesforce connector (nil unless configured).
	Salesforce *salesforce.Connector
	// Webhook is the webhook connector (nil unless configured).
	Webhook *webhook.Connector
	// Outbox delivers call logs to the external CRM (nil without one):
	// Status, DeadLetters and Resend for the UI.
	Outbox *outbox.Worker

	log       *slog.Logger
	dataDir   string
	baseAudio audio.Settings
	audio     *audioPort // the agent's Media port; nil with audio off
	audioOff  error      // why audio is off (Config.NoAudio)
	audioSess *audioSession
	onPop     func(ScreenPop)
	crmSess   *crmSession
	ends      endCauses // why recent calls ended, for a check that starts late
	// ssoKR is the connectors' keyring (nil without an external CRM with a
	// keyring); ssoOK says the CRM has a user sign-in for SignInSSO.
	ssoKR          *ssoKeyring
	ssoOK          bool
	agentIDFromCRM func(crm.Identity) string
	echoNumber     string
	cancel         context.CancelFunc
	ran            chan error
	closers        []func() error
}

// MachineAgent is the keyring "agent" under which machine-wide secrets
// are kept (the control API token, the webhook's secrets), apart from
// every signed-in agent's own.
const MachineAgent = "machine"

const tokenAccount = "control-api"

// Build constructs and starts everything. On error whatever was started
// is closed again.
func Build(ctx context.Context, cfg Config) (_ *App, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	a := &App{log: log, Demo: cfg.Demo || cfg.Account == nil, onPop: cfg.OnScreenPop, echoNumber: cfg.EchoTestNumber}
	defer func() {
		if err != nil {
			err = errors.Join(err, a.Close())
		}
	}()
	a.AgentConfig = domain.DefaultConfig()
	if cfg.AgentConfig != nil {
		a.AgentConfig = cfg.AgentConfig.Normalize()
	}

	dir := cfg.DataDir
	if dir == "" {
		if dir, err = store.DefaultDir(); err != nil {
			return nil, fmt.Errorf("data directory: %w", err)
		}
	}
	a.dataDir = dir
	a.Normalizer = crm.NewNormalizer(cfg.Region)
	a.Store, err = store.Open(dir, store.WithLogger(log), store.WithNormalizer(a.Normalizer.E164))
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.Store.Close)
	crmw, err := a.buildCRM(cfg)
	if err != nil {
		return nil, err
	}
	calls := a.Store.NewCallLogger(crmw.targets...)

	acct, password := cfg.Account, cfg.Password
	if a.Demo {
		opts := cfg.DemoOptions
		opts.Logger = log
		a.PBX, err = demopbx.Start(ctx, opts)
		if err != nil {
			return nil, err
		}
		a.closers = append(a.closers, a.PBX.Close)
		acct = &sip.Account{DisplayName: "Demo agent", User: a.PBX.User(), Domain: a.PBX.Addr()}
		pw := a.PBX.Password()
		password = func() (string, error) { return pw, nil }
	} else if acct == nil || password == nil {
		return nil, ErrNoAccount
	}
	sipOpts := []sip.Option{sip.WithLogger(log)}
	if a.Demo {
		sipOpts = append(sipOpts, sip.WithBindHost("127.0.0.1"))
	}
	a.SIP, err = sip.New(*acct, password, sipOpts...)
	if err != nil {
		return nil, err
	}
	if err = a.SIP.Start(ctx); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, a.SIP.Close)

	a.buildAudio(cfg, dir)
	ports := agent.Ports{Telephony: a.SIP, CallLog: calls, Directory: crmw.directory}
	if a.audio != nil {
		ports.Telephony = dtmfFeedback{Telephony: a.SIP, p: a.audio} // DTMF feedback in the headset
		ports.Media = a.audio
	}
	a.Agent = agent.New(ports, agent.WithLogger(log))
	a.SIP.Attach(a.Agent)
	if a.audio != nil {
		a.audio.Attach(a.Agent)
	}
	wake := func() {}
	if a.Outbox != nil {
		wake = a.Outbox.Wake
	}
	calls.Attach(logSink{next: a.Agent, wake: wake})
	if a.Local != nil {
		a.Local.Attach(a.Agent)
	}
	if a.CRM != nil {
		a.CRM.Attach(a.Agent)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.ran = make(chan error, 1)
	go func() { a.ran <- a.Agent.Run(runCtx) }()
	a.closers = append(a.closers, a.stopAgent)
	flush := cfg.FlushTimeout
	if flush <= 0 {
		flush = DefaultFlushTimeout
	}
	a.closers = append(a.closers, a.watchAgent(flush))
	if a.audio != nil {
		a.closers = append(a.closers, a.watchAudio())
	}

	if cfg.ControlAddr != "off" {
		if err = a.startControl(cfg); err != nil {
			return nil, err
		}
	}
	if cfg.InstanceSocket != "off" {
		path := cfg.InstanceSocket
		if path == "" {
			if path, err = desktop.SocketPath(); err != nil {
				return nil, err
			}
		}
		if a.Instance, err = desktop.Listen(path, desktop.AgentHandler(a.Agent, cfg.ConfirmLink), log); err != nil {
			return nil, err
		}
		a.closers = append(a.closers, a.Instance.Close)
	}
	// Resume from sleep and network changes: re-register at once instead of
	// waiting for the refresh timer. Calls that died meanwhile end through
	// the engine's own events, so the core's state reconciles itself.
	wctx, wcancel := context.WithCancel(context.Background())
	wdone := make(chan struct{})
	rereg := func() {
		if err := a.SIP.Reregister(); err != nil {
			log.Info("re-register after resume or network change", "error", err)
		}
	}
	w := &desktop.Watcher{OnResume: rereg, OnNetworkChange: rereg, Logger: log}
	go func() { defer close(wdone); w.Run(wctx) }()
	a.closers = append(a.closers, func() error { wcancel(); <-wdone; return nil })
	return a, nil
}

func (a *App) startControl(cfg Config) error {
	tok, err := a.controlToken(cfg)
	if err != nil {
		return err
	}
	agentCfg := a.AgentConfig
	srv, err := control.New(a.Agent, control.Options{Token: tok, AllowedOrigins: cfg.AllowedOrigins, Logger: a.log,
		Config: func(string) domain.Config { return agentCfg.Clone() }})
	if err != nil {
		return err
	}
	addr := cfg.ControlAddr
	if addr == "" {
		addr = control.DefaultAddr
	}
	bound, err := srv.Listen(addr)
	if err != nil {
		_ = srv.Close()
		return err
	}
	a.Control, a.ControlAddr, a.ControlToken = srv, bound, tok
	a.closers = append(a.closers, srv.Close)
	return nil
}

// controlToken returns the per-install token: given, from the keyring, or
// new (stored in the keyring when there is one).
func (a *App) controlToken(cfg Config) (string, error) {
	if cfg.ControlToken != "" {
		return cfg.ControlToken, nil
	}
	if cfg.Secrets != nil {
		tok, err := cfg.Secrets.Get(MachineAgent, tokenAccount, secrets.KindAccessToken)
		if err == nil && tok != "" {
			return tok, nil
		}
		if errors.Is(err, secrets.ErrNotFound) {
			if tok, err = control.NewToken(); err != nil {
				return "", err
			}
			if err := cfg.Secrets.Set(MachineAgent, tokenAccount, secrets.KindAccessToken, tok); err != nil {
				a.log.Warn("control api token not stored; it changes at every start", "error", err)
			}
			return tok, nil
		}
		a.log.Warn("keyring unavailable: the control api token changes at every start", "error", err)
	}
	return control.NewToken()
}

func (a *App) stopAgent() error {
	a.cancel()
	select {
	case err := <-a.ran:
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("agent did not stop")
	}
}

// Close closes everything in reverse order of construction: the control
// API, the core, the audio engine (finishing running recordings) and the
// PortAudio driver it opened, the SIP engine, the demo PBX, the store. It is safe to
// call more than once.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}
