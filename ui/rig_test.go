package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/agenttest"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// uiThread stands in for Fyne's goroutine: updates queued by the watcher
// and by background work run on the test goroutine, as fyne.Do would run
// them on the UI goroutine.
type uiThread chan func()

func (q uiThread) do(fn func()) { q <- fn }

// clock is shared by the core and the desk; timers never fire on their own
// (the test posts TimerFired when it needs one).
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) AfterFunc(time.Duration, func()) func() bool { return func() bool { return true } }

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// rig is the real core on recording fakes, a desk in a test window, and
// fakes for every source.
type rig struct {
	t     *testing.T
	a     *agent.Agent
	rec   *agenttest.Recorder
	clock *clock
	q     uiThread
	d     *Desk
	win   fyne.Window
	app   fyne.App

	lib      *fakeLibrary
	finder   *fakeFinder
	audio    *fakeAudio
	settings *fakeSettings
	diag     *fakeDiag
	accounts *fakeAccounts
	sync     *fakeSync
	stats    *fakeStats
	shell    *fakeShell
	opened   []string
	wrappers map[*widget.Button]*starButton
}

type rigOption func(*rig, *[]Option)

func withoutAccounts() rigOption {
	return func(r *rig, o *[]Option) { r.accounts = nil }
}

func withOpts(opts ...Option) rigOption {
	return func(_ *rig, o *[]Option) { *o = append(*o, opts...) }
}

func newRig(t *testing.T, ropts ...rigOption) *rig {
	t.Helper()
	r := &rig{t: t, rec: agenttest.NewRecorder(), clock: &clock{now: t0}, q: make(uiThread, 4096), wrappers: map[*widget.Button]*starButton{}}
	r.app = test.NewTempApp(t)
	r.lib = &fakeLibrary{favs: []Contact{{Name: "Zoe Zimmer", Number: "+4930900"}, {Name: "anna Alt", Number: "+4930100"}}}
	r.finder = &fakeFinder{}
	r.audio = &fakeAudio{devs: []AudioDevice{{ID: "hs", Name: "Jabra Headset", Input: true, Output: true}, {ID: "spk", Name: "Speakers", Output: true}}, levels: map[string]float64{"hs/in": 0.5, "hs/out": 0.1, "spk/out": 0.25}}
	r.settings = &fakeSettings{s: DefaultSettings()}
	r.diag = &fakeDiag{}
	r.accounts = &fakeAccounts{cfg: testConfig(), users: map[string]string{"a1": "secret"}}
	r.sync = &fakeSync{}
	r.stats = &fakeStats{}
	r.shell = &fakeShell{}
	var opts []Option
	for _, o := range ropts {
		o(r, &opts)
	}
	tel, med, cl, dir := r.rec.Ports()
	r.a = agent.New(agent.Ports{Telephony: tel, Media: med, CallLog: cl, Directory: dir},
		agent.WithClock(r.clock), agent.WithInvariantChecks(true))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = r.a.Run(ctx); close(done) }()
	base := []Option{
		WithDispatcher(r.q.do), WithClock(r.clock.Now), WithoutTicker(),
		WithLibrary(r.lib), WithFinder(r.finder), WithAudio(r.audio), WithSettings(r.settings),
		WithDiagnostics(r.diag), WithSync(r.sync), WithStats(r.stats), WithShell(r.shell),
		WithURLOpener(func(u string) error { r.opened = append(r.opened, u); return nil }),
		WithAnnouncements([]string{"Please hold"}),
	}
	if r.accounts != nil {
		base = append(base, WithAccounts(r.accounts))
	}
	r.d = New(r.a, testConfig(), append(base, opts...)...)
	r.win = test.NewTempWindow(t, r.d.Content())
	r.win.Resize(fyne.NewSize(900, 700))
	r.d.Bind(r.win)
	r.d.Start(ctx)
	t.Cleanup(func() {
		cancel()
		<-done
		// Drain what background work still hands back, then stop.
		go func() {
			for range r.q {
			}
		}()
		r.d.Stop()
	})
	r.settle()
	return r
}

