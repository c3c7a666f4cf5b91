package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
)

// DemoExtension is a number the agent can dial in demo mode.
type DemoExtension struct {
	Number string
	Label  string
}

// Demo describes demo mode (the built-in practice PBX): the banner lists
// the extensions and offers "Ring me", which makes the demo customer line
// call the agent. RingMe may block; the desk calls it off the UI
// goroutine.
type Demo struct {
	Extensions []DemoExtension
	RingMe     func() error
}

// WithDemo shows the demo banner.
func WithDemo(demo Demo) Option {
	return func(d *Desk) {
		demo.Extensions = append([]DemoExtension(nil), demo.Extensions...)
		d.demo = &demo
	}
}

// demoBanner is the strip under the header in demo mode.
type demoBanner struct {
	d       *Desk
	content fyne.CanvasObject
	ringMe  *widget.Button
	numbers *widget.Label
	busy    bool
}

func newDemoBanner(d *Desk) *demoBanner {
	b := &demoBanner{d: d}
	title := widget.NewLabelWithStyle(d.T("Demo mode: calls go to a built-in practice phone system on this PC"),
		fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Wrapping = fyne.TextWrapWord
	b.ringMe = widget.NewButtonWithIcon(d.T("Ring me"), theme.MediaPlayIcon(), b.ring)
	b.ringMe.Importance = widget.WarningImportance
	parts := make([]string, 0, len(d.demo.Extensions))
	for _, e := range d.demo.Extensions {
		parts = append(parts, e.Number+" "+e.Label)
	}
	b.numbers = widget.NewLabel(d.T("Try: %s", strings.Join(parts, " · ")))
	b.numbers.Wrapping = fyne.TextWrapWord
	b.content = container.NewVBox(container.NewBorder(nil, nil, nil, b.ringMe, title), b.numbers)
	return b
}

// ring asks the demo customer line to call the agent.
func (b *demoBanner) ring() {
	ring := b.d.demo.RingMe
	if b.busy || ring == nil {
		return
	}
	if !b.d.vm.SignedIn() {
		b.d.toast(domain.NoticeWarning, b.d.T("Sign in first: the demo customer calls you once you are signed in"))
		return
	}
	b.busy = true
	b.ringMe.Disable()
	b.d.background(func(context.Context) {
		err := ring()
		b.d.do(func() {
			b.busy = false
			b.ringMe.Enable()
			if err != nil {
				b.d.log.Warn("demo ring-me failed", "err", err)
				b.d.toast(domain.NoticeError, b.d.T("The demo customer could not call you: %s", err.Error()))
			}
		})
	})
}
