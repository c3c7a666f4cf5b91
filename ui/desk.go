package ui

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// Desk is the main window's content and the logic behind it.
type Desk struct {
	core Core
	cfg  domain.Config // used when there is no Accounts source
	// signInCfg is the configuration the agent signed in with, before the
	// agent's settings were folded in (Reconfigure merges them again).
	signInCfg domain.Config
	do        func(func()) // runs a function on the UI goroutine (fyne.Do)
	now       func() time.Time
	log       *slog.Logger
	ticking   bool
	// tickWanted is set by render while the window shows something that
	// changes with time (read by the ticker goroutine).
	tickWanted atomic.Bool

	library   Library
	finder    Finder
	audio     Audio
	preShift  PreShift
	settings  SettingsStore
	autostart Autostart
	diag      Diagnostics
	accounts  Accounts
	sync      Sync
	stats     Stats
	shell     Shell
	book      ContactBook
	drafts    *draftKeeper
	tips      map[*widget.Button]*tipButton // buttons with a tooltip (tooltip.go)
	tipShown  *widget.PopUp                 // the tooltip shown last
	openURL   func(string) error
	announce  []string
	demo      *Demo
	onRender  func(v *viewmodel.View)

	vm   *viewmodel.Model
	tr   *viewmodel.Translator
	view viewmodel.View
	set  Settings

	stopWatch func()
	cancel    context.CancelFunc
	ctx       context.Context
	wg        sync.WaitGroup
	pending   atomic.Int64 // background calls not yet finished
	keys      fyne.ShortcutHandler

	mu        sync.Mutex      // guards connected (read by the ticker goroutine)
	connected []domain.CallID // calls whose quality is sampled

	lastScreen   viewmodel.Screen
	lastRinging  domain.CallID
	signedInAs   string
	canvas       fyne.Canvas
	win          fyne.Window
	modal        *widget.PopUp // the question or list shown last
	targetPopUp  *widget.PopUp // the number dialog (redirect, transfer, add party)
	targetEntry  *numberEntry
	lastKey      time.Time
	root         *fyne.Container
	header       *header
	login        *loginScreen
	idle         *idleScreen
	incoming     *incomingScreen
	call         *callScreen
	wrap         *wrapScreen
	lines        *linesBar
	toasts       *toastArea
	demoBar      *demoBanner
	pop          *popCard
	confirmDlg   *widget.PopUp // the link confirmation shown last
	tray         *trayMenu
	body         *fyne.Container
	settingsWin  fyne.Window
	settingsView *SettingsPanel
	preShiftWin  fyne.Window
	preShiftView *PreShiftPanel
}

// Option configures a Desk.
type Option func(*Desk)

// WithDispatcher replaces fyne.Do (tests run updates on their own goroutine).
func WithDispatcher(do func(func())) Option { return func(d *Desk) { d.do = do } }

// WithClock replaces time.Now for the call timers and countdowns.
func WithClock(now func() time.Time) Option { return func(d *Desk) { d.now = now } }

// WithoutTicker stops the desk from starting its 1 Hz ticker; the caller
// calls Tick (tests).
func WithoutTicker() Option { return func(d *Desk) { d.ticking = false } }

// WithLogger sets the logger (component "ui" is added).
func WithLogger(l *slog.Logger) Option { return func(d *Desk) { d.log = l } }

// WithTranslator sets the language (default English).
func WithTranslator(tr *viewmodel.Translator) Option { return func(d *Desk) { d.tr = tr } }

// WithLibrary sets the favorites and history source.
func WithLibrary(l Library) Option { return func(d *Desk) { d.library = l } }

// WithFinder sets the search source.
func WithFinder(f Finder) Option { return func(d *Desk) { d.finder = f } }

// WithAudio sets the audio devices and level meters.
func WithAudio(a Audio) Option { return func(d *Desk) { d.audio = a } }

// WithPreShift sets the pre-shift audio check (nil: not available).
func WithPreShift(p PreShift) Option { return func(d *Desk) { d.preShift = p } }

// WithSettings sets where settings are loaded and saved.
func WithSettings(s SettingsStore) Option { return func(d *Desk) { d.settings = s } }

// WithAutostart offers "Start at login" in the settings over a.
func WithAutostart(a Autostart) Option { return func(d *Desk) { d.autostart = a } }

// WithNoteDrafts keeps the notes of calls in progress in n while the
// agent types them (Settings.AutoSaveNotes), so a crash loses none.
func WithNoteDrafts(n NoteDrafts) Option {
	return func(d *Desk) {
		if n != nil {
			d.drafts = &draftKeeper{src: n, delay: draftDelay, pending: map[string]NoteDraft{}, saved: map[string]bool{}}
		}
	}
}