func testConfig() domain.Config {
	c := domain.DefaultConfig()
	c.Outcomes = []string{"Resolved", "Callback"}
	c.OutcomeRequired = true
	c.QuickNotes = []domain.QuickNote{{Name: "Refund", Text: "Refund issued."}}
	return c
}

// settle processes everything: the core's inbox, the notifications it
// produced, and the work queued for the UI goroutine, until all is quiet.
func (r *rig) settle() {
	r.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := r.a.Sync(ctx)
		cancel()
		if err != nil {
			r.t.Fatal(err)
		}
		want := r.a.Seq()
		// Background work hands its result to the queue before it stops
		// counting as busy, so "idle" must be read before the queue is:
		// read the other way round, a hand-off landing between the two
		// reads is missed and the test waits for an effect that never
		// comes (a CI run lost a sign-in that way).
		if r.idleSources() && len(r.q) == 0 && r.d.vm.Mirror.Seq >= want {
			return
		}
		select {
		case fn := <-r.q:
			fn()
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			r.t.Fatalf("the desk did not settle (model seq %d, core seq %d)", r.d.vm.Mirror.Seq, want)
		}
	}
}

// idleSources reports whether no background call into a fake is running.
func (r *rig) idleSources() bool { return !r.d.Busy() && inflight.Load() == 0 }

// until runs queued updates until cond holds.
func (r *rig) until(what string, cond func() bool) {
	r.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case fn := <-r.q:
			fn()
		case <-time.After(5 * time.Millisecond):
		case <-deadline:
			r.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (r *rig) post(in domain.Input) {
	r.t.Helper()
	if err := r.a.Post(in); err != nil {
		r.t.Fatal(err)
	}
	r.settle()
}

func (r *rig) tap(b fyne.Tappable) {
	r.t.Helper()
	if w, ok := b.(fyne.Disableable); ok && w.Disabled() {
		r.t.Fatalf("tapping a disabled %T", b)
	}
	var o fyne.CanvasObject
	if x, ok := b.(fyne.CanvasObject); ok {
		o = x
	}
	if w, ok := b.(*widget.Button); ok && r.wrappers[w] != nil {
		o = r.wrappers[w]
	}
	if o != nil && !visible(r.win.Canvas(), o) {
		r.t.Fatalf("tapping a hidden %T", b)
	}
	if w, ok := b.(*widget.Button); ok && r.wrappers[w] != nil {
		b = r.wrappers[w]
	}
	if w, ok := b.(*widget.Button); ok && r.d.tips[w] != nil {
		b = r.d.tips[w]
	}
	test.Tap(b)
	r.settle()
}

// signIn signs agent a1 in through the login screen and registers.
// effectWait bounds how long a test waits for the core to run an effect
// through a fake port. The core does it within milliseconds; the bound is
// generous because -race on a loaded 2-core CI machine once stalled all
// three tests waiting at the same moment for more than 5 s.
const effectWait = 30 * time.Second

func (r *rig) signIn() {
	r.t.Helper()
	l := r.d.login
	l.agentID.SetText("a1")
	if l.password.Visible() {
		l.password.SetText("secret")
	}
	r.tap(l.signIn)
	r.rec.WaitFor(r.t, "Register", effectWait)
	r.post(domain.RegistrationChanged{State: domain.RegRegistered})
	r.d.chooseStatus(domain.Status{Presence: domain.PresenceAvailable})
	r.settle()
	if r.d.view.Header.Status != "Available" {
		r.t.Fatalf("after sign-in: %+v", r.d.view.Header)
	}
}

// ring offers an inbound call and answers it through the screen.
func (r *rig) answerCall(id domain.CallID, who domain.Party) {
	r.t.Helper()
	r.post(domain.CallOffered{ID: id, Remote: who})
	r.tap(r.d.incoming.answer)
	r.rec.WaitFor(r.t, "Answer "+string(id), effectWait)
	r.post(domain.CallAnswered{ID: id})
}

// visible reports whether o and all its parents up to the canvas are
// shown.
func visible(c fyne.Canvas, o fyne.CanvasObject) bool {
	if !o.Visible() {
		return false
	}
	var path []fyne.CanvasObject
	var walk func(p fyne.CanvasObject) bool
	walk = func(p fyne.CanvasObject) bool {
		path = append(path, p)
		if p == o {
			return true
		}
		if tb, ok := p.(*tipButton); ok && fyne.CanvasObject(&tb.Button) == o {
			return true // the screen keeps the button, the window shows it with its tooltip
		}
		for _, ch := range children(p) {
			if walk(ch) {
				return true
			}
		}
		path = path[:len(path)-1]
		return false
	}
	roots := append([]fyne.CanvasObject{c.Content()}, c.Overlays().List()...)
	for _, root := range roots {
		path = nil
		if walk(root) {
			for _, p := range path {
				if !p.Visible() {
					return false
				}
			}
			return true
		}
	}
	return false
}

func children(o fyne.CanvasObject) []fyne.CanvasObject {
	switch o := o.(type) {
	case *fyne.Container:
		return o.Objects
	case fyne.Widget:
		return test.WidgetRenderer(o).Objects()
	}
	return nil
}

// findButton returns the visible button whose text starts with label.
func (r *rig) findButton(label string) *widget.Button {
	r.t.Helper()
	var found *widget.Button
	r.walkVisible(func(o fyne.CanvasObject) {
		var b *widget.Button
		switch x := o.(type) {
		case *widget.Button:
			b = x
		case *tipButton:
			b = &x.Button
		case *starButton:
			b = x.Button
			if strings.HasPrefix(b.Text, label) {
				r.wrappers[b] = x
			}
		}
		if b != nil && found == nil && strings.HasPrefix(b.Text, label) {
			found = b
		}
	})
	if found == nil {
		r.t.Fatalf("no visible button %q; buttons: %q", label, r.buttonTexts())
	}
	return found
}

func (r *rig) buttonTexts() []string {
	var out []string
	r.walkVisible(func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok {
			out = append(out, b.Text)
		}
	})
	return out
}

