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
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui"
)

var version = "dev"

const appID = "io.callcentre.softphone"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "softphone:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("softphone", flag.ContinueOnError)
	headless := fs.Bool("headless", false, "run without a window; print state changes as JSON lines on stdout")
	agentID := fs.String("agent", "", "sign this agent in at start")
	verbose := fs.Bool("v", false, "verbose logs on stderr")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *showVersion {
		fmt.Println("softphone", version)
		return nil
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// The adapters (SIP, audio, store, CRM) are wired here as their issues
	// land. Until then the core runs without them and says so clearly: a
	// sign-in reports that no phone account is configured.
	core := agent.New(agent.Ports{}, agent.WithLogger(log))
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- core.Run(ctx) }()

	cfg := domain.DefaultConfig()
	if id := strings.TrimSpace(*agentID); id != "" {
		if err := core.Login(domain.AgentInfo{ID: id}, cfg); err != nil {
			return err
		}
	}
	if *headless {
		stop := core.Watch(ctx, printJSON(os.Stdout, log))
		<-ctx.Done()
		stop()
		return <-ran
	}

	a := app.NewWithID(appID)
	w := a.NewWindow("Softphone")
	desk := ui.New(core, cfg)
	w.SetContent(desk.Content())
	w.Resize(fyne.NewSize(480, 600))
	desk.Start(ctx)
	go func() {
		<-ctx.Done() // SIGTERM / Ctrl-C closes the window too
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	desk.Stop()
	cancel()
	if err := <-ran; err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// printJSON writes each notification as one JSON line (headless mode).
func printJSON(f *os.File, log *slog.Logger) func(agent.Notify) {
	enc := json.NewEncoder(f)
	return func(n agent.Notify) {
		if err := enc.Encode(n); err != nil {
			log.Error("cannot write state", "err", err)
		}
	}
}
