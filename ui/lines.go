package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/ui/viewmodel"
)

// linesBar shows every live call as a button: one click answers a ringing
// line or resumes a held one (the core holds the other).
type linesBar struct {
	d       *Desk
	content *fyne.Container
	buttons []*widget.Button
	lines   []viewmodel.Line
}

func newLinesBar(d *Desk) *linesBar {
	return &linesBar{d: d, content: container.NewHBox()}
}

func (b *linesBar) switchTo(i int) {
	if i >= len(b.lines) {
		return
	}
	l := b.lines[i]
	switch {
	case l.Ringing:
		b.d.report(b.d.core.Answer(l.ID))
	case l.Held:
		b.d.report(b.d.core.Resume(l.ID))
	}
}

func (b *linesBar) render(v *viewmodel.View) {
	b.lines = v.Lines
	if len(v.Lines) < 2 {
		if len(b.content.Objects) > 0 {
			b.content.RemoveAll()
			b.buttons = nil
		}
		return
	}
	for len(b.buttons) < len(v.Lines) {
		i := len(b.buttons)
		btn := widget.NewButton("", func() { b.switchTo(i) })
		b.buttons = append(b.buttons, btn)
	}
	if len(b.buttons) > len(v.Lines) {
		b.buttons = b.buttons[:len(v.Lines)]
	}
	objs := make([]fyne.CanvasObject, len(v.Lines))
	for i, l := range v.Lines {
		btn := b.buttons[i]
		setButton(btn, b.d.T("Line %d: %s · %s %s", i+1, l.Label, l.State, l.Duration))
		imp := widget.MediumImportance
		switch {
		case l.Ringing:
			imp = widget.SuccessImportance
		case l.Focused && !l.Held:
			imp = widget.HighImportance
		}
		if btn.Importance != imp {
			btn.Importance = imp
			btn.Refresh()
		}
		objs[i] = btn
	}
	if len(objs) != len(b.content.Objects) {
		b.content.Objects = objs
		b.content.Refresh()
	}
}
