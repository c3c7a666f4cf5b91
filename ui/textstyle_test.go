package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
)

// TestDeskUsesPlainAndBoldTextOnly: every text style Fyne draws parses
// its own copies of the theme, emoji and symbol fonts and loads a system
// font (about 9 MB of RSS each, make ui-figures), so the desk's screens
// draw regular and bold text only (bold: Fyne's own tabs and forms use
// it anyway). An italic or monospace text anywhere fails here, hidden
// ones included (they load their fonts when shown).
func TestDeskUsesPlainAndBoldTextOnly(t *testing.T) {
	r := newRig(t)
	check := func(screen string) {
		t.Helper()
		var walk func(o fyne.CanvasObject)
		walk = func(o fyne.CanvasObject) {
			var st fyne.TextStyle
			var text string
			switch x := o.(type) {
			case *widget.Label:
				st, text = x.TextStyle, x.Text
			case *widget.Entry:
				st, text = x.TextStyle, x.Text
			case *canvas.Text:
				st, text = x.TextStyle, x.Text
			}
			if st.Italic || st.Monospace || st.Symbol {
				t.Errorf("%s: %q is drawn %+v", screen, text, st)
			}
			for _, ch := range children(o) {
				walk(ch)
			}
		}
		for _, ov := range r.win.Canvas().Overlays().List() {
			walk(ov)
		}
		walk(r.win.Canvas().Content())
	}
	check("login")
	r.signIn()
	check("idle")
	r.answerCall("c1", domain.Party{Number: "+4930123", Name: "Ann"})
	r.settle()
	check("call")
	r.d.ShowSettings()
	r.settle()
	check("settings")
}
