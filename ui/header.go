package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/ui/viewmodel"
)

// header is the top bar: who is signed in, the status menu with its dot,
// the phone registration and the CRM sync state.
type header struct {
	d        *Desk
	content  fyne.CanvasObject
	agent    *widget.Label
	dot      *dot
	status   *widget.Button
	next     *widget.Label
	reg      *widget.Label
	crm      *widget.Button
	muted    *widget.Label
	settings *widget.Button
	menu     *fyne.Menu
	options  []viewmodel.StatusOption
}

func newHeader(d *Desk) *header {
	h := &header{d: d, dot: newDot()}
	h.agent = widget.NewLabel("")
	h.agent.TextStyle.Bold = true
	h.agent.Truncation = fyne.TextTruncateEllipsis
	h.status = d.newTipButton(d.T("Signed out"), theme.MenuDropDownIcon(), h.openMenu,
		func() string { return d.T("Change your status: available, a break, do not disturb or offline") })
	h.status.IconPlacement = widget.ButtonIconTrailingText
	h.next = widget.NewLabel("")
	// Set apart by colour, not italics: every text style Fyne draws loads
	// its own copies of the fonts (the emoji font included) and a system
	// font, about 9 MB of heap for a style nothing else on the desk uses.
	h.next.Importance = widget.HighImportance
	h.reg = widget.NewLabel("")
	h.crm = d.newTipButton("", nil, d.showSync,
		func() string { return d.T("Call logs waiting for the CRM, and failed ones to send again") })
	h.crm.Importance = widget.LowImportance
	h.muted = widget.NewLabel(d.T("Microphone muted"))
	h.muted.Importance = widget.DangerImportance
	h.settings = d.newTipButton(d.T("Settings"), theme.SettingsIcon(), d.ShowSettings,
		func() string { return d.T("Audio devices, accounts, screen pop, notes and diagnostics") })
	top := container.NewBorder(nil, nil, container.NewHBox(h.dot.object(), d.withTip(h.status)), d.withTip(h.settings), h.agent)
	bottom := container.NewHBox(h.reg, d.withTip(h.crm), h.next, h.muted)
	h.content = container.NewVBox(top, bottom)
	return h
}

func (h *header) openMenu() {
	if len(h.options) == 0 || h.d.canvas == nil {
		return
	}
	items := make([]*fyne.MenuItem, 0, len(h.options))
	for _, o := range h.options {
		st := o.Status
		it := fyne.NewMenuItem(o.Label, func() { h.d.chooseStatus(st) })
		it.Checked = o.Label == h.d.view.Selected
		items = append(items, it)
	}
	h.menu = fyne.NewMenu("", items...)
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(h.d.withTip(h.status))
	widget.ShowPopUpMenuAtPosition(h.menu, h.d.canvas, pos.Add(fyne.NewPos(0, h.status.Size().Height)))
}

func (h *header) render(v *viewmodel.View) {
	hv := &v.Header
	h.options = v.Options
	h.dot.set(hv.Dot)
	setText(h.agent, hv.Agent)
	setButton(h.status, hv.Status)
	setEnabled(h.status, hv.SignedIn)
	setText(h.next, hv.Next)
	showIf(h.next, hv.Next != "")
	setText(h.reg, hv.Registration)
	showIf(h.reg, hv.SignedIn)
	setButton(h.crm, hv.CRM)
	showIf(h.crm, hv.SignedIn)
	imp := widget.LowImportance
	if hv.CRMProblem {
		imp = widget.DangerImportance
	}
	if h.crm.Importance != imp {
		h.crm.Importance = imp
		h.crm.Refresh()
	}
	showIf(h.muted, hv.Muted)
}
