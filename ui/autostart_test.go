package ui

import (
	"errors"
	"sync"
	"testing"

	"fyne.io/fyne/v2/test"
)

// fakeAutostart records the start-at-login entry's state.
type fakeAutostart struct {
	mu   sync.Mutex
	on   bool
	sets []bool
	fail error
}

func (f *fakeAutostart) Enabled() (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.on, nil
}

func (f *fakeAutostart) SetEnabled(on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.on = on
	f.sets = append(f.sets, on)
	return nil
}

func (f *fakeAutostart) state() (bool, []bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.on, append([]bool(nil), f.sets...)
}

// TestStartAtLoginSetting: the checkbox shows the OS entry's state and
// saving a different choice turns the entry on or off; saving without a
// change leaves it alone, and a failure is shown and nothing is saved.
func TestStartAtLoginSetting(t *testing.T) {
	as := &fakeAutostart{on: true}
	r := newRig(t, withOpts(WithAutostart(as)))
	r.signIn()
	r.tap(r.d.header.settings)
	p := r.d.Settings()
	r.settle()
	r.until("the entry's state loaded", func() bool { return r.d.set.StartAtLogin })
	p.fill(r.d.set)
	if !p.startAtLogin.Visible() || !p.startAtLogin.Checked {
		t.Fatal("the checkbox does not show the entry is on")
	}
	p.startAtLogin.SetChecked(false)
	test.Tap(p.save)
	r.until("the entry turned off", func() bool { on, sets := as.state(); return !on && len(sets) == 1 })
	r.until("the setting saved", func() bool { return !r.d.set.StartAtLogin })
	test.Tap(p.save) // no change: the entry is left alone
	r.settle()
	if _, sets := as.state(); len(sets) != 1 {
		t.Fatalf("saving without a change touched the entry: %v", sets)
	}
	as.mu.Lock()
	as.fail = errors.New("read-only home")
	as.mu.Unlock()
	p.startAtLogin.SetChecked(true)
	test.Tap(p.save)
	r.until("the failure shown", func() bool {
		return p.message.Text == "Start at login could not be changed: read-only home"
	})
	if r.d.set.StartAtLogin {
		t.Fatal("a failed change was kept as the setting")
	}
}

// TestStartAtLoginHiddenWithoutAutostart: without an Autostart the
// checkbox is not offered.
func TestStartAtLoginHiddenWithoutAutostart(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.tap(r.d.header.settings)
	p := r.d.Settings()
	r.settle()
	if p.startAtLogin.Visible() {
		t.Fatal("start at login offered with no autostart")
	}
}
