package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"

	"github.com/callcentre/softphone/agent/domain"
)

// TestTooltips: with the setting on, resting the pointer on a call
// button shows what it does and its shortcut under it; moving away or
// tapping hides it; with the setting off nothing is shown.
func TestTooltips(t *testing.T) {
	r := newRig(t)
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111"})
	hold := r.d.tips[r.d.call.hold]
	if hold == nil {
		t.Fatal("the hold button has no tooltip")
	}
	if !r.d.set.Tooltips {
		t.Fatal("tooltips are on by default")
	}
	test.MoveMouse(r.win.Canvas(), fyne.CurrentApp().Driver().AbsolutePositionForObject(hold).AddXY(5, 5))
	if got := r.d.Tooltip(); got != "Hold or resume the call (Ctrl+Shift+H)" && got != "Hold or resume the call (Cmd+Shift+H)" {
		t.Fatalf("tooltip %q", got)
	}
	// Under the button, not over it.
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(r.d.tipShown.Content)
	if top := fyne.CurrentApp().Driver().AbsolutePositionForObject(hold); pos.Y < top.Y+hold.Size().Height {
		t.Fatalf("tooltip at %v covers the button at %v", pos, top)
	}
	test.MoveMouse(r.win.Canvas(), fyne.NewPos(1, 1))
	if got := r.d.Tooltip(); got != "" {
		t.Fatalf("tooltip %q after the pointer left", got)
	}
	hang := r.d.tips[r.d.call.hangup]
	hang.MouseIn(&desktop.MouseEvent{})
	if !strings.HasPrefix(r.d.Tooltip(), "End the call (") {
		t.Fatalf("hang-up tooltip %q", r.d.Tooltip())
	}
	r.tap(r.d.call.hangup)
	if got := r.d.Tooltip(); got != "" {
		t.Fatalf("tooltip %q after the tap", got)
	}

	// Off: nothing is shown.
	r.d.set.Tooltips = false
	r.post(domain.CallOffered{ID: "c2", Remote: domain.Party{Number: "+4930222"}})
	ans := r.d.tips[r.d.incoming.answer]
	ans.MouseIn(&desktop.MouseEvent{})
	if got := r.d.Tooltip(); got != "" {
		t.Fatalf("tooltip %q with tooltips off", got)
	}
	r.d.set.Tooltips = true
	ans.MouseIn(&desktop.MouseEvent{})
	if !strings.HasPrefix(r.d.Tooltip(), "Answer the call (") {
		t.Fatalf("answer tooltip %q", r.d.Tooltip())
	}
}
