package ui

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/callcentre/softphone/agent/domain"
)

// fakeBook records contacts added through the new-contact form.
type fakeBook struct {
	mu    sync.Mutex
	added []PopContact
	keys  []string
	fail  error
}

func (f *fakeBook) AddContact(key string, c PopContact) (PopContact, error) {
	defer enter()()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return PopContact{}, f.fail
	}
	c.ID = "local-1"
	f.added = append(f.added, c)
	f.keys = append(f.keys, key)
	return c, nil
}

// popFrom hands a screen pop to the desk from another goroutine, as the
// local CRM does, and waits until the dispatcher ran it.
func (r *rig) popFrom(p ScreenPop) {
	r.t.Helper()
	done := make(chan struct{})
	go func() { r.d.ShowScreenPop(p); close(done) }()
	<-done
	r.settle()
}

// TestScreenPopShowsTheMatchedContact: a pop from the local CRM's goroutine
// goes through the dispatcher and shows the contact next to the ringing
// call; closing it hides it; a sign-out clears it.
func TestScreenPopShowsTheMatchedContact(t *testing.T) {
	r := newRig(t)
	r.popFrom(ScreenPop{Key: "k0", Contact: &PopContact{Name: "Early Bird"}})
	if r.d.pop.content.Visible() {
		t.Fatal("a pop was shown while nobody is signed in")
	}
	r.signIn()
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+442079460018"}})
	key := r.d.view.Incoming.Key
	r.popFrom(ScreenPop{Key: key, Contact: &PopContact{ID: "l1", Name: "Olivia Brown", Company: "Northwind", Email: "olivia@example.com", Phones: []string{"+442079460018"}}})
	if !visible(r.win.Canvas(), r.d.pop.content) {
		t.Fatal("the screen pop is not shown")
	}
	r.assertShown("Olivia Brown")
	r.assertShown("Northwind\nolivia@example.com\n+442079460018")
	if r.d.pop.form.Visible() {
		t.Fatal("the new-contact form is shown for a matched contact")
	}
	// The call can still be answered with the pop open.
	r.tap(r.d.incoming.answer)
	r.rec.WaitFor(t, "Answer c1", effectWait)
	r.post(domain.CallAnswered{ID: "c1"})
	r.tap(r.d.pop.close)
	if r.d.pop.content.Visible() {
		t.Fatal("closed pop still shown")
	}
	r.popFrom(ScreenPop{Key: key, Contact: &PopContact{Name: "Olivia Brown", Phones: []string{"+442079460018"}}})
	r.d.chooseStatus(domain.Status{Presence: domain.PresenceOffline})
	r.post(domain.CallEnded{ID: "c1", Cause: domain.CauseRemoteHangup})
	r.d.wrap.outcome.SetSelected("Resolved")
	r.settle()
	r.tap(r.d.wrap.done)
	r.until("signed out", func() bool { return !r.d.vm.SignedIn() })
	r.settle()
	if r.d.pop.content.Visible() || strings.Contains(r.texts(), "Olivia") {
		t.Fatal("the contact is still shown after sign-out")
	}
}

// TestNewContactFormSavesToTheDirectory: "New CRM contact" on a caller
// with no match opens the form (through the core and the local CRM's pop),
// a missing name is refused in words, a failing save keeps what was typed,
// and a good save adds the contact and shows its card.
func TestNewContactFormSavesToTheDirectory(t *testing.T) {
	book := &fakeBook{}
	r := newRig(t, withOpts(WithContactBook(book)))
	r.signIn()
	r.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930222"}})
	key := r.d.view.Incoming.Key
	r.post(domain.CallerMatched{Key: key})
	r.tap(r.d.incoming.newRec)
	r.rec.WaitFor(t, "PopNew "+key, effectWait)
	// The local CRM answers ScreenPopNew with the form for the number.
	r.popFrom(ScreenPop{Key: key, Number: "+4930222"})
	if !visible(r.win.Canvas(), r.d.pop.form) || r.d.pop.phoneIn.Text != "+4930222" {
		t.Fatalf("form shown %v, phone %q", r.d.pop.form.Visible(), r.d.pop.phoneIn.Text)
	}
	r.tap(r.d.pop.save)
	r.assertShown("Enter the contact's name")
	r.d.pop.nameIn.SetText("Max Mustermann")
	r.d.pop.companyIn.SetText("Beispiel GmbH")
	book.mu.Lock()
	book.fail = errors.New("disk full")
	book.mu.Unlock()
	r.tap(r.d.pop.save)
	r.assertShown("The contact could not be saved: disk full")
	if r.d.pop.nameIn.Text != "Max Mustermann" || r.d.pop.companyIn.Text != "Beispiel GmbH" {
		t.Fatal("a failed save lost what was typed")
	}
	book.mu.Lock()
	book.fail = nil
	book.mu.Unlock()
	r.tap(r.d.pop.save)
	book.mu.Lock()
	added, keys := book.added, book.keys
	book.mu.Unlock()
	if len(added) != 1 || added[0].Name != "Max Mustermann" || added[0].Company != "Beispiel GmbH" ||
		len(added[0].Phones) != 1 || added[0].Phones[0] != "+4930222" || keys[0] != key {
		t.Fatalf("added %+v for %q", added, keys)
	}
	r.assertToast("Contact saved")
	if r.d.pop.form.Visible() || !r.d.pop.card.Visible() {
		t.Fatal("the saved contact's card is not shown")
	}
	r.assertShown("Max Mustermann")
}
