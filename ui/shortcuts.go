package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/callcentre/softphone/ui/viewmodel"
)

// Keyboard shortcuts (Ctrl on Windows and Linux, Cmd on macOS, plus Shift),
// active while the window has focus.
var (
	ShortcutAnswer = &desktop.CustomShortcut{KeyName: fyne.KeyA, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	ShortcutHangup = &desktop.CustomShortcut{KeyName: fyne.KeyE, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	ShortcutHold   = &desktop.CustomShortcut{KeyName: fyne.KeyH, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	ShortcutMute   = &desktop.CustomShortcut{KeyName: fyne.KeyM, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	ShortcutDial   = &desktop.CustomShortcut{KeyName: fyne.KeyD, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
)

func (d *Desk) installShortcuts(c fyne.Canvas) {
	d.keys.AddShortcut(ShortcutAnswer, func(fyne.Shortcut) { d.AnswerRinging() })
	d.keys.AddShortcut(ShortcutHangup, func(fyne.Shortcut) { d.HangupCurrent() })
	d.keys.AddShortcut(ShortcutHold, func(fyne.Shortcut) { d.call.toggleHold() })
	d.keys.AddShortcut(ShortcutMute, func(fyne.Shortcut) {
		if d.view.Call != nil {
			d.report(d.core.Mute(!d.view.Header.Muted))
		}
	})
	d.keys.AddShortcut(ShortcutDial, func(fyne.Shortcut) { d.FocusDial() })
	for _, s := range []fyne.Shortcut{ShortcutAnswer, ShortcutHangup, ShortcutHold, ShortcutMute, ShortcutDial} {
		c.AddShortcut(s, d.keys.TypedShortcut)
	}
	c.SetOnTypedKey(d.onTypedKey)
	// Digits typed while nothing has the focus go to the number entry, or
	// as DTMF to the active call.
	c.SetOnTypedRune(func(r rune) {
		if d.view.Screen == viewmodel.ScreenLogin && !d.login.agentID.Disabled() {
			// The first key of an agent ID focuses its entry.
			c.Focus(d.login.agentID)
			d.login.agentID.TypedRune(r)
			return
		}
		if d.view.Screen == viewmodel.ScreenWrapUp && d.wrap.freeText.Visible() && !d.wrap.freeText.Disabled() {
			// Typing in wrap-up starts the (free-text) outcome.
			c.Focus(d.wrap.freeText)
			d.wrap.freeText.TypedRune(r)
			return
		}
		if !isDialRune(r) {
			return
		}
		switch d.view.Screen {
		case viewmodel.ScreenIdle:
			d.idle.number.SetText(d.idle.number.Text + string(r))
		case viewmodel.ScreenCall:
			if r != '+' {
				d.call.sendDigit(string(r))
			}
		case viewmodel.ScreenUnknown, viewmodel.ScreenLogin, viewmodel.ScreenIncoming, viewmodel.ScreenWrapUp:
		}
	})
}

// onTypedKey handles Return (dial) and Backspace (delete a digit) typed
// while no widget has the focus.
func (d *Desk) onTypedKey(ev *fyne.KeyEvent) {
	if d.view.Screen != viewmodel.ScreenIdle {
		return
	}
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		if d.idle.number.Text != "" {
			d.idle.dialNumber()
		}
	case fyne.KeyBackspace:
		if r := []rune(d.idle.number.Text); len(r) > 0 {
			d.idle.number.SetText(string(r[:len(r)-1]))
		}
	}
}

func isDialRune(r rune) bool { return (r >= '0' && r <= '9') || r == '*' || r == '#' || r == '+' }

// AnswerRinging answers the ringing call, if any.
func (d *Desk) AnswerRinging() { d.incoming.doAnswer() }

// HangupCurrent rejects the ringing call, or hangs up the current call.
func (d *Desk) HangupCurrent() {
	switch {
	case d.view.Incoming != nil && !d.view.Incoming.Answering && d.view.Screen == viewmodel.ScreenIncoming:
		d.report(d.core.Reject(d.view.Incoming.ID, false))
	case d.view.Call != nil:
		d.call.doHangup()
	}
}

// FocusDial puts the keyboard focus in the number entry.
func (d *Desk) FocusDial() {
	if d.canvas != nil && d.view.Screen == viewmodel.ScreenIdle {
		d.canvas.Focus(d.idle.number)
	}
}

// TypedShortcut runs the desk's action for a shortcut (what the window's
// canvas does when the keys are pressed).
func (d *Desk) TypedShortcut(s fyne.Shortcut) { d.keys.TypedShortcut(s) }
