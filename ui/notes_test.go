package ui

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// fakeDrafts is a NoteDrafts kept in memory (the profile on disk in the
// app), shared by the rigs of one test as the disk is by two runs.
type fakeDrafts struct {
	mu    sync.Mutex
	m     map[string]NoteDraft
	fail  error
	saves int
}

func newFakeDrafts() *fakeDrafts { return &fakeDrafts{m: map[string]NoteDraft{}} }

func (f *fakeDrafts) SaveDraft(d NoteDraft) error {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.saves++
	f.m[d.Key] = d
	return nil
}

func (f *fakeDrafts) DropDraft(key string) error {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, key)
	return nil
}

func (f *fakeDrafts) Drafts() ([]NoteDraft, error) {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []NoteDraft
	for _, d := range f.m {
		out = append(out, d)
	}
	return out, nil
}

func (f *fakeDrafts) get(key string) (NoteDraft, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.m[key]
	return d, ok
}

func (f *fakeDrafts) count() (n, saves int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m), f.saves
}

// draftRig is a rig whose agent saves notes automatically into drafts,
// with a short debounce (the test waits for the save, never sleeps).
func draftRig(t *testing.T, drafts *fakeDrafts, autoSave bool) *rig {
	t.Helper()
	r := newRig(t, withOpts(WithNoteDrafts(drafts)))
	r.d.drafts.delay = time.Millisecond
	r.settings.s.AutoSaveNotes = autoSave
	r.d.loadSettings()
	r.settle()
	return r
}

// TestAutoSaveNotes: notes typed on the call screen reach the core as
// they are typed (so wrap-up opens with them), are saved on this PC as
// a draft, and the draft is dropped once the call is logged.
func TestAutoSaveNotes(t *testing.T) {
	drafts := newFakeDrafts()
	r := draftRig(t, drafts, true)
	r.signIn()
	r.answerCall("c1", domain.Party{Name: "Ada Lovelace", Number: "+4930111"})
	notes := r.d.call.notes
	if !visible(r.win.Canvas(), notes) {
		t.Fatal("the call screen has no notes box with auto-save on")
	}
	test.Type(notes, "Wants a refund")
	r.settle()
	r.until("the draft saved", func() bool { d, ok := drafts.get("c1"); return ok && d.Notes == "Wants a refund" })
	if d, _ := drafts.get("c1"); d.Who != "Ada Lovelace" {
		t.Fatalf("draft %+v", d)
	}
	if ix := r.d.vm.Mirror.Interaction("c1"); ix == nil || ix.Notes != "Wants a refund" {
		t.Fatalf("the core's notes: %+v", ix)
	}
	r.tap(r.d.call.hangup)
	r.rec.WaitFor(t, "Hangup c1", effectWait)
	r.post(domain.CallEnded{ID: "c1", Cause: domain.CauseLocalHangup})
	r.wantScreen(viewmodel.ScreenWrapUp)
	if r.d.wrap.notes.Text != "Wants a refund" {
		t.Fatalf("wrap-up notes %q", r.d.wrap.notes.Text)
	}
	test.Type(r.d.wrap.notes, ", sent")
	r.settle()
	r.until("the wrap-up draft saved", func() bool { d, _ := drafts.get("c1"); return d.Notes == "Wants a refund, sent" })
	r.d.wrap.outcome.SetSelected("Resolved")
	r.settle()
	r.tap(r.d.wrap.done)
	r.rec.WaitFor(t, "SaveLog c1", effectWait)
	if logs := r.rec.Logs(); len(logs) != 1 || logs[0].Notes != "Wants a refund, sent" {
		t.Fatalf("call log %+v", logs)
	}
	r.until("the draft dropped", func() bool { n, _ := drafts.count(); return n == 0 })
}

// TestAutoSaveNotesOff: without the setting the call screen has no notes
// box and nothing is written to the PC.
func TestAutoSaveNotesOff(t *testing.T) {
	drafts := newFakeDrafts()
	r := draftRig(t, drafts, false)
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111"})
	if visible(r.win.Canvas(), r.d.call.notes) {
		t.Fatal("notes box shown with auto-save off")
	}
	r.tap(r.d.call.hangup)
	r.post(domain.CallEnded{ID: "c1", Cause: domain.CauseLocalHangup})
	test.Type(r.d.wrap.notes, "typed")
	r.settle()
	if r.d.drafts.timer != nil || len(r.d.drafts.pending) != 0 {
		t.Fatal("a draft was queued with auto-save off")
	}
	if _, saves := drafts.count(); saves != 0 {
		t.Fatalf("%d drafts saved with auto-save off", saves)
	}
}

