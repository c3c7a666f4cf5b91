package ui

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

var update = flag.Bool("update", false, "rewrite the golden markup files under testdata")

// assertGolden compares the window's markup with testdata/name; -update
// rewrites it. A mismatch is written to testdata/failed/name for review.
func assertGolden(t *testing.T, name string, c fyne.Canvas) {
	t.Helper()
	got := test.RenderToMarkup(c)
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run: go test ./ui -run TestGoldenScreens -update)", path, err)
	}
	if string(want) == got {
		return
	}
	failed := filepath.Join("testdata", "failed", name)
	if err := os.MkdirAll(filepath.Dir(failed), 0o755); err == nil {
		_ = os.WriteFile(failed, []byte(got), 0o644)
	}
	t.Errorf("%s renders differently from %s; the new markup is in %s (review it, then -update)", name, path, failed)
}

// TestGoldenScreens pins the markup of the key screens (sign-in, idle,
// incoming call, active call after 65 s, wrap-up) under the test theme, a
// fixed window size and the rig's fixed clock.
func TestGoldenScreens(t *testing.T) {
	r := newRig(t)
	test.ApplyTheme(t, test.Theme())
	r.win.Resize(fyne.NewSize(900, 700))
	r.settle()
	r.wantScreen(viewmodel.ScreenLogin)
	assertGolden(t, "login.xml", r.win.Canvas())

	r.signIn()
	r.win.Canvas().Unfocus()
	r.settle()
	assertGolden(t, "idle.xml", r.win.Canvas())

	ada := domain.Party{Name: "Ada Lovelace", Number: "+441632960001"}
	r.post(domain.CallOffered{ID: "c1", Remote: ada})
	r.settle()
	r.wantScreen(viewmodel.ScreenIncoming)
	assertGolden(t, "incoming.xml", r.win.Canvas())

	r.tap(r.d.incoming.answer)
	r.rec.WaitFor(t, "Answer c1", effectWait)
	r.post(domain.CallAnswered{ID: "c1"})
	r.settle()
	r.clock.advance(65e9)
	r.d.Tick()
	r.settle()
	r.wantScreen(viewmodel.ScreenCall)
	assertGolden(t, "call.xml", r.win.Canvas())

	r.tap(r.d.call.hangup)
	r.settle()
	r.wantScreen(viewmodel.ScreenWrapUp)
	assertGolden(t, "wrapup.xml", r.win.Canvas())
}
