package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"
)

// confirmFrom runs ConfirmDial on another goroutine (it blocks, as on the
// instance socket's goroutine) and returns its answer channel.
func (r *rig) confirmFrom(target string) <-chan bool {
	got := make(chan bool, 1)
	go func() { got <- r.d.ConfirmDial(target) }()
	return got
}

// TestConfirmLinkSetting: with the setting off a link dials without a
// question; with it on the agent is asked in the window, and Call or
// Cancel answers the waiting link.
func TestConfirmLinkSetting(t *testing.T) {
	r := newRig(t)
	r.signIn()
	got := r.confirmFrom("+4930111")
	var ok bool
	r.until("the answer without a question", func() bool {
		select {
		case ok = <-got:
			return true
		default:
			return false
		}
	})
	if !ok || r.d.confirmDlg != nil {
		t.Fatal("asked (or refused) with the setting off")
	}

	// The agent turns the setting on in the settings window.
	r.tap(r.d.header.settings)
	p := r.d.Settings()
	r.settle()
	p.confirmLinks.SetChecked(true)
	test.Tap(p.save)
	r.settle()
	if !r.settings.s.ConfirmLinks || !r.d.set.ConfirmLinks {
		t.Fatal("the setting was not saved")
	}

	answer := func(button string) bool {
		t.Helper()
		got := r.confirmFrom("+4930111")
		r.until("the question", func() bool { return r.d.confirmDlg != nil && r.d.confirmDlg.Visible() })
		r.assertShown("A link asks to call +4930111. Call now?")
		r.tap(r.findButton(button))
		var ok bool
		r.until("the answer", func() bool {
			select {
			case ok = <-got:
				return true
			default:
				return false
			}
		})
		if r.d.confirmDlg.Visible() {
			t.Fatal("the question stays open")
		}
		r.d.confirmDlg = nil
		return ok
	}
	if !answer("Call") {
		t.Fatal("Call did not allow the link")
	}
	if answer("Cancel") {
		t.Fatal("Cancel allowed the link")
	}
}