// WithDiagnostics sets the diagnostics exporter.
func WithDiagnostics(x Diagnostics) Option { return func(d *Desk) { d.diag = x } }

// WithAccounts sets the sign-in source (hot desk, keyring, provisioning).
func WithAccounts(a Accounts) Option { return func(d *Desk) { d.accounts = a } }

// WithSync sets the CRM delivery source.
func WithSync(s Sync) Option { return func(d *Desk) { d.sync = s } }

// WithStats sets the call-statistics source of the quality indicator.
func WithStats(s Stats) Option { return func(d *Desk) { d.stats = s } }

// WithShell sets the window title, attention and tray icon handler.
func WithShell(s Shell) Option { return func(d *Desk) { d.shell = s } }

// WithURLOpener sets how CRM records are opened (default: the app's
// OpenURL).
func WithURLOpener(open func(string) error) Option { return func(d *Desk) { d.openURL = open } }

// WithRenderHook calls fn on the UI goroutine after every render with
// the view just applied to the widgets (automation traces: what the window
// shows, not only what the core holds). fn must return at once and must
// not keep v.
func WithRenderHook(fn func(v *viewmodel.View)) Option { return func(d *Desk) { d.onRender = fn } }

// WithAnnouncements lists the announcements the media adapter can play.
func WithAnnouncements(names []string) Option {
	return func(d *Desk) { d.announce = append([]string(nil), names...) }
}

// New builds the desk. cfg is the core configuration used to sign in when
// no Accounts source is given (the profile's and provisioning's settings).
func New(core Core, cfg domain.Config, opts ...Option) *Desk {
	d := &Desk{core: core, cfg: cfg.Normalize(), do: fyne.Do, now: time.Now, log: slog.Default(), ticking: true, set: DefaultSettings()}
	for _, o := range opts {
		o(d)
	}
	d.log = d.log.With("component", "ui")
	d.vm = viewmodel.New(d.tr)
	if d.openURL == nil {
		d.openURL = openWithApp
	}
	d.header = newHeader(d)
	d.login = newLoginScreen(d)
	d.idle = newIdleScreen(d)
	d.incoming = newIncomingScreen(d)
	d.call = newCallScreen(d)
	d.wrap = newWrapScreen(d)
	d.lines = newLinesBar(d)
	d.toasts = newToastArea(d)
	d.tray = newTrayMenu(d)
	d.pop = newPopCard(d)
	d.body = container.NewStack(d.login.content, d.idle.content, d.incoming.content, d.call.content, d.wrap.content)
	top := container.NewVBox(d.header.content, widget.NewSeparator())
	if d.demo != nil {
		d.demoBar = newDemoBanner(d)
		top.Add(d.demoBar.content)
		top.Add(widget.NewSeparator())
	}
	top.Add(d.lines.content)
	d.root = container.NewBorder(top, d.toasts.content, nil, d.pop.content, d.body)
	d.render()
	return d
}

// T translates a string into the desk's language.
func (d *Desk) T(s string, args ...any) string { return d.tr.T(s, args...) }

// Content is the desk's root object.
func (d *Desk) Content() fyne.CanvasObject { return d.root }

// View returns the view last rendered (tests and the smoke test read it).
func (d *Desk) View() viewmodel.View { return d.view }

// Start subscribes to the core, loads the settings and starts the ticker.
func (d *Desk) Start(ctx context.Context) {
	d.ctx, d.cancel = context.WithCancel(ctx)
	d.stopWatch = d.core.Watch(d.ctx, func(n agent.Notify) {
		d.do(func() { d.apply(n) })
	})
	d.loadSettings()
	d.login.prefill()
	if d.ticking {
		d.wg.Add(1)
		go d.tickLoop()
	}
}

// Stop unsubscribes and stops the background work.
func (d *Desk) Stop() {
	if d.cancel != nil {
		d.cancel()
	}
	if d.stopWatch != nil {
		d.stopWatch()
	}
	d.wg.Wait()
}

// background runs fn off the UI goroutine; fn hands results back through
// d.do. Nothing runs after Stop.
func (d *Desk) background(fn func(ctx context.Context)) {
	ctx := d.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	d.wg.Add(1)
	d.pending.Add(1)
	go func() {
		defer d.wg.Done()
		defer d.pending.Add(-1)
		fn(ctx)
	}()
}

// loop runs a long-lived background loop (meters) until ctx ends; unlike
// background it does not count as pending work.
func (d *Desk) loop(fn func(ctx context.Context)) {
	ctx := d.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		fn(ctx)
	}()
}

