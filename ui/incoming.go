package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// incomingScreen is the ringing call: who calls, through which queue or
// number, the matched CRM record(s) with a chooser, and Answer, Reject,
// Redirect and "do not log".
type incomingScreen struct {
	d        *Desk
	content  fyne.CanvasObject
	title    *widget.Label
	name     *widget.Label
	number   *widget.Label
	via      *widget.Label
	match    *widget.Label
	chooser  *widget.Select
	newRec   *widget.Button
	answer   *widget.Button
	reject   *widget.Button
	redirect *widget.Button
	doNotLog *widget.Check
	records  []domain.CRMRecord
	cur      *viewmodel.Incoming
	updating bool
}

func newIncomingScreen(d *Desk) *incomingScreen {
	s := &incomingScreen{d: d}
	s.title = widget.NewLabelWithStyle(d.T("Incoming call"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.title.SizeName = theme.SizeNameSubHeadingText
	s.name = widget.NewLabel("")
	s.name.SizeName = theme.SizeNameHeadingText
	s.name.Truncation = fyne.TextTruncateEllipsis
	s.number = widget.NewLabel("")
	s.via = widget.NewLabel("")
	s.match = widget.NewLabel("")
	s.chooser = widget.NewSelect(nil, s.choose)
	s.chooser.PlaceHolder = d.T("Choose the CRM record")
	s.newRec = widget.NewButtonWithIcon(d.T("New CRM contact"), theme.ContentAddIcon(), func() {
		if s.cur != nil {
			d.report(d.core.CreateContact(s.cur.Key))
		}
	})
	s.answer = d.newTipButton(d.T("Answer"), theme.MediaPlayIcon(), s.doAnswer,
		func() string { return d.T("Answer the call (%s)", shortcutText(ShortcutAnswer)) })
	s.answer.Importance = widget.SuccessImportance
	s.reject = widget.NewButtonWithIcon(d.T("Reject"), theme.CancelIcon(), func() {
		if s.cur != nil {
			d.report(d.core.Reject(s.cur.ID, false))
		}
	})
	s.reject.Importance = widget.DangerImportance
	s.redirect = d.newTipButton(d.T("Redirect"), theme.MailForwardIcon(), s.askRedirect,
		func() string { return d.T("Send the call to another number without answering it") })
	s.doNotLog = widget.NewCheck(d.T("Do not log this call"), func(on bool) {
		if s.updating || s.cur == nil {
			return
		}
		d.report(d.core.SetDoNotLog(s.cur.Key, on))
	})
	buttons := container.NewGridWithColumns(3, d.withTip(s.answer), s.reject, d.withTip(s.redirect))
	s.content = container.NewPadded(container.NewVBox(
		s.title, s.name, s.number, s.via, s.match, s.chooser, s.newRec, buttons, s.doNotLog))
	return s
}

func (s *incomingScreen) doAnswer() {
	if s.cur != nil && !s.cur.Answering {
		s.d.report(s.d.core.Answer(s.cur.ID))
	}
}

func (s *incomingScreen) choose(label string) {
	if s.updating || s.cur == nil {
		return
	}
	for _, r := range s.records {
		if recordLabel(s.d, r) == label {
			s.d.report(s.d.core.ChooseRecord(s.cur.Key, r.ID))
			return
		}
	}
}

func recordLabel(d *Desk, r domain.CRMRecord) string {
	return r.Name + " (" + d.T(r.Type) + ")"
}

func (s *incomingScreen) askRedirect() {
	if s.cur == nil || s.d.canvas == nil {
		return
	}
	id := s.cur.ID
	s.d.askTarget(s.d.T("Redirect the call"), s.d.T("Redirect"), func(target string) {
		s.d.report(s.d.core.Redirect(id, target))
	})
}

func (s *incomingScreen) render(v *viewmodel.View) {
	in := v.Incoming
	s.cur = in
	if in == nil {
		return
	}
	s.updating = true
	defer func() { s.updating = false }()
	title := s.d.T("Incoming call")
	if in.Waiting {
		title = s.d.T("Call waiting: answering holds your current call")
	}
	setText(s.title, title)
	setText(s.name, in.Name)
	setText(s.number, in.Number)
	showIf(s.number, in.Number != "")
	via := ""
	switch {
	case in.Queue != "" && in.Dialed != "":
		via = s.d.T("Queue %s · dialled %s", in.Queue, in.Dialed)
	case in.Queue != "":
		via = s.d.T("Queue %s", in.Queue)
	case in.Dialed != "":
		via = s.d.T("Dialled %s", in.Dialed)
	}
	setText(s.via, via)
	showIf(s.via, via != "")
	setText(s.match, in.Match)
	showIf(s.match, in.Match != "")
	s.records = in.Records
	opts := make([]string, len(in.Records))
	sel := ""
	for i, r := range in.Records {
		opts[i] = recordLabel(s.d, r)
		if r.ID == in.RecordID {
			sel = opts[i]
		}
	}
	if !equalStrings(s.chooser.Options, opts) {
		s.chooser.SetOptions(opts)
	}
	if s.chooser.Selected != sel {
		s.chooser.SetSelected(sel)
	}
	showIf(s.chooser, len(in.Records) > 1)
	showIf(s.newRec, in.Match == s.d.T("No CRM record"))
	setEnabled(s.answer, !in.Answering)
	setButton(s.answer, map[bool]string{false: s.d.T("Answer"), true: s.d.T("Answering…")}[in.Answering])
	setEnabled(s.reject, !in.Answering)
	setEnabled(s.redirect, !in.Answering)
	if s.doNotLog.Checked != in.DoNotLog {
		s.doNotLog.SetChecked(in.DoNotLog)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// askTarget asks for a number (typed, or picked from the favorites) and
// calls done with the normalised target.
func (d *Desk) askTarget(title, confirm string, done func(target string)) {
	d.askTargetWith(title, []targetAction{{label: confirm, run: done}})
}

// targetAction is one confirm button of the target dialog.
type targetAction struct {
	label string
	run   func(target string)
}

func (d *Desk) askTargetWith(title string, actions []targetAction) {
	if d.canvas == nil {
		return
	}
	entry := newNumberEntry()
	entry.SetPlaceHolder(d.T("Number, extension or SIP address"))
	entry.onPasteError = func(err error) { d.toast(domain.NoticeError, d.T("Cannot paste that: %s", err.Error())) }
	favs := d.idle.favs
	names := make([]string, len(favs))
	for i, f := range favs {
		names[i] = f.Label() + " · " + f.Number
	}
	pick := widget.NewSelect(names, func(s string) {
		for i, n := range names {
			if n == s {
				entry.SetText(favs[i].Number)
			}
		}
	})
	pick.PlaceHolder = d.T("Or pick a favorite")
	errLabel := widget.NewLabel("")
	errLabel.Importance = widget.DangerImportance
	errLabel.Hide()
	var pop *widget.PopUp
	buttons := []fyne.CanvasObject{}
	cancel := widget.NewButton(d.T("Cancel"), func() { pop.Hide() })
	for _, a := range actions {
		b := widget.NewButton(a.label, func() {
			n, err := domain.NormalizeDialString(entry.Text)
			if err != nil {
				errLabel.SetText(d.T(err.Error()))
				errLabel.Show()
				return
			}
			pop.Hide()
			a.run(n)
		})
		b.Importance = widget.HighImportance
		buttons = append(buttons, b)
	}
	buttons = append(buttons, cancel)
	body := container.NewVBox(
		widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		entry, pick, errLabel, container.NewGridWithColumns(len(buttons), buttons...))
	pop = widget.NewModalPopUp(container.NewPadded(body), d.canvas)
	pop.Resize(fyne.NewSize(380, body.MinSize().Height+16))
	pop.Show()
	d.canvas.Focus(entry)
	d.targetPopUp = pop
	d.targetEntry = entry
}

// confirm shows a modal question with custom buttons (hang-up in a
// conference, the CRM sync list); every button closes it.
func (d *Desk) confirm(title string, body fyne.CanvasObject, buttons ...*widget.Button) *widget.PopUp {
	if d.canvas == nil {
		return nil
	}
	objs := make([]fyne.CanvasObject, len(buttons))
	for i, b := range buttons {
		objs[i] = b
	}
	content := container.NewVBox(
		widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		body, container.NewGridWithColumns(len(objs), objs...))
	pop := widget.NewModalPopUp(container.NewPadded(content), d.canvas)
	for _, b := range buttons {
		tapped := b.OnTapped
		b.OnTapped = func() {
			pop.Hide()
			if tapped != nil {
				tapped()
			}
		}
	}
	pop.Resize(fyne.NewSize(420, content.MinSize().Height+16))
	pop.Show()
	d.modal = pop
	return pop
}

// wrapped is a label that wraps words.
func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}