// TestNoteDraftsAfterACrash: the app ended during a call; after the next
// start and sign-in its notes are offered back and can be discarded.
func TestNoteDraftsAfterACrash(t *testing.T) {
	drafts := newFakeDrafts()
	first := draftRig(t, drafts, true)
	first.signIn()
	first.answerCall("c1", domain.Party{Name: "Ada Lovelace", Number: "+4930111"})
	test.Type(first.d.call.notes, "Call back on Monday")
	first.settle()
	first.until("the draft saved", func() bool { d, _ := drafts.get("c1"); return d.Notes == "Call back on Monday" })
	// The crash: this desk and core are gone without a wrap-up.

	r := draftRig(t, drafts, true)
	r.signIn()
	r.until("the drafts offered", func() bool { return r.d.modal != nil && r.d.modal.Visible() })
	if !strings.Contains(entryTexts(r), "Call back on Monday") {
		t.Fatalf("the leftover notes are not shown: %q", entryTexts(r))
	}
	r.tap(r.findButton("Copy"))
	if got := r.app.Clipboard().Content(); !strings.Contains(got, "Ada Lovelace") || !strings.Contains(got, "Call back on Monday") {
		t.Fatalf("clipboard %q", got)
	}
	r.until("the dialog closed", func() bool { return !r.d.modal.Visible() })
	r.d.drafts.offered = false
	r.d.offerDrafts()
	r.until("the drafts offered again", func() bool { return r.d.modal.Visible() })
	r.tap(r.findButton("Discard"))
	r.until("the draft dropped", func() bool { n, _ := drafts.count(); return n == 0 })
}

// TestNoteDraftWriteFails: a draft that cannot be written is reported
// once; the notes stay in the call.
func TestNoteDraftWriteFails(t *testing.T) {
	drafts := newFakeDrafts()
	drafts.fail = errors.New("disk full")
	r := draftRig(t, drafts, true)
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111"})
	test.Type(r.d.call.notes, "x")
	r.settle()
	r.until("the failure reported", func() bool { return strings.Contains(r.texts(), "disk full") })
	if ix := r.d.vm.Mirror.Interaction("c1"); ix == nil || ix.Notes != "x" {
		t.Fatalf("the core's notes: %+v", ix)
	}
}

// entryTexts returns the text of every visible entry (dialogs first).
func entryTexts(r *rig) string {
	var b strings.Builder
	r.walkVisible(func(o fyne.CanvasObject) {
		if e, ok := o.(*widget.Entry); ok {
			b.WriteString(e.Text + "\n")
		}
	})
	return b.String()
}

// TestWrapUpNotesKeepFastTyping: the core's view of the notes can lag
// behind the keyboard; an older text of ours coming back must not undo
// what has been typed since (it replaced the entry's text, and the
// letters typed after it were lost). A quick note still lands in the
// entry: TestSettingsApplyDuringTheShift.
func TestWrapUpNotesKeepFastTyping(t *testing.T) {
	r := draftRig(t, newFakeDrafts(), false)
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111"})
	r.tap(r.d.call.hangup)
	r.post(domain.CallEnded{ID: "c1", Cause: domain.CauseLocalHangup})
	r.settle()
	test.Type(r.d.wrap.notes, "ab")
	// The view from between the two keystrokes arrives late.
	v := r.d.vm.View(time.Now())
	if v.WrapUp == nil {
		t.Fatal("no wrap-up")
	}
	stale := *v.WrapUp
	stale.Notes = "a"
	v.WrapUp = &stale
	r.d.wrap.render(&v)
	if got := r.d.wrap.notes.Text; got != "ab" {
		t.Fatalf("notes %q after a late view of an earlier keystroke, want \"ab\"", got)
	}
	r.settle()
	if got := r.d.wrap.notes.Text; got != "ab" {
		t.Fatalf("notes %q after settling, want \"ab\"", got)
	}
}