// walkVisible visits every visible object of the window and its overlays.
func (r *rig) walkVisible(fn func(fyne.CanvasObject)) {
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		fn(o)
		for _, ch := range children(o) {
			walk(ch)
		}
	}
	// Overlays first: a dialog's buttons win over the screen behind it.
	for _, ov := range r.win.Canvas().Overlays().List() {
		walk(ov)
	}
	walk(r.win.Canvas().Content())
}

// texts returns every visible label text.
func (r *rig) texts() string {
	var b strings.Builder
	r.walkVisible(func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok && l.Text != "" {
			b.WriteString(l.Text + "\n")
		}
	})
	return b.String()
}

func (r *rig) assertShown(text string) {
	r.t.Helper()
	if !strings.Contains(r.texts(), text) {
		r.t.Fatalf("%q is not shown; labels:\n%s", text, r.texts())
	}
}

func (r *rig) assertToast(text string) {
	r.t.Helper()
	if !slices.ContainsFunc(r.d.Toasts(), func(s string) bool { return strings.Contains(s, text) }) {
		r.t.Fatalf("no toast %q; toasts %q", text, r.d.Toasts())
	}
}

func (r *rig) screen() viewmodel.Screen { return r.d.view.Screen }

func (r *rig) wantScreen(s viewmodel.Screen) {
	r.t.Helper()
	if got := r.screen(); got != s {
		r.t.Fatalf("screen %s, want %s (toasts %q)", got, s, r.d.Toasts())
	}
}

var errDenied = errors.New("wrong agent ID or password")

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
