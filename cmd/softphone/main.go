// Command softphone is the agent desktop. It hands desktop verbs and links
// (softphone call NUMBER, answer, hangup, status, tel:/sip:/callto: links)
// to a running instance, or builds the application with app.Build (a real
// account from the configuration file, or demo mode with the built-in demo
// PBX when none is configured) and starts the window (or, with -headless,
// prints the core's state changes as JSON lines in the control API's event
// form, control.Event, for automation and end-to-end tests).
//
// This is the only package besides app that knows every concrete type; it
// implements the desk's data sources (sources.go) over the store and the
// keyring.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/app"
	"github.com/callcentre/softphone/control"
	"github.com/callcentre/softphone/desktop"
	"github.com/callcentre/softphone/secrets"
	"github.com/callcentre/softphone/sip/demopbx"
	"github.com/callcentre/softphone/store"
	"github.com/callcentre/softphone/ui"
)

var version = "dev"

const appID = "io.callcentre.softphone"

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "softphone:", err)
		os.Exit(1)
	}
}

// options are the command-line flags.
type options struct {
	headless    bool
	agentID     string
	verbose     bool
	lang        string
	trace       bool
	tray        bool
	closeToTray bool
	onTop       bool
	config      string
	dataDir     string
	demo        bool
	control     string
	setPassword bool
	setSecret   bool
	// tokenStdin reads the control API token from standard input's first
	// line (automation without a keyring); controlToken holds it.
	tokenStdin   bool
	controlToken string
	// provisioning names a provisioning file read instead of the OS's
	// machine-wide sources (trying a deployment; tests).
	provisioning string
}

