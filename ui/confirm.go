package ui

import (
	"time"

	"fyne.io/fyne/v2/widget"
)

// ConfirmTimeout is how long ConfirmDial waits for the agent before it
// cancels the call (below the single-instance socket's 30 s deadline, so
// the launching link still gets its answer).
const ConfirmTimeout = 25 * time.Second

// ConfirmDial asks the agent, in a modal confirmation over the window, whether a clicked link may dial target, when
// the agent's ConfirmLinks setting is on (off: it returns true at once).
// It blocks until the agent answers, the question times out
// (ConfirmTimeout: false) or the desk stops (false), so it must never be
// called on the UI goroutine; desktop.AgentHandler calls it from the
// single-instance socket's connection goroutine (app.Config.ConfirmLink).
func (d *Desk) ConfirmDial(target string) bool {
	answer := make(chan bool, 1)
	d.do(func() {
		if !d.set.ConfirmLinks {
			answer <- true
			return
		}
		if d.canvas == nil {
			d.log.Warn("a link asked to dial, but there is no window to confirm it in")
			answer <- false
			return
		}
		if d.win != nil {
			d.win.Show()
			d.win.RequestFocus()
		}
		reply := func(ok bool) func() {
			return func() {
				select {
				case answer <- ok:
				default:
				}
			}
		}
		call := widget.NewButton(d.T("Call"), reply(true))
		call.Importance = widget.HighImportance
		d.confirmDlg = d.confirm(d.T("Call from a link"), wrapped(d.T("A link asks to call %s. Call now?", target)),
			call, widget.NewButton(d.T("Cancel"), reply(false)))
	})
	done := d.ctx
	var stopped <-chan struct{}
	if done != nil {
		stopped = done.Done()
	}
	t := time.NewTimer(ConfirmTimeout)
	defer t.Stop()
	select {
	case ok := <-answer:
		return ok
	case <-t.C:
	case <-stopped:
	}
	d.do(func() {
		if d.confirmDlg != nil {
			d.confirmDlg.Hide()
		}
	})
	return false
}
