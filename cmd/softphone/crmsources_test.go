package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/app"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/local"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/store"
	"github.com/callcentre/softphone/ui"
)

type recordingDesk struct{ pops []ui.ScreenPop }

func (r *recordingDesk) ShowScreenPop(p ui.ScreenPop) { r.pops = append(r.pops, p) }

// TestContactBookFinderOverTheLocalCRM: the new-contact form adds to the
// real local directory in the agent's store profile and matches the caller
// again; search finds the directory, the CRM cache and the history.
func TestContactBookFinderOverTheLocalCRM(t *testing.T) {
	db, dir := openStore(t)
	core := &fakeCore{}
	core.set("a1")
	src := testSources(t, db, core, dir)
	p, err := db.Profile("a1")
	if err != nil {
		t.Fatal(err)
	}
	ld, err := local.New(local.NewStoreBackend(p), crm.NewNormalizer("US"))
	if err != nil {
		t.Fatal(err)
	}
	sink := make(savedSink, 10)
	ld.Attach(sink)
	book := contactBook{dir: ld}
	if _, err := book.AddContact("k1", ui.PopContact{Name: "No Number", Phones: []string{"not a number"}}); err == nil {
		t.Fatal("a contact without a usable number was saved")
	}
	saved, err := book.AddContact("k1", ui.PopContact{Name: "Max Mustermann", Company: "Beispiel", Phones: []string{"(202) 555-0143"}})
	if err != nil || saved.ID == "" || saved.Phones[0] != "+12025550143" {
		t.Fatalf("saved %+v %v", saved, err)
	}
	select {
	case in := <-sink:
		m, ok := in.(domain.CallerMatched)
		if !ok || m.Key != "k1" || len(m.Records) != 1 || m.Records[0].Name != "Max Mustermann" {
			t.Fatalf("caller matched again as %#v", in)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the caller was not matched again")
	}
	ld.Wait()
	// Durable: a fresh directory over the same profile has it.
	again, err := local.New(local.NewStoreBackend(p), crm.NewNormalizer("US"))
	if err != nil || len(again.Contacts()) != 1 {
		t.Fatalf("reloaded %+v %v", again.Contacts(), err)
	}

	if err := p.CacheContacts("+442079460018", []domain.CRMRecord{{ID: "003", Type: "Contact", Name: "Cached Person", URL: "https://crm.example/003"}}); err != nil {
		t.Fatal(err)
	}
	f := finder{dir: ld, profile: src}
	got, err := f.Search(context.Background(), "muster", 10)
	if err != nil || len(got) != 1 || got[0].Source != "Contacts" || got[0].Number != "+12025550143" {
		t.Fatalf("directory search %+v %v", got, err)
	}
	got, err = f.Search(context.Background(), "+44 20 7946 0018", 10)
	if err != nil || len(got) != 1 || got[0].Source != "CRM" || got[0].URL != "https://crm.example/003" {
		t.Fatalf("cache search %+v %v", got, err)
	}
	core.set("")
	if _, err := f.Search(context.Background(), "history", 10); err == nil {
		t.Fatal("search of the history while signed out")
	}
}

// TestPopRelayKeepsAnEarlyPop: a pop before the window exists is shown
// when the desk attaches; later pops go straight through.
func TestPopRelayKeepsAnEarlyPop(t *testing.T) {
	var r popRelay
	r.show(app.ScreenPop{Key: "k1", Contact: &local.Contact{ID: "L1", Name: "Carmen Diaz", Phones: []string{"+12025550143"}}})
	d := &recordingDesk{}
	r.attach(d)
	r.show(app.ScreenPop{Key: "k2", Number: "+12025550199"})
	if len(d.pops) != 2 || d.pops[0].Contact == nil || d.pops[0].Contact.Name != "Carmen Diaz" || d.pops[1].Contact != nil || d.pops[1].Number != "+12025550199" {
		t.Fatalf("pops %+v", d.pops)
	}
}

type fakeOutbox struct {
	st      outbox.Status
	dead    []store.Entry
	resent  []store.EntryID
	agentID string
}

func (f *fakeOutbox) Status() outbox.Status { return f.st }
func (f *fakeOutbox) DeadLetters(id string) ([]store.Entry, error) {
	f.agentID = id
	return f.dead, nil
}
func (f *fakeOutbox) Resend(id string, e store.EntryID) error {
	f.agentID = id
	f.resent = append(f.resent, e)
	return nil
}

// TestSyncSourceOverTheOutbox maps the worker's status and dead letters to
// the desk's and resends by the key it handed out.
func TestSyncSourceOverTheOutbox(t *testing.T) {
	db, dir := openStore(t)
	core := &fakeCore{}
	src := testSources(t, db, core, dir)
	payload, _ := json.Marshal(domain.CallLog{Key: "k1", Remote: domain.Party{Name: "Bob Jones", Number: "+12025550143"}})
	ob := &fakeOutbox{st: outbox.Status{Pending: 3, Dead: 1, LastError: "REQUIRED_FIELD_MISSING"},
		dead: []store.Entry{{ID: store.EntryID{Target: "salesforce", Seq: 7}, LastError: "REQUIRED_FIELD_MISSING", Payload: payload}}}
	s := syncSource{ob: ob, who: src, log: slog.New(slog.DiscardHandler)}
	if v := s.SyncState(); v.Pending != 3 || v.Failed != 1 || v.LastError != "REQUIRED_FIELD_MISSING" {
		t.Fatalf("sync state %+v", v)
	}
	if _, err := s.Failed(); err == nil {
		t.Fatal("dead letters listed while signed out")
	}
	core.set("a1")
	failed, err := s.Failed()
	if err != nil || len(failed) != 1 || failed[0].Who != "Bob Jones" || failed[0].Error != "REQUIRED_FIELD_MISSING" || ob.agentID != "a1" {
		t.Fatalf("failed %+v %v", failed, err)
	}
	if err := s.Resend(failed[0].Key); err != nil || len(ob.resent) != 1 || ob.resent[0] != (store.EntryID{Target: "salesforce", Seq: 7}) {
		t.Fatalf("resend %v %+v", err, ob.resent)
	}
	if err := s.Resend("garbage"); err == nil {
		t.Fatal("a garbage key was resent")
	}
	// The CRM session: its name and a sign-in that is still needed.
	if err := s.SignInCRM(context.Background()); !errors.Is(err, app.ErrNoCRM) {
		t.Fatalf("sign-in without an external crm: %v", err)
	}
	acct := &fakeCRMAccount{name: "Zendesk", needed: true}
	s.crm = acct
	if v := s.SyncState(); v.CRM != "Zendesk" || !v.SignInNeeded {
		t.Fatalf("sync state %+v", v)
	}
	if err := s.SignInCRM(context.Background()); err != nil || acct.needed {
		t.Fatalf("sign-in: %v", err)
	}
	if v := s.SyncState(); v.SignInNeeded {
		t.Fatalf("after the sign-in %+v", v)
	}
	// The relay queues at most one refresh until it has run.
	var rel syncRelay
	var refreshes []func()
	rel.attach(func(done func()) { refreshes = append(refreshes, done) })
	rel.changed(outbox.Status{})
	rel.changed(outbox.Status{})
	if len(refreshes) != 1 {
		t.Fatalf("%d refreshes queued", len(refreshes))
	}
	refreshes[0]()
	rel.changed(outbox.Status{})
	if len(refreshes) != 2 {
		t.Fatal("no refresh after the last one ran")
	}
}

type fakeCRMAccount struct {
	name   string
	needed bool
}

func (f *fakeCRMAccount) CRMState() (string, bool) { return f.name, f.needed }

func (f *fakeCRMAccount) SignInCRM(context.Context) error {
	f.needed = false
	return nil
}
