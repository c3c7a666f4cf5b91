package ui

import (
	"image/color"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// numberEntry is the dial entry: pasted text is normalised
// (domain.NormalizeDialString) so "+49 (30) 123-45" or "tel:+4930123"
// become a dialable number, and anything unusable is refused with a reason.
type numberEntry struct {
	widget.Entry
	onPasteError func(error)
}

func newNumberEntry() *numberEntry {
	e := &numberEntry{}
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut normalises pastes and passes everything else on.
func (e *numberEntry) TypedShortcut(s fyne.Shortcut) {
	p, ok := s.(*fyne.ShortcutPaste)
	if !ok || p.Clipboard == nil {
		e.Entry.TypedShortcut(s)
		return
	}
	e.paste(p.Clipboard.Content())
}

// paste inserts normalised clipboard text, replacing the whole entry when
// the text is a complete number (the usual case: a number copied from a web
// page or the CRM).
func (e *numberEntry) paste(text string) {
	n, err := domain.NormalizeDialString(text)
	if err != nil {
		if e.onPasteError != nil {
			e.onPasteError(err)
		}
		return
	}
	e.SetText(n)
	e.CursorColumn = len([]rune(n))
	e.Refresh()
}

// dot is the status dot.
type dot struct {
	circle *canvas.Circle
}

func newDot() *dot {
	c := canvas.NewCircle(dotColor(viewmodel.DotGrey))
	c.Resize(fyne.NewSize(12, 12))
	return &dot{circle: c}
}

func (d *dot) object() fyne.CanvasObject { return sized(d.circle, 12) }

// sized shows o at a fixed square size, centred (the painter draws only
// its own object types, so this is a layout, not a wrapper).
func sized(o fyne.CanvasObject, side float32) fyne.CanvasObject {
	return container.NewCenter(container.NewGridWrap(fyne.NewSize(side, side), o))
}

// minWidth gives o at least the width w.
func minWidth(o fyne.CanvasObject, w float32) fyne.CanvasObject {
	spacer := canvas.NewRectangle(color.Transparent)
	spacer.SetMinSize(fyne.NewSize(w, 0))
	return container.NewStack(spacer, o)
}

func (d *dot) set(c viewmodel.Dot) {
	col := dotColor(c)
	if d.circle.FillColor != col {
		d.circle.FillColor = col
		d.circle.Refresh()
	}
}

func dotColor(c viewmodel.Dot) color.Color {
	switch c {
	case viewmodel.DotGreen:
		return theme.Color(theme.ColorNameSuccess)
	case viewmodel.DotOrange:
		return theme.Color(theme.ColorNameWarning)
	case viewmodel.DotRed:
		return theme.Color(theme.ColorNameError)
	case viewmodel.DotGrey:
	}
	return theme.Color(theme.ColorNameDisabled)
}

// Recording indicator colours: orange recording, dark grey paused, light
// grey not allowed.
var (
	colorRecording = color.NRGBA{R: 0xef, G: 0x6c, B: 0x00, A: 0xff}
	colorPaused    = color.NRGBA{R: 0x42, G: 0x42, B: 0x42, A: 0xff}
	colorForbidden = color.NRGBA{R: 0xbd, G: 0xbd, B: 0xbd, A: 0xff}
)

type disableable interface {
	Enable()
	Disable()
	Disabled() bool
}

func setEnabled(w disableable, on bool) {
	if on == !w.Disabled() {
		return
	}
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}

func showIf(o fyne.CanvasObject, on bool) {
	if on == o.Visible() {
		return
	}
	if on {
		o.Show()
	} else {
		o.Hide()
	}
}

func setText(l *widget.Label, s string) {
	if l.Text != s {
		l.SetText(s)
	}
}

func setButton(b *widget.Button, s string) {
	if b.Text != s {
		b.SetText(s)
	}
}

func openWithApp(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if !strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(u.Scheme, "http") {
		return errNotWebURL
	}
	return fyne.CurrentApp().OpenURL(u)
}

// setEntryText replaces an entry's text and puts the cursor at its end, so
// the agent types on after text added for them (a quick note).
func setEntryText(e *widget.Entry, text string) {
	e.SetText(text)
	lines := strings.Split(text, "\n")
	e.CursorRow = len(lines) - 1
	e.CursorColumn = len([]rune(lines[len(lines)-1]))
	e.Refresh()
}
