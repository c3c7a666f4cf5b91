package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// Toasts stay this long (errors twice as long), at most maxToasts at once.
const (
	toastTime = 6 * time.Second
	maxToasts = 3
)

// toastArea shows the latest notices at the bottom of the window.
type toastArea struct {
	d       *Desk
	content *fyne.Container
	items   []toastItem
}

type toastItem struct {
	toast   viewmodel.Toast
	expires time.Time
	label   *widget.Label
}

func newToastArea(d *Desk) *toastArea {
	return &toastArea{d: d, content: container.NewVBox()}
}

func (a *toastArea) show(t viewmodel.Toast, now time.Time) {
	if t.Text == "" {
		return
	}
	l := widget.NewLabel(t.Text)
	l.Wrapping = fyne.TextWrapWord
	life := toastTime
	switch t.Kind {
	case domain.NoticeError:
		l.Importance = widget.DangerImportance
		life *= 2
	case domain.NoticeWarning:
		l.Importance = widget.WarningImportance
	case domain.NoticeInfo:
	}
	a.items = append(a.items, toastItem{toast: t, expires: now.Add(life), label: l})
	a.d.tickWanted.Store(true) // it expires with the tick
	if len(a.items) > maxToasts {
		a.items = a.items[len(a.items)-maxToasts:]
	}
	a.sync()
}

func (a *toastArea) expire(now time.Time) {
	kept := a.items[:0]
	for _, it := range a.items {
		if now.Before(it.expires) {
			kept = append(kept, it)
		}
	}
	if len(kept) != len(a.items) {
		a.items = kept
		a.sync()
	}
}

func (a *toastArea) sync() {
	objs := make([]fyne.CanvasObject, len(a.items))
	for i, it := range a.items {
		objs[i] = it.label
	}
	a.content.Objects = objs
	a.content.Refresh()
}

// Toasts returns the texts shown now, oldest first.
func (d *Desk) Toasts() []string {
	out := make([]string, len(d.toasts.items))
	for i, it := range d.toasts.items {
		out[i] = it.toast.Text
	}
	return out
}