// sendTimeout bounds a request to the running instance; linkTimeout a
// clicked link's, which may wait for the agent's confirmation
// (ui.ConfirmTimeout) and must stay within the instance socket's 30 s.
const (
	sendTimeout = 5 * time.Second
	linkTimeout = ui.ConfirmTimeout + 4*time.Second
)

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("softphone", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: softphone [flags] [call NUMBER | answer | hangup | status | tel:/sip:/callto: link]\n")
		fs.PrintDefaults()
	}
	var o options
	fs.BoolVar(&o.headless, "headless", false, "run without a window; print state changes as JSON lines on stdout")
	fs.StringVar(&o.agentID, "agent", "", "sign this agent in at start")
	fs.BoolVar(&o.verbose, "v", false, "verbose logs on stderr")
	fs.StringVar(&o.lang, "lang", "", `language of the window ("en", "de"; default: the system's)`)
	fs.BoolVar(&o.trace, "trace", false, "with the window, also print state changes and window events as JSON lines on stdout")
	fs.BoolVar(&o.tray, "tray", true, "show a system-tray icon with the status and quick actions")
	fs.BoolVar(&o.closeToTray, "close-to-tray", false, "closing the window hides it to the tray instead of quitting")
	fs.BoolVar(&o.onTop, "on-top", false, "keep the window above other windows")
	fs.StringVar(&o.config, "config", "", "account configuration file (default <user config dir>/"+configFileName+"; none: demo mode)")
	fs.StringVar(&o.dataDir, "data", "", "data directory (default: the configuration's data_dir, else the user data directory)")
	fs.BoolVar(&o.demo, "demo", false, "demo mode (the built-in demo PBX) even when an account is configured")
	fs.StringVar(&o.control, "control", "", `control API address on loopback (default: the configuration's, else `+control.DefaultAddr+`); "off" disables it`)
	fs.BoolVar(&o.tokenStdin, "control-token-stdin", false, "read the control API token from the first line of standard input (at least 16 characters) instead of the keyring; for automation")
	fs.StringVar(&o.provisioning, "provisioning", "", "read IT's provisioning from this JSON file instead of the machine-wide sources (see packaging/README.md)")
	fs.BoolVar(&o.setPassword, "set-password", false, "read the configured account's SIP password from standard input, store it in the OS keyring and exit")
	fs.BoolVar(&o.setSecret, "set-crm-secret", false, "read the secret IT provisions for the configured CRM (HubSpot portal token or client secret, ServiceNow client secret, webhook signing secret) from standard input, store it in the OS keyring and exit")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (diagnostics)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Fprintln(stdout, "softphone", version)
		return nil
	}
	level := new(slog.LevelVar) // the verbose-logs setting changes it live
	if o.verbose {
		level.Set(slog.LevelDebug)
	}
	ring := newLogRing(logLines) // the recent logs for a diagnostics bundle
	log := slog.New(slog.NewTextHandler(io.MultiWriter(os.Stderr, ring), &slog.HandlerOptions{Level: level}))

	// Desktop verbs and links go to the running instance first.
	req, isReq, err := desktop.ParseArgs(fs.Args())
	if err != nil {
		return err
	}
	if !isReq && fs.NArg() > 0 {
		return fmt.Errorf("unknown argument %q (see softphone -h)", fs.Arg(0))
	}
	sock, err := desktop.SocketPath()
	if err != nil {
		return err
	}
	var pendingDial string
	if isReq {
		timeout := sendTimeout
		if req.Link {
			timeout = linkTimeout // the agent may be asked first (ConfirmLinks)
		}
		res, err := desktop.Send(sock, req, timeout)
		switch {
		case err == nil:
			fmt.Fprintln(stdout, res.Message)
			if !res.OK {
				return errors.New(res.Message)
			}
			return nil
		case errors.Is(err, desktop.ErrNotRunning) && req.Verb == desktop.VerbDial:
			pendingDial = req.Target // start, then dial once signed in
		case errors.Is(err, desktop.ErrNotRunning):
			return errNotRunning
		default:
			return err
		}
	} else if !o.setPassword && !o.setSecret {
		// A plain second launch: the running instance stays the one and
		// raises its window (a -headless one answers with its status).
		res, err := desktop.Send(sock, desktop.Request{Verb: desktop.VerbShow}, sendTimeout)
		switch {
		case err == nil:
			fmt.Fprintln(stdout, "softphone is already running:", res.Message)
			return nil
		case !errors.Is(err, desktop.ErrNotRunning):
			// Not provably gone (it took the connection, or did not
			// refuse it): a second app would fight it for the phone
			// account and the store.
			return fmt.Errorf("%w; close it (or end its process) and start softphone again", err)
		}
	}

	path, explicit := o.config, o.config != ""
	if !explicit {
		if path, err = defaultConfigPath(); err != nil {
			return err
		}
	}
	cfg, err := loadConfig(path, explicit)
	if err != nil {
		return err
	}
	machine, err := machineLayers(o.provisioning)
	if err != nil {
		return err
	}
	cfg, agentCfg, err := applyProvisioning(cfg, path, machine, o.agentID)
	if err != nil {
		return err
	}
	sec := secrets.New(secrets.WithLogger(log))
	if o.setPassword {
		return setPassword(cfg, sec, stdin, stdout)
	}
	if o.setSecret {
		return setCRMSecret(cfg, sec, stdin, stdout)
	}
	in := bufio.NewReader(stdin)
	if o.tokenStdin {
		if o.controlToken, err = readToken(in); err != nil {
			return err
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return errors.Join(err, f.Close())
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close() // the profile is diagnostics only
		}()
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	relays := &relays{logs: ring, config: cfg}
	a, dataDir, err := build(ctx, o, cfg, agentCfg, sec, log, relays)
	if errors.Is(err, desktop.ErrAlreadyRunning) || errors.Is(err, store.ErrAlreadyRunning) {
		fmt.Fprintln(stdout, "softphone is already running")
		return nil
	}
	if err != nil {
		return err
	}
	defer func() {
		if err := a.Close(); err != nil {
			log.Error("shutdown", "err", err)
		}
	}()
	if cfg.SharedPC != nil {
		if err := a.Store.PutMachineSettings(store.MachineSettings{Shared: *cfg.SharedPC}); err != nil {
			return err
		}
	}
	if a.Demo {
		log.Info("demo mode: the built-in demo PBX is the phone system", "pbx", a.PBX.Addr())
	}
	if a.Control != nil {
		log.Info("control api listening", "addr", a.ControlAddr)
	}
	if pendingDial != "" {
		stop := dialWhenReady(ctx, a.Agent, pendingDial, log)
		defer stop()
	}
	if id := strings.TrimSpace(o.agentID); id != "" {
		if err := a.Agent.Login(domain.AgentInfo{ID: id}, a.AgentConfig); err != nil {
			return err
		}
	}
	if o.headless {
		if a.PBX != nil {
			go demoCommands(in, a.PBX, log)
		}
		stop := a.Agent.Watch(ctx, printEvents(stdout, log))
		<-ctx.Done()
		stop()
		return nil
	}
	src, err := newSources(a.Store, a.Agent, sec, a.AgentConfig, dataDir, log)
	if err != nil {
		return err
	}
	if a.SSOName() != "" {
		src.sso = a
	}
	if a.DeviceSignIn() {
		src.device = a
	}
	src.live = &liveSettings{level: level, verbose: o.verbose}
	if as := newAudioSource(a); as != nil {
		src.live.audio = as.(*audioSource).Apply
	}
	return runWindow(ctx, a, src, relays, o, stdout, log)
}

// relays carry what app.Build's callbacks report to the window, which is
// made after Build: the local CRM's screen pops and the outbox's changes.
type relays struct {
	pops    popRelay
	sync    syncRelay
	confirm confirmRelay
	logs    *logRing   // recent log lines (diagnostics)
	config  configFile // the configuration read at start (diagnostics)
}

