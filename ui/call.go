package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// callScreen is the call being placed or in progress.
type callScreen struct {
	d        *Desk
	content  fyne.CanvasObject
	title    *widget.Label
	number   *widget.Label
	keyed    *widget.Label // digits the other party keyed (an account number for the agent)
	state    *widget.Label
	flags    *widget.Label
	recLight *canvas.Circle
	recText  *widget.Label
	quality  *widget.Label

	hold       *widget.Button
	mute       *widget.Button
	keypadBtn  *widget.Button
	transfer   *widget.Button
	addParty   *widget.Button
	record     *widget.Button
	bookmark   *widget.Button
	announce   *widget.Select
	hangup     *widget.Button
	doNotLog   *widget.Check
	notes      *widget.Entry // shown with Settings.AutoSaveNotes
	notesKey   string        // the interaction the notes box shows
	notesSent  string        // the notes last sent to the core
	keypad     *fyne.Container
	dtmf       *widget.Label
	consultBox *fyne.Container
	consultLbl *widget.Label
	complete   *widget.Button
	merge      *widget.Button
	cancelCons *widget.Button
	confBox    *fyne.Container
	parties    *fyne.Container
	partySig   string

	cur      *viewmodel.Call
	updating bool
}

func newCallScreen(d *Desk) *callScreen {
	s := &callScreen{d: d}
	s.title = widget.NewLabel("")
	s.title.SizeName = theme.SizeNameHeadingText
	s.title.Truncation = fyne.TextTruncateEllipsis
	s.number = widget.NewLabel("")
	s.keyed = widget.NewLabel("")
	s.keyed.Hide()
	s.state = widget.NewLabel("")
	s.state.TextStyle.Bold = true
	s.flags = widget.NewLabel("")
	s.flags.Importance = widget.WarningImportance
	s.recLight = canvas.NewCircle(colorForbidden)
	s.recText = widget.NewLabel("")
	s.quality = widget.NewLabel("")

	s.hold = d.newTipButton(d.T("Hold"), theme.MediaPauseIcon(), s.toggleHold,
		func() string { return d.T("Hold or resume the call (%s)", shortcutText(ShortcutHold)) })
	s.mute = d.newTipButton(d.T("Mute"), theme.VolumeMuteIcon(), func() { d.report(d.core.Mute(!d.view.Header.Muted)) },
		func() string { return d.T("Mute or unmute your microphone (%s)", shortcutText(ShortcutMute)) })
	s.keypadBtn = d.newTipButton(d.T("Keypad"), theme.GridIcon(), func() { showIf(s.keypad, !s.keypad.Visible()) },
		func() string { return d.T("Send digits to the call (menus, account numbers)") })
	s.transfer = d.newTipButton(d.T("Transfer"), theme.MailForwardIcon(), s.askTransfer,
		func() string { return d.T("Hand the caller to someone else, at once or after talking to them") })
	s.addParty = d.newTipButton(d.T("Add party"), theme.ContentAddIcon(), s.askAddParty,
		func() string { return d.T("Call someone and bring them into a conference") })
	s.record = d.newTipButton(d.T("Record"), theme.MediaRecordIcon(), s.toggleRecord,
		func() string { return d.T("Start, pause or resume the recording of the call") })
	s.bookmark = d.newTipButton(d.T("Bookmark"), theme.DocumentCreateIcon(), func() {
		if s.cur != nil {
			d.report(d.core.AddBookmark(s.cur.Key, ""))
			d.toast(domain.NoticeInfo, d.T("Bookmark added at %s", s.cur.Duration))
		}
	}, func() string { return d.T("Mark this moment of the recording") })
	s.announce = widget.NewSelect(d.announce, func(name string) {
		if s.updating || s.cur == nil || name == "" {
			return
		}
		d.report(d.core.PlayAnnouncement(s.cur.ID, name))
		s.updating = true
		s.announce.ClearSelected()
		s.updating = false
	})
	s.announce.PlaceHolder = d.T("Play announcement")
	s.hangup = d.newTipButton(d.T("Hang up"), theme.CancelIcon(), s.doHangup,
		func() string { return d.T("End the call (%s)", shortcutText(ShortcutHangup)) })
	s.hangup.Importance = widget.DangerImportance
	s.doNotLog = widget.NewCheck(d.T("Do not log this call"), func(on bool) {
		if s.updating || s.cur == nil {
			return
		}
		d.report(d.core.SetDoNotLog(s.cur.Key, on))
	})
	s.notes = widget.NewMultiLineEntry()
	s.notes.SetPlaceHolder(d.T("Notes"))
	s.notes.Wrapping = fyne.TextWrapWord
	s.notes.SetMinRowsVisible(3)
	s.notes.OnChanged = func(text string) {
		if s.updating || s.cur == nil || s.notesKey == "" {
			return
		}
		s.notesSent = text
		d.report(d.core.SetNotes(s.notesKey, text))
		d.noteTyped(s.notesKey, s.cur.Title, text)
	}
	s.notes.Hide()
	s.dtmf = widget.NewLabel("")
	s.keypad = container.NewVBox(s.dtmf, dialPad(s.sendDigit))
	s.keypad.Hide()

	s.consultLbl = widget.NewLabel("")
	s.consultLbl.Wrapping = fyne.TextWrapWord
	s.complete = widget.NewButton(d.T("Complete transfer"), func() {
		if c := s.consult(); c != nil {
			d.report(d.core.CompleteTransfer(c.ID))
		}
	})
	s.complete.Importance = widget.HighImportance
	s.merge = widget.NewButton(d.T("Merge into conference"), func() {
		if c := s.consult(); c != nil {
			d.report(d.core.Merge(c.ID))
		}
	})
	s.cancelCons = widget.NewButton(d.T("Cancel consultation"), func() {
		if c := s.consult(); c != nil {
			d.report(d.core.CancelConsult(c.ID))
		}
	})
	s.consultBox = container.NewVBox(widget.NewSeparator(), s.consultLbl,
		container.NewGridWithColumns(3, s.complete, s.merge, s.cancelCons))
	s.parties = container.NewVBox()
	s.confBox = container.NewVBox(widget.NewSeparator(),
		widget.NewLabelWithStyle(d.T("Participants"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), s.parties)

	rec := container.NewHBox(sized(s.recLight, 12), s.recText)
	grid := container.NewGridWithColumns(4, d.withTip(s.hold), d.withTip(s.mute), d.withTip(s.keypadBtn), d.withTip(s.transfer),
		d.withTip(s.addParty), d.withTip(s.record), d.withTip(s.bookmark), s.announce)
	s.content = container.NewPadded(container.NewVBox(
		s.title, s.number, s.keyed, container.NewHBox(s.state, s.flags), container.NewHBox(rec, s.quality),
		grid, s.keypad, s.consultBox, s.confBox, s.notes, s.doNotLog, d.withTip(s.hangup)))
	return s
}

func (s *callScreen) consult() *viewmodel.Consult {
	if s.cur == nil {
		return nil
	}
	return s.cur.Consult
}

func (s *callScreen) toggleHold() {
	c := s.cur
	switch {
	case c == nil:
	case c.CanResume:
		s.d.report(s.d.core.Resume(c.ID))
	case c.CanHold:
		s.d.report(s.d.core.Hold(c.ID))
	}
}

func (s *callScreen) sendDigit(k string) {
	if s.cur == nil || !s.cur.CanDTMF {
		return
	}
	s.dtmf.SetText(s.dtmf.Text + k)
	s.d.report(s.d.core.SendDTMF(s.cur.ID, k))
}

func (s *callScreen) toggleRecord() {
	if s.cur != nil && s.cur.RecordAction != domain.RecordUnknown {
		s.d.report(s.d.core.SetRecording(s.cur.Key, s.cur.RecordAction))
	}
}

func (s *callScreen) askTransfer() {
	c := s.cur
	if c == nil || !c.CanTransfer {
		return
	}
	s.d.askTargetWith(s.d.T("Transfer %s", c.Title), []targetAction{
		{label: s.d.T("Transfer now"), run: func(t string) { s.d.report(s.d.core.BlindTransfer(c.ID, t)) }},
		{label: s.d.T("Consult first"), run: func(t string) {
			_, err := s.d.core.Consult(c.ID, t)
			s.d.report(err)
		}},
	})
}

func (s *callScreen) askAddParty() {
	c := s.cur
	if c == nil || !c.CanConsult {
		return
	}
	s.d.askTarget(s.d.T("Add a party"), s.d.T("Call"), func(t string) {
		_, err := s.d.core.Consult(c.ID, t)
		s.d.report(err)
	})
}

// doHangup ends the call; in a conference it asks whether to leave (the
// others stay connected) or to end it for everybody.
func (s *callScreen) doHangup() {
	c := s.cur
	if c == nil {
		return
	}
	if !c.Conference {
		s.d.report(s.d.core.Hangup(c.ID))
		return
	}
	key := c.Key
	leave := widget.NewButton(s.d.T("Leave"), func() { s.d.report(s.d.core.LeaveConference(key)) })
	if !c.CanLeave {
		leave.Disable()
	}
	end := widget.NewButton(s.d.T("End for everyone"), func() { s.d.report(s.d.core.EndConference(key)) })
	end.Importance = widget.DangerImportance
	keep := widget.NewButton(s.d.T("Stay"), func() {})
	text := s.d.T("Leave the conference and let the others talk on, or end it for everyone?")
	if !c.CanLeave {
		text = s.d.T("You can leave only when exactly two other parties remain. End the conference for everyone?")
	}
	s.d.confirm(s.d.T("Hang up"), wrapped(text), leave, end, keep)
}

func (s *callScreen) render(v *viewmodel.View) {
	c := v.Call
	if c == nil || (s.cur != nil && s.cur.ID != c.ID) {
		s.keypad.Hide()
		s.dtmf.SetText("")
	}
	s.cur = c
	if c == nil {
		return
	}
	s.updating = true
	defer func() { s.updating = false }()
	setText(s.title, c.Title)
	setText(s.number, c.Number)
	showIf(s.number, c.Number != "")
	keyed := ""
	if c.DigitsReceived != "" {
		keyed = s.d.T("Keyed by the caller: %s", c.DigitsReceived)
	}
	setText(s.keyed, keyed)
	showIf(s.keyed, keyed != "")
	setText(s.state, c.State+" · "+c.Duration)
	flags := ""
	if c.Muted {
		flags = s.d.T("Muted")
	}
	if c.Announcement != "" {
		flags += " " + s.d.T("Playing: %s", c.Announcement)
	}
	setText(s.flags, flags)

	col := colorForbidden
	switch c.Record {
	case viewmodel.RecordLightOn:
		col = colorRecording
	case viewmodel.RecordLightPaused:
		col = colorPaused
	case viewmodel.RecordLightForbidden, viewmodel.RecordLightOff, viewmodel.RecordLightNone:
	}
	if s.recLight.FillColor != col {
		s.recLight.FillColor = col
		s.recLight.Refresh()
	}
	showIf(s.recLight, c.Record != viewmodel.RecordLightOff)
	setText(s.recText, c.RecordText)
	q := ""
	if c.Quality != nil {
		q = fmt.Sprintf("%s: %s", c.Quality.Grade, c.Quality.Text)
	}
	setText(s.quality, q)
	showIf(s.quality, q != "")

	if c.CanResume {
		if s.hold.Text != s.d.T("Resume") {
			s.hold.SetText(s.d.T("Resume"))
			s.hold.SetIcon(theme.MediaPlayIcon())
		}
	} else if s.hold.Text != s.d.T("Hold") {
		s.hold.SetText(s.d.T("Hold"))
		s.hold.SetIcon(theme.MediaPauseIcon())
	}
	setEnabled(s.hold, c.CanHold || c.CanResume)
	setButton(s.mute, map[bool]string{false: s.d.T("Mute"), true: s.d.T("Unmute")}[c.Muted])
	setEnabled(s.keypadBtn, c.CanDTMF)
	setEnabled(s.transfer, c.CanTransfer)
	setEnabled(s.addParty, c.CanConsult)
	setButton(s.record, c.RecordButton)
	setEnabled(s.record, c.RecordAction != domain.RecordUnknown)
	setEnabled(s.bookmark, c.Connected)
	showIf(s.announce, len(s.d.announce) > 0)
	setEnabled(s.announce, c.CanDTMF && c.Announcement == "")
	if s.doNotLog.Checked != c.DoNotLog {
		s.doNotLog.SetChecked(c.DoNotLog)
	}
	if cs := c.Consult; cs != nil {
		setText(s.consultLbl, s.d.T("Consulting %s (%s). %s is on hold.", cs.Target, cs.State, cs.Held))
		setEnabled(s.complete, cs.Connected && !c.Conference)
		setEnabled(s.merge, cs.Connected)
	}
	showIf(s.consultBox, c.Consult != nil)
	sig := ""
	for _, p := range c.Participants {
		sig += string(p.ID) + p.Label + p.State + "|"
	}
	if sig != s.partySig {
		s.partySig = sig
		rows := make([]fyne.CanvasObject, 0, len(c.Participants))
		for _, p := range c.Participants {
			id := p.ID
			drop := widget.NewButtonWithIcon(s.d.T("Drop %s", p.Label), theme.CancelIcon(), func() { s.d.report(s.d.core.Hangup(id)) })
			drop.Importance = widget.LowImportance
			rows = append(rows, container.NewBorder(nil, nil, nil, drop, widget.NewLabel(p.Label+" · "+p.State)))
		}
		s.parties.Objects = rows
		s.parties.Refresh()
	}
	showIf(s.confBox, c.Conference)
	s.renderNotes(c)
}

// renderNotes shows the notes box (Settings.AutoSaveNotes) with the
// notes the core holds for the call's interaction.
func (s *callScreen) renderNotes(c *viewmodel.Call) {
	showIf(s.notes, s.d.set.AutoSaveNotes)
	text := ""
	if ix := s.d.vm.Mirror.Interaction(c.Key); ix != nil {
		text = ix.Notes
	}
	// Only this box writes a call's notes while it is on the call screen,
	// so the core's text is taken only when another call is shown: taken
	// on every notification, an echo of an earlier key would undo what
	// the agent typed since.
	if c.Key != s.notesKey {
		s.notesKey, s.notesSent = c.Key, text
		if s.notes.Text != text {
			setEntryText(s.notes, text)
		}
	}
}
