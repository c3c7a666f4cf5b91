package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
)

// TestTooltips: with the setting on, resting the pointer on a button
// (call, incoming, header, idle) shows what it does and its shortcut
// under it; moving away or
// tapping hides it; with the setting off nothing is shown.
func TestTooltips(t *testing.T) {
	r := newRig(t)
	r.signIn()
	// The header's and the idle screen's buttons have theirs too.
	for b, want := range map[*widget.Button]string{
		r.d.header.status: "Change your status", r.d.header.settings: "Audio devices, accounts",
		r.d.header.crm: "Call logs waiting for the CRM", r.d.idle.dial: "Call the number in the box",
		r.d.idle.backspace: "Delete the last digit"} {
		tb := r.d.tips[b]
		if tb == nil {
			t.Errorf("the %q button has no tooltip", b.Text)
			continue
		}
		tb.MouseIn(&desktop.MouseEvent{})
		if got := r.d.Tooltip(); !strings.HasPrefix(got, want) {
			t.Errorf("the %q button's tooltip is %q", b.Text, got)
		}
		tb.MouseOut()
	}
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