// build runs app.Build with the account of the configuration (or demo
// mode) and returns the app and its data directory.
func build(ctx context.Context, o options, cfg configFile, agentCfg domain.Config, sec *secrets.Store, log *slog.Logger, r *relays) (*app.App, string, error) {
	dir := o.dataDir
	if dir == "" {
		dir = cfg.DataDir
	}
	if dir == "" {
		d, err := store.DefaultDir()
		if err != nil {
			return nil, "", fmt.Errorf("data directory: %w", err)
		}
		dir = d
	}
	bc := app.Config{
		DataDir: dir, Demo: o.demo || cfg.Account == nil, Secrets: sec, Logger: log,
		ControlAddr: cfg.ControlAddr, AllowedOrigins: cfg.AllowedOrigins, ControlToken: o.controlToken,
		AgentConfig: &agentCfg,
	}
	if !o.headless {
		// In-app screen pops of the local CRM and the CRM sync state go
		// to the window; headless, the core's notice says no pop opened.
		bc.OnScreenPop = r.pops.show
		bc.OnOutboxChange = r.sync.changed
		bc.ConfirmLink = r.confirm.ask
	}
	if o.control != "" {
		bc.ControlAddr = o.control
	}
	if err := cfg.CRM.apply(&bc, cfg.SharedPC != nil && *cfg.SharedPC); err != nil {
		return nil, "", err
	}
	if !bc.Demo {
		acct, err := cfg.Account.sipAccount()
		if err != nil {
			return nil, "", err
		}
		bc.Account = &acct
		bc.Password = passwordFromKeyring(sec, acct)
		if bc.EchoTestNumber, err = cfg.Account.echoTestNumber(); err != nil {
			return nil, "", err
		}
	}
	a, err := app.Build(ctx, bc)
	return a, dir, err
}

// confirmRelay asks the window whether a clicked link may dial
// (app.Config.ConfirmLink, called on the instance socket's goroutine).
type confirmRelay struct {
	desk atomic.Pointer[ui.Desk]
}

// ask returns the agent's answer (the desk asks only when the agent's
// ConfirmLinks setting is on). Before the window exists there is no
// agent setting to honour yet and nobody to ask: the link dials, as with
// the setting off (the default).
func (r *confirmRelay) ask(target string) bool {
	d := r.desk.Load()
	if d == nil {
		return true
	}
	return d.ConfirmDial(target)
}

// dialWhenReady dials target once an agent is signed in and registered
// (a link clicked while nothing was running).
func dialWhenReady(ctx context.Context, core *agent.Agent, target string, log *slog.Logger) (stop func()) {
	var once sync.Once
	return core.Watch(ctx, func(agent.Notify) {
		st := core.Snapshot()
		if !st.SignedIn() || st.Registration.State != domain.RegRegistered {
			return
		}
		once.Do(func() {
			if _, err := core.Dial(target); err != nil {
				log.Error("dial the link", "err", err)
			}
		})
	})
}

// printEvents writes each notification as one JSON line in the control
// API's event form (control.Event: the full state after the change, with
// enumerations as names, and the change's notices). Watch calls it from
// one goroutine, so the mirror needs no lock.
func printEvents(w io.Writer, log *slog.Logger) func(agent.Notify) {
	enc := json.NewEncoder(w)
	var m agent.Mirror
	return func(n agent.Notify) {
		if err := enc.Encode(control.EventOf(&m, n)); err != nil {
			log.Error("cannot write state", "err", err)
		}
	}
}

// minTokenLen is the control API's shortest accepted token.
const minTokenLen = 16

// readToken reads the control API token from the first line of r.
func readToken(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read control token: %w", err)
	}
	tok := strings.TrimSpace(line)
	if len(tok) < minTokenLen || strings.ContainsAny(tok, " \t") {
		return "", fmt.Errorf("%w: one line of at least %d characters without spaces", errBadToken, minTokenLen)
	}
	return tok, nil
}

// demoCommands reads the headless demo's commands from r, one per line,
// until r ends: "ring" makes the demo customer line call the agent (the
// window's "Ring me" button), "ring NUMBER" with a sample contact's
// caller ID. Anything else is logged and ignored.
func demoCommands(r *bufio.Reader, pbx *demopbx.PBX, log *slog.Logger) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 0:
		case f[0] == "ring" && len(f) <= 2:
			number := ""
			if len(f) == 2 {
				number = f[1]
			}
			if _, err := pbx.CallAgent(number); err != nil {
				log.Error("demo customer line", "err", err)
			}
		default:
			log.Error("unknown demo command (use: ring [NUMBER])", "command", f[0])
		}
	}
}
