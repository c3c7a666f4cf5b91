package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"

	"github.com/callcentre/softphone/agent"
	softapp "github.com/callcentre/softphone/app"
	"github.com/callcentre/softphone/ui"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// runWindow shows the agent desktop until the window is closed or ctx ends.
// No custom theme is set, so Fyne follows the system's light or dark mode.
func runWindow(ctx context.Context, sp *softapp.App, src *sources, r *relays, o options, stdout io.Writer, log *slog.Logger) error {
	start := time.Now()
	core := sp.Agent
	tr := trace{w: stdout, on: o.trace}
	a := app.NewWithID(appID)
	a.SetIcon(ui.AppIcon()) // PNG: GLFW cannot use an SVG window icon
	w := a.NewWindow("Softphone")
	if err := displayErr(); err != nil {
		return err // before any window or tray call would panic
	}
	w.SetIcon(ui.AppIcon())
	if o.onTop {
		if dw, ok := w.(desktop.Window); ok {
			dw.RequestAlwaysOnTop()
		}
	}
	language := o.lang
	if language == "" {
		language = lang.SystemLocale().String()
	}
	opts := []ui.Option{
		ui.WithShell(ui.NewShell(a, w)),
		ui.WithTranslator(viewmodel.NewTranslator(language)),
		ui.WithLogger(log),
		ui.WithAccounts(src),
		ui.WithLibrary(src),
		ui.WithSettings(src),
		ui.WithNoteDrafts(src),
		ui.WithStats(sp.SIP),
		ui.WithAudio(newAudioSource(sp)),
		ui.WithFinder(finderOf(sp, src)),
		ui.WithDiagnostics(&diagnostics{
			dir: filepath.Join(src.dir, "diagnostics"), logs: r.logs, settings: src, config: r.config, demo: sp.Demo,
			known: func() []string { return []string{sp.ControlToken} },
		}),
	}
	if as, err := newAutostart(); err != nil {
		log.Warn("start at login is not offered", "err", err)
	} else {
		if err := as.applyPolicy(r.config, runtime.GOOS); err != nil {
			log.Warn("the provisioned start at login was not applied", "err", err)
		}
		opts = append(opts, ui.WithAutostart(as))
	}
	if sp.AudioErr() == nil {
		opts = append(opts, ui.WithPreShift(preShiftSource{app: sp}))
	}
	if sp.Local != nil {
		opts = append(opts, ui.WithContactBook(contactBook{dir: sp.Local}))
	}
	if sp.Outbox != nil {
		ss := syncSource{ob: sp.Outbox, crm: sp, who: src, log: log}
		if sp.DeviceSignIn() {
			ss.device = sp
		}
		opts = append(opts, ui.WithSync(ss))
	}
	if o.trace {
		// What the window shows, each time it changes: automation waits
		// for the frame, not only for the core.
		var last shown
		opts = append(opts, ui.WithRenderHook(func(v *viewmodel.View) {
			now := shown{Screen: v.Screen.String(), Agent: v.Header.Agent}
			if v.Call != nil {
				now.Call, now.Held = string(v.Call.ID), v.Call.Held
			}
			if now != last {
				last = now
				tr.write(map[string]any{"event": "shown", "shown": now})
			}
		}))
	}
	if sp.Demo && sp.PBX != nil {
		opts = append(opts, ui.WithDemo(demoOf(sp.PBX)))
	}
	desk := ui.New(core, sp.AgentConfig, opts...)
	w.SetContent(desk.Content())
	w.Resize(fyne.NewSize(900, 640))
	desk.Bind(w)
	var pops popTarget = desk
	if o.trace {
		pops = tracedPops{desk: desk, tr: &tr}
	}
	r.pops.attach(pops)
	r.sync.attach(desk.SyncChanged)
	r.confirm.desk.Store(desk)
	defer r.confirm.desk.Store(nil)
	if sp.Instance != nil {
		// A plain second launch raises this window.
		sp.Instance.OnShow(func() { fyne.Do(func() { w.Show(); w.RequestFocus() }) })
		defer sp.Instance.OnShow(nil)
	}
	if da, ok := a.(desktop.App); ok && o.tray {
		da.SetSystemTrayMenu(desk.TrayMenu(func() { w.Show(); w.RequestFocus() }))
		da.SetSystemTrayIcon(ui.TrayIcon(viewmodel.DotGrey))
		da.SetSystemTrayWindow(w)
	}
	if o.closeToTray && o.tray {
		w.SetCloseIntercept(w.Hide)
	}
	if o.trace {
		stop := core.Watch(ctx, func(n agent.Notify) { tr.write(map[string]any{"notify": n}) })
		defer stop()
	}
	a.Lifecycle().SetOnStarted(func() {
		tr.write(map[string]any{"event": "started", "ms": time.Since(start).Milliseconds(), "pid": os.Getpid()})
		go releaseStartupMemory(ctx)
	})
	desk.Start(ctx)
	go func() {
		<-ctx.Done() // SIGTERM / Ctrl-C closes the window too
		fyne.Do(a.Quit)
	}()
	w.ShowAndRun()
	desk.Stop()
	tr.write(map[string]any{"event": "stopped"})
	return nil
}

// tracedPops writes a "screen-pop" trace event (whether a contact matched;
// never who) before showing each pop.
type tracedPops struct {
	desk popTarget
	tr   *trace
}

func (t tracedPops) ShowScreenPop(p ui.ScreenPop) {
	t.tr.write(map[string]any{"event": "screen-pop", "matched": p.Contact != nil})
	t.desk.ShowScreenPop(p)
}

// shown is what the window shows (the -trace "shown" event).
type shown struct {
	Screen string `json:"screen"`
	Agent  string `json:"agent,omitempty"`
	Call   string `json:"call,omitempty"`
	Held   bool   `json:"held,omitempty"`
}

// trace writes JSON lines for automation (-trace), one writer at a time.
type trace struct {
	mu sync.Mutex
	w  io.Writer
	on bool
}

func (t *trace) write(v any) {
	if !t.on {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_ = json.NewEncoder(t.w).Encode(v) // a closed stdout only loses the trace
}

// startupSettle is how long after the window starts the start-up garbage
// (font tables, icon rendering, the first layouts) is handed back.
const startupSettle = 5 * time.Second

// releaseStartupMemory returns the heap start-up left free to the OS once
// the first frames are drawn: the app then sits for hours with a small
// steady heap, and without this the runtime keeps the start-up peak
// (about 10 MB of RSS under software GL).
func releaseStartupMemory(ctx context.Context) {
	t := time.NewTimer(startupSettle)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
		debug.FreeOSMemory()
	}
}
