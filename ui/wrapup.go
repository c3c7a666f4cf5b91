package ui

import (
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/ui/viewmodel"
)

// wrapScreen is after-call work: outcome (with a required marker), notes
// with quick notes, "do not log", the countdown with Extend, and Wrap call.
type wrapScreen struct {
	d          *Desk
	content    fyne.CanvasObject
	title      *widget.Label
	outcomeLbl *widget.Label
	outcome    *widget.Select
	freeText   *widget.Entry
	notes      *widget.Entry
	quick      *fyne.Container
	quickSig   string
	doNotLog   *widget.Check
	countdown  *widget.ProgressBar
	remaining  *widget.Label
	extend     *widget.Button
	done       *widget.Button
	pending    *widget.Label

	key      string
	sent     string   // the notes last sent to the core (or taken from it)
	inflight []string // notes sent and not yet seen back from the core, oldest first
	seen     string   // the core's notes at the last render
	who      string   // the customer (the note draft's label)
	updating bool
}

func newWrapScreen(d *Desk) *wrapScreen {
	s := &wrapScreen{d: d}
	s.title = widget.NewLabel("")
	s.title.SizeName = theme.SizeNameSubHeadingText
	s.title.Truncation = fyne.TextTruncateEllipsis
	s.outcomeLbl = widget.NewLabel(d.T("Outcome"))
	s.outcome = widget.NewSelect(nil, func(o string) {
		if !s.updating && s.key != "" && o != "" {
			d.report(d.core.SetOutcome(s.key, o))
		}
	})
	s.outcome.PlaceHolder = d.T("Choose the outcome")
	s.freeText = widget.NewEntry()
	s.freeText.SetPlaceHolder(d.T("Outcome"))
	s.freeText.OnSubmitted = func(o string) {
		if s.key != "" {
			d.report(d.core.SetOutcome(s.key, o))
		}
	}
	s.freeText.OnChanged = func(o string) {
		if !s.updating && s.key != "" {
			d.report(d.core.SetOutcome(s.key, o))
		}
	}
	s.notes = widget.NewMultiLineEntry()
	s.notes.SetPlaceHolder(d.T("Notes"))
	s.notes.Wrapping = fyne.TextWrapWord
	s.notes.SetMinRowsVisible(4)
	s.notes.OnChanged = func(text string) {
		if s.updating || s.key == "" {
			return
		}
		s.send(text)
		d.noteTyped(s.key, s.who, text)
	}
	s.quick = container.NewHBox()
	s.doNotLog = widget.NewCheck(d.T("Do not log this call"), func(on bool) {
		if !s.updating && s.key != "" {
			d.report(d.core.SetDoNotLog(s.key, on))
		}
	})
	s.countdown = widget.NewProgressBar()
	s.countdown.Max = 1
	s.remaining = widget.NewLabel("")
	s.countdown.TextFormatter = func() string { return s.remaining.Text }
	s.extend = widget.NewButtonWithIcon(d.T("Extend"), theme.ContentAddIcon(), func() {
		if s.key != "" {
			d.report(d.core.ExtendWrapUp(s.key))
		}
	})
	s.done = widget.NewButtonWithIcon(d.T("Wrap call"), theme.ConfirmIcon(), s.finish)
	s.done.Importance = widget.HighImportance
	s.pending = widget.NewLabel("")
	s.content = container.NewPadded(container.NewVBox(
		s.title,
		container.NewBorder(nil, nil, s.outcomeLbl, nil, container.NewStack(s.outcome, s.freeText)),
		s.notes, s.quick, s.doNotLog,
		container.NewBorder(nil, nil, nil, s.extend, s.countdown),
		s.done, s.pending))
	return s
}

func (s *wrapScreen) finish() {
	if s.key == "" {
		return
	}
	// Notes typed in the last moment are sent first: the core applies
	// commands in order.
	if s.notes.Text != s.sent {
		s.send(s.notes.Text)
	}
	s.d.report(s.d.core.CompleteWrapUp(s.key))
}