// Busy reports whether background work (loading, searching, signing in)
// is still running; its results arrive through the dispatcher.
func (d *Desk) Busy() bool { return d.pending.Load() > 0 }

func (d *Desk) tickLoop() {
	defer d.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastSync viewmodel.Sync
	synced := false
	for {
		select {
		case <-d.ctx.Done():
			return
		case <-t.C:
			// An idle desk (no call, wrap-up, toast or entry waiting to
			// lose its focus) shows nothing that changes with time: the
			// tick is skipped unless the CRM sync state changed, so the
			// window is not redrawn every second for nothing.
			stats := d.sampleStats()
			var sy viewmodel.Sync
			changed := false
			if d.sync != nil {
				sy = d.sync.SyncState() // in memory: never blocks
				changed = !synced || sy != lastSync
				lastSync, synced = sy, true
			}
			if len(stats) == 0 && !changed && !d.tickWanted.Load() {
				continue
			}
			d.do(func() {
				d.applyStats(stats)
				if d.sync != nil {
					d.vm.SetSync(sy)
				}
				d.Tick()
			})
		}
	}
}

// sampleStats reads the RTP statistics of the connected calls (on the
// ticker goroutine: the stats source may take a lock).
func (d *Desk) sampleStats() map[domain.CallID]domain.CallStats {
	if d.stats == nil {
		return nil
	}
	d.mu.Lock()
	ids := append([]domain.CallID(nil), d.connected...)
	d.mu.Unlock()
	out := map[domain.CallID]domain.CallStats{}
	for _, id := range ids {
		if s, err := d.stats.CallStats(id); err == nil {
			out[id] = s
		}
	}
	return out
}

func (d *Desk) applyStats(stats map[domain.CallID]domain.CallStats) {
	for id, s := range stats {
		d.vm.SetStats(id, s)
	}
}

// SyncChanged refreshes the CRM sync state in the header now (the
// outbox reported a change). It is safe from any goroutine and returns at
// once; done runs on the UI goroutine before the state is read, so a
// caller that coalesces refreshes (one queued at a time) loses no change.
func (d *Desk) SyncChanged(done func()) {
	d.do(func() {
		if done != nil {
			done()
		}
		if d.sync != nil {
			d.vm.SetSync(d.sync.SyncState())
			d.render()
		}
	})
}

// Tick refreshes what depends on the clock (durations, countdowns, toast
// expiry). The ticker calls it once a second on the UI goroutine.
func (d *Desk) Tick() {
	now := d.now()
	d.toasts.expire(now)
	d.idleUnfocus(now)
	d.render()
}

// SampleNow samples call statistics and CRM sync state at once (tests, and
// the first frame of a call).
func (d *Desk) SampleNow() {
	d.applyStats(d.sampleStats())
	if d.sync != nil {
		d.vm.SetSync(d.sync.SyncState())
	}
	d.render()
}

// report shows a client-API error (only ErrBusy or ErrStopped: a bug or
// shutdown) as a toast.
func (d *Desk) report(err error) {
	if err == nil {
		return
	}
	d.log.Error("core refused a command", "err", err)
	msg := d.T("The app is not responding to commands right now; try again")
	if errors.Is(err, agent.ErrStopped) {
		msg = d.T("The app is shutting down")
	}
	d.toasts.show(viewmodel.Toast{Kind: domain.NoticeError, Text: msg}, d.now())
}

// toast shows a message from the desk itself.
func (d *Desk) toast(kind domain.NoticeKind, text string) {
	d.toasts.show(viewmodel.Toast{Kind: kind, Text: text}, d.now())
}

// apply folds a notification and redraws.
func (d *Desk) apply(n agent.Notify) {
	wasSignedIn := d.vm.SignedIn()
	who := d.vm.Mirror.Agent.Agent.ID
	for _, t := range d.vm.Apply(n) {
		d.toasts.show(t, d.now())
		if t.Kind == domain.NoticeError && d.shell != nil {
			d.shell.Notify(d.T("Softphone"), t.Text)
		}
	}
	if wasSignedIn && !d.vm.SignedIn() {
		d.signedOut(who)
	}
	if !wasSignedIn && d.vm.SignedIn() {
		d.idle.reload()
		d.loadSettings() // the signed-in agent's own settings
		d.offerDrafts()
	}
	if d.drafts != nil {
		if !d.vm.SignedIn() {
			d.drafts.offered = false
		}
		d.sweepDrafts()
	}
	d.render()
}

