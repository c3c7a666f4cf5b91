// Command softphone is the agent desktop: it wires the adapters to the core
// and starts the window (or, with -headless, runs the core alone and prints
// its state changes as JSON lines, for automation and end-to-end tests).
//
// This is the only package that knows every concrete type.
package main

import (
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
	"syscall"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui"
)

var version = "dev"

const appID = "io.callcentre.softphone"

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
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
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("softphone", flag.ContinueOnError)
	var o options
	fs.BoolVar(&o.headless, "headless", false, "run without a window; print state changes as JSON lines on stdout")
	fs.StringVar(&o.agentID, "agent", "", "sign this agent in at start")
	fs.BoolVar(&o.verbose, "v", false, "verbose logs on stderr")
	fs.StringVar(&o.lang, "lang", "", `language of the window ("en", "de"; default: the system's)`)
	fs.BoolVar(&o.trace, "trace", false, "with the window, also print state changes and window events as JSON lines on stdout")
	fs.BoolVar(&o.tray, "tray", true, "show a system-tray icon with the status and quick actions")
	fs.BoolVar(&o.closeToTray, "close-to-tray", false, "closing the window hides it to the tray instead of quitting")
	fs.BoolVar(&o.onTop, "on-top", false, "keep the window above other windows")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (diagnostics)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Fprintln(stdout, "softphone", version)
		return nil
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
	level := slog.LevelInfo
	if o.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// ---- Adapter wiring --------------------------------------------------
	// The SIP, audio, store, CRM and secrets adapters are wired here as they
	// land, and nowhere else:
	//   ports:  agent.Ports{Telephony: sip, Media: audio, CallLog: store.CallLogger, Directory: crm}
	//           (each adapter's Attach(core) after agent.New)
	//   uiOpts: ui.WithAccounts (secrets + store profile + provisioning),
	//           ui.WithLibrary (store.Profile favorites/history), ui.WithFinder (crm search),
	//           ui.WithAudio and ui.WithAnnouncements (audio), ui.WithStats (sip CallStats),
	//           ui.WithSync (crm outbox), ui.WithSettings (store settings), ui.WithDiagnostics.
	// Until then the core runs without them and says so clearly: a sign-in
	// reports that no phone account is configured.
	ports := agent.Ports{}
	var uiOpts []ui.Option
	// ---- end of adapter wiring ------------------------------------------

	core := agent.New(ports, agent.WithLogger(log))
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- core.Run(ctx) }()

	cfg := domain.DefaultConfig()
	if id := strings.TrimSpace(o.agentID); id != "" {
		if err := core.Login(domain.AgentInfo{ID: id}, cfg); err != nil {
			return err
		}
	}
	if o.headless {
		stop := core.Watch(ctx, printJSON(stdout, log))
		<-ctx.Done()
		stop()
		return <-ran
	}
	if err := runWindow(ctx, core, cfg, uiOpts, o, stdout, log); err != nil {
		return err
	}
	cancel()
	if err := <-ran; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// printJSON writes each notification as one JSON line.
func printJSON(w io.Writer, log *slog.Logger) func(agent.Notify) {
	enc := json.NewEncoder(w)
	return func(n agent.Notify) {
		if err := enc.Encode(n); err != nil {
			log.Error("cannot write state", "err", err)
		}
	}
}
