package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// Fyne 2.8 has no tooltips, so the desk has a light one of its own: a
// button that, while the pointer rests on it and Settings.Tooltips is on,
// shows a small pop-up under it saying what it does and its keyboard
// shortcut. The pop-up goes when the pointer leaves or the button is
// tapped.

// tipButton is a widget.Button with a tooltip. The screens keep a
// pointer to its Button (so they set text, icons and state as on any
// button) and place the tipButton itself (Desk.withTip).
type tipButton struct {
	widget.Button
	d   *Desk
	tip func() string
	pop *widget.PopUp
}

// newTipButton makes a button with text, icon and a tooltip; b is the
// button the screen keeps.
func (d *Desk) newTipButton(text string, icon fyne.Resource, tapped func(), tip func() string) (b *widget.Button) {
	t := &tipButton{d: d, tip: tip}
	t.Text, t.Icon, t.OnTapped = text, icon, tapped
	t.ExtendBaseWidget(t)
	if d.tips == nil {
		d.tips = map[*widget.Button]*tipButton{}
	}
	d.tips[&t.Button] = t
	return &t.Button
}

// withTip is the object to place for a button made by newTipButton (the
// button itself for any other).
func (d *Desk) withTip(b *widget.Button) fyne.CanvasObject {
	if t := d.tips[b]; t != nil {
		return t
	}
	return b
}

// MouseIn shows the tooltip (Settings.Tooltips on).
func (t *tipButton) MouseIn(e *desktop.MouseEvent) {
	t.Button.MouseIn(e)
	t.showTip()
}

// MouseOut hides the tooltip.
func (t *tipButton) MouseOut() {
	t.Button.MouseOut()
	t.hideTip()
}

// Tapped hides the tooltip and taps the button.
func (t *tipButton) Tapped(e *fyne.PointEvent) {
	t.hideTip()
	t.Button.Tapped(e)
}

func (t *tipButton) showTip() {
	d := t.d
	if !d.set.Tooltips || t.tip == nil || !t.Visible() {
		return
	}
	text := t.tip()
	c := fyne.CurrentApp().Driver().CanvasForObject(t)
	if text == "" || c == nil {
		return
	}
	t.hideTip()
	l := widget.NewLabel(text)
	t.pop = widget.NewPopUp(l, c)
	// Under the button, kept inside the window.
	rel := fyne.NewPos(0, t.Size().Height+2)
	abs := fyne.CurrentApp().Driver().AbsolutePositionForObject(t)
	size := t.pop.MinSize()
	if over := abs.X + size.Width - c.Size().Width; over > 0 {
		rel.X = -min(over, abs.X)
	}
	if abs.Y+rel.Y+size.Height > c.Size().Height {
		rel.Y = -size.Height - 2
	}
	t.pop.ShowAtRelativePosition(rel, t)
	d.tipShown = t.pop
}

func (t *tipButton) hideTip() {
	if t.pop != nil {
		t.pop.Hide()
		if t.d.tipShown == t.pop {
			t.d.tipShown = nil
		}
		t.pop = nil
	}
}

// Tooltip is the text of the tooltip shown last, "" when none is shown
// (tests).
func (d *Desk) Tooltip() string {
	if d.tipShown == nil || !d.tipShown.Visible() {
		return ""
	}
	if l, ok := d.tipShown.Content.(*widget.Label); ok {
		return l.Text
	}
	return ""
}

// shortcutText is how a keyboard shortcut is written for the agent
// ("Ctrl+Shift+H"; "Cmd+Shift+H" on macOS).
func shortcutText(s *desktop.CustomShortcut) string {
	var parts []string
	if s.Modifier&fyne.KeyModifierControl != 0 {
		parts = append(parts, "Ctrl")
	}
	if s.Modifier&fyne.KeyModifierSuper != 0 {
		parts = append(parts, "Cmd")
	}
	if s.Modifier&fyne.KeyModifierShift != 0 {
		parts = append(parts, "Shift")
	}
	return strings.Join(append(parts, string(s.KeyName)), "+")
}