// maxInflight bounds the notes remembered as on their way to the core (a
// core that never echoes them must not grow the list per keystroke).
const maxInflight = 64

// send hands text to the core and remembers it until the core's view
// shows it.
func (s *wrapScreen) send(text string) {
	s.sent = text
	s.inflight = append(s.inflight, text)
	if len(s.inflight) > maxInflight {
		s.inflight = s.inflight[len(s.inflight)-maxInflight:]
	}
	s.d.report(s.d.core.SetNotes(s.key, text))
}

func (s *wrapScreen) render(v *viewmodel.View) {
	w := v.WrapUp
	if w == nil {
		s.key = ""
		return
	}
	s.updating = true
	defer func() { s.updating = false }()
	if w.Key != s.key {
		s.key = w.Key
		s.sent, s.seen, s.inflight = w.Notes, w.Notes, nil
		setEntryText(s.notes, w.Notes)
		s.freeText.SetText(w.Outcome)
	} else if w.Notes != s.seen {
		s.seen = w.Notes
		if i := slices.Index(s.inflight, w.Notes); i >= 0 {
			// Our own keystrokes coming back, perhaps behind what has
			// been typed since: the entry already has them.
			s.inflight = s.inflight[i+1:]
		} else if len(s.inflight) == 0 {
			// Changed elsewhere (a quick note): take the core's text.
			s.sent = w.Notes
			setEntryText(s.notes, w.Notes)
		}
		// Otherwise what we sent since is on its way and replaces it.
	}
	s.who = w.Title
	setText(s.title, s.d.T("Wrap-up: %s", w.Title))
	label := s.d.T("Outcome")
	if w.Required {
		label = s.d.T("Outcome (required) *")
	}
	setText(s.outcomeLbl, label)
	imp := widget.MediumImportance
	if w.Missing {
		imp = widget.DangerImportance
	}
	if s.outcomeLbl.Importance != imp {
		s.outcomeLbl.Importance = imp
		s.outcomeLbl.Refresh()
	}
	listed := len(w.Outcomes) > 0
	showIf(s.outcome, listed)
	showIf(s.freeText, !listed)
	if listed {
		if !equalStrings(s.outcome.Options, w.Outcomes) {
			s.outcome.SetOptions(w.Outcomes)
		}
		if s.outcome.Selected != w.Outcome {
			s.outcome.SetSelected(w.Outcome)
		}
	}
	sig := ""
	for _, q := range w.QuickNotes {
		sig += q + "|"
	}
	if sig != s.quickSig {
		s.quickSig = sig
		objs := make([]fyne.CanvasObject, 0, len(w.QuickNotes))
		for _, q := range w.QuickNotes {
			objs = append(objs, widget.NewButton("+ "+q, func() {
				if s.key != "" {
					// The core applies commands in order: the notes it
					// shows after this note supersede everything sent
					// before, so they are taken as they come.
					s.inflight = nil
					s.d.report(s.d.core.AddQuickNote(s.key, q))
				}
			}))
		}
		s.quick.Objects = objs
		s.quick.Refresh()
	}
	if s.doNotLog.Checked != w.DoNotLog {
		s.doNotLog.SetChecked(w.DoNotLog)
	}
	showIf(s.countdown, w.HasTimer || w.Overdue)
	if s.remaining.Text != w.Remaining || s.countdown.Value != w.Progress {
		s.remaining.Text = w.Remaining
		s.countdown.SetValue(w.Progress)
	}
	showIf(s.extend, w.HasTimer)
	setEnabled(s.extend, w.CanExtend)
	setEnabled(s.done, !w.Missing)
	p := ""
	if w.Pending > 0 {
		p = s.d.T("%d more calls wait for wrap-up", w.Pending)
	}
	setText(s.pending, p)
	showIf(s.pending, p != "")
}
