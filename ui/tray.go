package ui

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"sync"

	"fyne.io/fyne/v2"

	"github.com/callcentre/softphone/assets"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// trayMenu is the system-tray menu: who and what status, the statuses,
// Answer and Hang up, and Show. Its items are changed in place and the menu
// refreshed (replacing a tray menu is unreliable).
type trayMenu struct {
	d       *Desk
	menu    *fyne.Menu
	who     *fyne.MenuItem
	answer  *fyne.MenuItem
	hangup  *fyne.MenuItem
	show    *fyne.MenuItem
	options []viewmodel.StatusOption
	sig     string
	dot     viewmodel.Dot
	iconSet bool
	onShow  func()
}

func newTrayMenu(d *Desk) *trayMenu {
	t := &trayMenu{d: d}
	t.who = fyne.NewMenuItem(d.T("Signed out"), nil)
	t.who.Disabled = true
	t.answer = fyne.NewMenuItem(d.T("Answer"), d.AnswerRinging)
	t.hangup = fyne.NewMenuItem(d.T("Hang up"), d.HangupCurrent)
	t.show = fyne.NewMenuItem(d.T("Show window"), func() {
		if t.onShow != nil {
			t.onShow()
		}
	})
	t.menu = fyne.NewMenu(d.T("Softphone"), t.who, t.answer, t.hangup, t.show)
	return t
}

// TrayMenu is the menu for the system tray; onShow shows the window. The
// desk keeps it up to date.
func (d *Desk) TrayMenu(onShow func()) *fyne.Menu {
	d.tray.onShow = onShow
	return d.tray.menu
}

func (t *trayMenu) render(v *viewmodel.View) {
	who := v.Header.Status
	if v.Header.Agent != "" {
		who = v.Header.Agent + " · " + v.Header.Status
	}
	sig := who + "|" + v.Selected
	for _, o := range v.Options {
		sig += o.Label + "|"
	}
	ringing := v.Incoming != nil && !v.Incoming.Answering
	inCall := v.Call != nil || ringing
	sig += map[bool]string{true: "R", false: "r"}[ringing] + map[bool]string{true: "C", false: "c"}[inCall]
	if sig != t.sig {
		t.sig = sig
		t.who.Label = who
		t.answer.Disabled = !ringing
		t.hangup.Disabled = !inCall
		items := []*fyne.MenuItem{t.who, fyne.NewMenuItemSeparator()}
		t.options = v.Options
		for _, o := range v.Options {
			st := o.Status
			it := fyne.NewMenuItem(o.Label, func() { t.d.chooseStatus(st) })
			it.Checked = o.Label == v.Selected
			items = append(items, it)
		}
		if len(v.Options) > 0 {
			items = append(items, fyne.NewMenuItemSeparator())
		}
		items = append(items, t.answer, t.hangup, fyne.NewMenuItemSeparator(), t.show)
		t.menu.Items = items
		t.menu.Refresh()
	}
	if (!t.iconSet || v.Header.Dot != t.dot) && t.d.shell != nil {
		t.iconSet, t.dot = true, v.Header.Dot
		t.d.shell.SetTrayIcon(TrayIcon(v.Header.Dot))
	}
}

var (
	trayIconsOnce sync.Once
	trayIcons     map[viewmodel.Dot]fyne.Resource
)

// TrayIcon is the application icon (PNG: tray hosts reject SVG) with the
// status dot in its lower right corner.
func TrayIcon(dot viewmodel.Dot) fyne.Resource {
	trayIconsOnce.Do(func() {
		trayIcons = map[viewmodel.Dot]fyne.Resource{}
		base, err := png.Decode(bytes.NewReader(assets.IconPNG))
		for _, d := range []viewmodel.Dot{viewmodel.DotGrey, viewmodel.DotGreen, viewmodel.DotOrange, viewmodel.DotRed} {
			if err != nil {
				trayIcons[d] = fyne.NewStaticResource("softphone.png", assets.IconPNG)
				continue
			}
			trayIcons[d] = fyne.NewStaticResource("softphone-"+d.String()+".png", withDot(base, trayColor(d)))
		}
	})
	return trayIcons[dot]
}

// AppIcon is the application icon as PNG, for the window and the app.
func AppIcon() fyne.Resource { return fyne.NewStaticResource("softphone.png", assets.IconPNG) }

func trayColor(d viewmodel.Dot) color.NRGBA {
	switch d {
	case viewmodel.DotGreen:
		return color.NRGBA{R: 0x2e, G: 0x7d, B: 0x32, A: 0xff}
	case viewmodel.DotOrange:
		return color.NRGBA{R: 0xef, G: 0x6c, B: 0x00, A: 0xff}
	case viewmodel.DotRed:
		return color.NRGBA{R: 0xc6, G: 0x28, B: 0x28, A: 0xff}
	case viewmodel.DotGrey:
	}
	return color.NRGBA{R: 0x9e, G: 0x9e, B: 0x9e, A: 0xff}
}

// withDot draws a filled circle with a white ring on a copy of img.
func withDot(img image.Image, c color.NRGBA) []byte {
	b := img.Bounds()
	out := image.NewNRGBA(b)
	draw.Draw(out, b, img, b.Min, draw.Src)
	r := b.Dx() / 5
	cx, cy := b.Max.X-r-2, b.Max.Y-r-2
	for y := cy - r - 3; y <= cy+r+3; y++ {
		for x := cx - r - 3; x <= cx+r+3; x++ {
			dx, dy := x-cx, y-cy
			switch d2 := dx*dx + dy*dy; {
			case d2 <= r*r:
				out.SetNRGBA(x, y, c)
			case d2 <= (r+3)*(r+3):
				out.SetNRGBA(x, y, color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff})
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, out) // encoding an in-memory NRGBA cannot fail
	return buf.Bytes()
}