func (d *Desk) signedOut(who string) {
	d.idle.clear()
	d.pop.hide()
	if d.accounts == nil || who == "" {
		return
	}
	d.background(func(context.Context) {
		if err := d.accounts.SignedOut(who); err != nil {
			d.log.Error("sign-out cleanup failed", "agent", who, "err", err)
			d.do(func() { d.toast(domain.NoticeError, d.T("Signing out did not finish cleaning up: %s", err.Error())) })
		}
	})
}

// render applies the current view to every widget.
func (d *Desk) render() {
	v := d.vm.View(d.now())
	d.view = v
	var conn []domain.CallID
	for _, l := range v.Lines {
		if c := d.vm.Mirror.Call(l.ID); c != nil && c.State.Connected() {
			conn = append(conn, l.ID)
		}
	}
	d.mu.Lock()
	d.connected = conn
	d.mu.Unlock()

	d.header.render(&v)
	d.lines.render(&v)
	// Only what changed is touched: every Show, SetText or Refresh marks
	// the canvas dirty and costs a repaint (idle CPU).
	showIf(d.login.content, v.Screen == viewmodel.ScreenLogin)
	showIf(d.idle.content, v.Screen == viewmodel.ScreenIdle)
	showIf(d.incoming.content, v.Screen == viewmodel.ScreenIncoming)
	showIf(d.call.content, v.Screen == viewmodel.ScreenCall)
	showIf(d.wrap.content, v.Screen == viewmodel.ScreenWrapUp)
	d.login.render(&v)
	d.idle.render(&v)
	d.incoming.render(&v)
	d.call.render(&v)
	d.wrap.render(&v)
	d.tray.render(&v)

	if v.Screen != d.lastScreen {
		prev := d.lastScreen
		d.lastScreen = v.Screen
		d.screenChanged(prev, v.Screen)
	}
	ringing := domain.CallID("")
	if v.Incoming != nil && !v.Incoming.Answering {
		ringing = v.Incoming.ID
	}
	if ringing != "" && ringing != d.lastRinging && d.shell != nil {
		in := v.Incoming
		body := in.Name
		if in.Number != "" {
			body += " (" + in.Number + ")"
		}
		if in.Queue != "" {
			body += " · " + in.Queue
		}
		d.shell.Attention(d.T("Incoming call"), body)
	}
	d.lastRinging = ringing
	if who := v.Header.Agent; who != d.signedInAs {
		d.signedInAs = who
		if d.shell != nil {
			title := d.T("Softphone")
			if who != "" {
				title += " · " + who
			}
			d.shell.SetTitle(title)
		}
	}
	d.tickWanted.Store(d.timeShown(&v))
	if d.onRender != nil {
		d.onRender(&v)
	}
}

// screenChanged drops the keyboard focus: hidden widgets must not keep it
// (typed digits would vanish into them); after wrap-up, typing goes to the
// number entry again.
func (d *Desk) screenChanged(_, _ viewmodel.Screen) { d.focusDefault() }

// focusDefault leaves no widget focused: keys typed then go to the
// screen's main entry through the canvas (see installShortcuts), so the
// number entry takes digits and Return after wrap-up without being focused.
// A focused entry runs Fyne's cursor animation, which repaints the window
// continuously (about 8 % of a core with software GL), so an entry keeps
// the focus only while the agent types into it (see idleUnfocus).
func (d *Desk) focusDefault() {
	if d.canvas == nil {
		return
	}
	d.canvas.Unfocus()
}

// unfocusAfter is how long an untouched entry keeps the focus.
const unfocusAfter = 20 * time.Second

// idleUnfocus drops the focus from the number or agent-ID entry when the
// agent has not typed for a while (the text stays; typing goes on there).
func (d *Desk) idleUnfocus(now time.Time) {
	if d.canvas == nil || now.Sub(d.lastKey) < unfocusAfter {
		return
	}
	if f := d.canvas.Focused(); f == d.idle.number || f == d.login.agentID {
		d.canvas.Unfocus()
	}
}

// timeShown reports whether the window shows something the 1 Hz tick
// must update: call and wrap-up timers, toasts that expire, an entry that
// loses its focus after a pause.
func (d *Desk) timeShown(v *viewmodel.View) bool {
	if len(v.Lines) > 0 || v.Incoming != nil || v.Call != nil || v.WrapUp != nil || len(d.toasts.items) > 0 {
		return true
	}
	if d.canvas == nil {
		return false
	}
	f := d.canvas.Focused()
	return f == d.idle.number || f == d.login.agentID
}

// typed notes keyboard activity (entries' OnChanged).
func (d *Desk) typed() {
	d.lastKey = d.now()
	d.tickWanted.Store(true) // the entry loses its focus after a pause
}
