package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
)

// Auto-saved notes (Settings.AutoSaveNotes). With the setting on:
//
//   - the call screen has a Notes box; what the agent types there goes to
//     the core as they type (Core.SetNotes), so the notes stay with the
//     call when the agent switches lines or the call ends, and the
//     wrap-up screen opens with them;
//   - the notes typed on the call and wrap-up screens are also saved on
//     this PC (NoteDrafts) a moment after the agent stops typing
//     (draftDelay), so a crash or a restart loses none: after the next
//     sign-in the desk offers back the drafts of calls that never reached
//     the call log (copy them, keep them, or discard them). A draft is
//     dropped once its call has left the core (logged, or "do not log").
//
// With it off, notes are typed in wrap-up only and kept in memory, as
// before.

// draftDelay is how long after the last key a draft is saved.
const draftDelay = 2 * time.Second

// draftOp is one write to the NoteDrafts source.
type draftOp struct {
	draft NoteDraft
	drop  bool
}

// draftKeeper saves and drops drafts in order, one write batch at a time.
// Its fields are touched only on the UI goroutine; the writes run in
// background work.
type draftKeeper struct {
	src     NoteDrafts
	delay   time.Duration
	pending map[string]NoteDraft // typed, not yet handed to a write
	saved   map[string]bool      // keys with a draft written (or being written)
	ops     []draftOp            // waiting for the write in flight
	timer   *time.Timer
	busy    bool // a write batch is running
	warned  bool // a failed write has been reported
	offered bool // the leftover drafts were offered since the last sign-in
}

// noteTyped records the notes of interaction key (UI goroutine).
func (d *Desk) noteTyped(key, who, notes string) {
	k := d.drafts
	if k == nil || key == "" || !d.set.AutoSaveNotes {
		return
	}
	k.pending[key] = NoteDraft{Key: key, Who: who, Notes: notes, At: d.now()}
	if k.timer == nil {
		k.timer = time.AfterFunc(k.delay, func() { d.do(d.flushDrafts) })
	}
}

// flushDrafts hands the pending drafts to the writer (UI goroutine).
func (d *Desk) flushDrafts() {
	k := d.drafts
	if k == nil {
		return
	}
	if k.timer != nil {
		k.timer.Stop()
		k.timer = nil
	}
	for key, dr := range k.pending {
		k.ops = append(k.ops, draftOp{draft: dr})
		k.saved[key] = true
	}
	clear(k.pending)
	d.writeDrafts()
}

// writeDrafts runs the queued writes in one background batch; the next
// batch starts when it has finished, so writes reach the source in order.
func (d *Desk) writeDrafts() {
	k := d.drafts
	if k.busy || len(k.ops) == 0 {
		return
	}
	if d.ctx != nil && d.ctx.Err() != nil {
		return // stopped
	}
	ops := k.ops
	k.ops, k.busy = nil, true
	d.background(func(context.Context) {
		var first error
		for _, op := range ops {
			var err error
			if op.drop {
				err = k.src.DropDraft(op.draft.Key)
			} else {
				err = k.src.SaveDraft(op.draft)
			}
			if err != nil && first == nil {
				first = err
			}
		}
		d.do(func() {
			k.busy = false
			if first != nil {
				d.log.Error("note draft write failed", "err", first)
				if !k.warned {
					k.warned = true
					d.toast(domain.NoticeError, d.T("Your notes could not be saved on this PC: %s", first.Error()))
				}
			}
			d.writeDrafts()
		})
	})
}

// sweepDrafts drops the drafts of interactions the core no longer holds
// (UI goroutine, after every notification).
func (d *Desk) sweepDrafts() {
	k := d.drafts
	if k == nil || (len(k.saved) == 0 && len(k.pending) == 0) {
		return
	}
	live := map[string]bool{}
	for _, ix := range d.vm.Mirror.Interactions {
		live[ix.Key] = true
	}
	for key := range k.pending {
		if !live[key] {
			delete(k.pending, key)
		}
	}
	dropped := false
	for key := range k.saved {
		if !live[key] {
			delete(k.saved, key)
			k.ops = append(k.ops, draftOp{draft: NoteDraft{Key: key}, drop: true})
			dropped = true
		}
	}
	if dropped {
		d.writeDrafts()
	}
}

// offerDrafts shows the drafts of calls that never reached the call log
// (the app ended during the call or its wrap-up), once per sign-in.
func (d *Desk) offerDrafts() {
	k := d.drafts
	if k == nil || k.offered {
		return
	}
	k.offered = true
	d.background(func(context.Context) {
		drafts, err := k.src.Drafts()
		d.do(func() {
			if err != nil {
				d.toast(domain.NoticeError, d.T("Notes saved on this PC could not be read: %s", err.Error()))
				return
			}
			var left []NoteDraft
			for _, dr := range drafts {
				if d.vm.Mirror.Interaction(dr.Key) == nil && !k.saved[dr.Key] && strings.TrimSpace(dr.Notes) != "" {
					left = append(left, dr)
				}
			}
			if len(left) > 0 {
				d.showDrafts(left)
			}
		})
	})
}

// showDrafts asks what to do with leftover drafts: copy them to the
// clipboard, keep them for later, or discard them.
func (d *Desk) showDrafts(left []NoteDraft) {
	var all strings.Builder
	rows := widget.NewMultiLineEntry()
	for i, dr := range left {
		if i > 0 {
			all.WriteString("\n\n")
		}
		all.WriteString(dr.Who + " · " + dr.At.Local().Format("02.01. 15:04") + "\n" + dr.Notes)
	}
	rows.SetText(all.String())
	rows.Wrapping = fyne.TextWrapWord
	rows.SetMinRowsVisible(6)
	copyAll := widget.NewButton(d.T("Copy"), func() {
		if a := fyne.CurrentApp(); a != nil {
			a.Clipboard().SetContent(all.String())
		}
		d.toast(domain.NoticeInfo, d.T("The notes are on the clipboard"))
	})
	copyAll.Importance = widget.HighImportance
	discard := widget.NewButton(d.T("Discard"), func() {
		for _, dr := range left {
			d.drafts.ops = append(d.drafts.ops, draftOp{draft: NoteDraft{Key: dr.Key}, drop: true})
		}
		d.writeDrafts()
	})
	keep := widget.NewButton(d.T("Keep for later"), nil)
	d.confirm(d.T("Notes of calls that were not wrapped up (the app closed)"), rows, copyAll, keep, discard)
}
