package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/callcentre/softphone/app"
	"github.com/callcentre/softphone/crm/local"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/store"
	"github.com/callcentre/softphone/ui"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// The desk's CRM-side sources: the in-app screen pop and the new-contact
// form over the local CRM (crm/local), search over the local directory,
// the store's contact cache and the history, and the CRM sync state over
// the outbox worker.

// popRelay carries the local CRM's screen pops (app.Config.OnScreenPop,
// called on the directory's goroutine) to the desk, which exists only
// after app.Build. A pop that arrives before the desk is kept (the latest
// one) and shown when the desk attaches.
type popRelay struct {
	mu      sync.Mutex
	desk    popTarget
	pending *ui.ScreenPop
}

// popTarget is what the relay shows pops on (*ui.Desk).
type popTarget interface{ ShowScreenPop(ui.ScreenPop) }

// show is app.Config.OnScreenPop.
func (r *popRelay) show(p app.ScreenPop) {
	up := popOf(p)
	r.mu.Lock()
	d := r.desk
	if d == nil {
		r.pending = &up
	}
	r.mu.Unlock()
	if d != nil {
		d.ShowScreenPop(up) // hands it to fyne.Do
	}
}

// attach sets the desk and shows a pop that came before it.
func (r *popRelay) attach(d popTarget) {
	r.mu.Lock()
	r.desk = d
	p := r.pending
	r.pending = nil
	r.mu.Unlock()
	if p != nil {
		d.ShowScreenPop(*p)
	}
}

// popOf converts the app's screen pop into the desk's.
func popOf(p app.ScreenPop) ui.ScreenPop {
	up := ui.ScreenPop{Key: p.Key, Number: p.Number}
	if p.Contact != nil {
		c := contactOf(*p.Contact)
		up.Contact = &c
	}
	return up
}

func contactOf(c local.Contact) ui.PopContact {
	return ui.PopContact{ID: c.ID, Name: c.Name, Company: c.Company, Email: c.Email, Phones: append([]string(nil), c.Phones...)}
}

// localDirectory is the part of *local.Directory the sources use.
type localDirectory interface {
	Add(in []local.Contact) (local.ImportReport, error)
	Contacts() []local.Contact
	Lookup(key, number string) error
	Search(text string, limit int) []local.Contact
}

// contactBook implements ui.ContactBook over the local directory.
type contactBook struct {
	dir localDirectory
}

// AddContact adds c to the signed-in agent's local directory and matches
// the caller of interaction key again, so the call shows the new contact.
func (b contactBook) AddContact(key string, c ui.PopContact) (ui.PopContact, error) {
	rep, err := b.dir.Add([]local.Contact{{Name: c.Name, Company: c.Company, Email: c.Email, Phones: c.Phones}})
	if err != nil {
		return ui.PopContact{}, err
	}
	if rep.Added+rep.Updated == 0 {
		if len(rep.Problems) > 0 {
			return ui.PopContact{}, fmt.Errorf("%w: %s", errBadContact, strings.Join(rep.Problems, "; "))
		}
		return ui.PopContact{}, errBadContact
	}
	var saved *local.Contact
	for _, x := range b.dir.Contacts() {
		if x.Name == c.Name && len(x.Phones) > 0 && (saved == nil || x.ID > saved.ID) {
			x := x
			saved = &x
		}
	}
	if saved == nil {
		return ui.PopContact{}, errBadContact
	}
	if key != "" {
		if err := b.dir.Lookup(key, saved.Phones[0]); err != nil {
			return contactOf(*saved), fmt.Errorf("contact saved, but the caller was not matched again: %w", err)
		}
	}
	return contactOf(*saved), nil
}

// profileSource gives the signed-in agent's store profile.
type profileSource interface {
	signedIn() (*store.Profile, error)
}

// crmSearcher searches the external CRM (*app.App).
type crmSearcher interface {
	SearchCRM(ctx context.Context, query string, limit int) ([]app.CRMContact, error)
}

// finder implements ui.Finder: the external CRM (live, by number or by
// name), the local directory (when it is the CRM), the store's cache of
// CRM matches (for a number, when the live CRM did not answer) and the
// call history.
type finder struct {
	dir     localDirectory // nil without the local CRM
	crm     crmSearcher    // nil without an external CRM
	profile profileSource
	history int // how many recent calls are searched
}

// historySearched is how many recent calls a search reads.
const historySearched = 500

// Search implements ui.Finder. The external CRM is asked on its own
// goroutine while the local sources are read; results are deduplicated by
// number in the order local directory, CRM, history. When the CRM cannot
// answer (down, sign-in needed), the rest is returned with an error
// saying so, and for a number the cached CRM matches stand in.
func (f finder) Search(ctx context.Context, query string, limit int) ([]ui.Contact, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" || limit <= 0 {
		return nil, nil
	}
	type crmAnswer struct {
		found []app.CRMContact
		err   error
	}
	var remote chan crmAnswer
	if f.crm != nil {
		remote = make(chan crmAnswer, 1)
		go func() {
			found, err := f.crm.SearchCRM(ctx, query, limit)
			remote <- crmAnswer{found, err}
		}()
	}
	var out []ui.Contact
	seen := map[string]bool{}
	add := func(c ui.Contact) bool {
		key := c.Number
		if key == "" {
			key = c.Source + "\x00" + c.Name + "\x00" + c.URL
		}
		if seen[key] {
			return len(out) < limit
		}
		seen[key] = true
		out = append(out, c)
		return len(out) < limit
	}
	if f.dir != nil {
		for _, c := range f.dir.Search(query, limit) {
			for _, n := range c.Phones {
				add(ui.Contact{Name: c.Name, Number: n, Source: "Contacts"})
			}
		}
	}
	p, err := f.profile.signedIn()
	if err != nil {
		return out[:min(len(out), limit)], err
	}
	var crmErr error
	var found []app.CRMContact
	live := false
	if remote != nil {
		select {
		case a := <-remote:
			crmErr, found = a.err, a.found
			live = a.err == nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	n := f.history
	if n <= 0 {
		n = historySearched
	}
	calls, histErr := p.History(store.ViewAll, n)
	// Each CRM record is offered once per number it can be dialled on:
	// the number it matched (a search by number), else the phones the CRM
	// answered with it and then the numbers the agent has called or been
	// called from for it (its calls' matched or chosen record). A record
	// whose numbers are all offered already (by another result), or that
	// has none, is still offered once without a number, to open it.
	numbers := recordNumbers(calls)
	for _, c := range found {
		added := false
		for _, num := range crmNumbers(c, numbers) {
			if !seen[num] {
				added = true
				add(ui.Contact{Name: c.Record.Name, Number: num, Source: "CRM", URL: c.Record.URL})
			}
		}
		if !added {
			add(ui.Contact{Name: c.Record.Name, Source: "CRM", URL: c.Record.URL})
		}
	}
	if !live && looksLikeNumber(q) {
		cached, ok, err := p.LookupContacts(query)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return out, err
		}
		if ok {
			for _, r := range cached.Records {
				add(ui.Contact{Name: r.Name, Number: cached.Number, Source: "CRM", URL: r.URL})
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if histErr != nil {
		return out[:min(len(out), limit)], histErr
	}
	digits := onlyDigits(q)
	for _, c := range calls {
		r := c.Log.Remote
		hit := strings.Contains(strings.ToLower(r.Name), q) ||
			(digits != "" && strings.Contains(onlyDigits(r.Number), digits))
		if hit && !add(ui.Contact{Name: r.Name, Number: r.Number, Source: "History"}) {
			break
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out = out[:min(len(out), limit)]
	if crmErr != nil && !errors.Is(crmErr, app.ErrNotSignedIn) {
		return out, fmt.Errorf("the CRM did not answer: %w", crmErr)
	}
	return out, nil
}

// crmNumbers are the numbers a CRM result is offered with, without
// repeats: the number it matched when the search was by number; else its
// record's phones (those with at least three digits: "ext. 42" is no
// number to dial), then known, the numbers of the agent's calls matched
// to the record.
func crmNumbers(c app.CRMContact, known map[string][]string) []string {
	if n := strings.TrimSpace(c.Number); n != "" {
		return []string{n}
	}
	var out []string
	note := func(n string) {
		n = strings.TrimSpace(n)
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, n := range c.Record.Phones {
		if len(onlyDigits(n)) >= 3 {
			note(n)
		}
	}
	if c.Record.ID != "" {
		for _, n := range known[c.Record.ID] {
			note(n)
		}
	}
	return out
}

// recordNumbers maps CRM record IDs to the numbers of the calls matched
// to them (the chosen record, else every match), most recent first.
func recordNumbers(calls []store.Call) map[string][]string {
	out := map[string][]string{}
	note := func(id, number string) {
		if id != "" && number != "" && !slices.Contains(out[id], number) {
			out[id] = append(out[id], number)
		}
	}
	for _, c := range calls {
		l := c.Log
		if l.RecordID != "" {
			note(l.RecordID, l.Remote.Number)
			continue
		}
		for _, m := range l.Matches {
			note(m.ID, l.Remote.Number)
		}
	}
	return out
}

func looksLikeNumber(s string) bool {
	d := onlyDigits(s)
	return len(d) >= 3 && len(d)*2 >= len(strings.ReplaceAll(s, " ", ""))
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// outboxSource is the part of *outbox.Worker the sync source uses.
type outboxSource interface {
	Status() outbox.Status
	DeadLetters(agentID string) ([]store.Entry, error)
	Resend(agentID string, id store.EntryID) error
}

// agentID is who is signed in ("" for nobody).
type agentID interface{ current() string }

// crmAccount is the part of *app.App the sync source uses for the external
// CRM's session.
type crmAccount interface {
	CRMState() (name string, signInNeeded bool)
	SignInCRM(ctx context.Context) error
}

// syncSource implements ui.Sync over the outbox worker, and ui.CRMSignIn
// over the app's CRM session.
type syncSource struct {
	ob     outboxSource
	crm    crmAccount    // nil: no interactive CRM sign-in
	device deviceAccount // nil: no device code sign-in
	who    agentID
	log    *slog.Logger
}

// SyncState implements ui.Sync (never blocks: the worker's status and the
// CRM session state are in memory).
func (s syncSource) SyncState() viewmodel.Sync {
	st := s.ob.Status()
	v := viewmodel.Sync{Pending: st.Pending, Failed: st.Dead, LastError: st.LastError}
	if st.Offline && v.LastError == "" {
		v.LastError = "the CRM cannot be reached"
	}
	if s.crm != nil {
		v.CRM, v.SignInNeeded = s.crm.CRMState()
	}
	return v
}

// SignInCRM implements ui.CRMSignIn: the CRM's browser sign-in for the
// signed-in agent.
func (s syncSource) SignInCRM(ctx context.Context) error {
	if s.crm == nil {
		return app.ErrNoCRM
	}
	return s.crm.SignInCRM(ctx)
}

// DeviceCodeOffered implements ui.CRMDeviceSignIn.
func (s syncSource) DeviceCodeOffered() bool { return s.device != nil && s.device.DeviceSignIn() }

// SignInCRMDeviceCode implements ui.CRMDeviceSignIn: the CRM's device code
// sign-in for the signed-in agent.
func (s syncSource) SignInCRMDeviceCode(ctx context.Context, show func(ui.DeviceCode)) error {
	if !s.DeviceCodeOffered() {
		return ui.ErrNotAvailable
	}
	_, err := s.device.SignInDeviceCode(ctx, false, func(dc app.DeviceCode) { show(deviceCodeOf(dc)) })
	return err
}

// Failed lists the signed-in agent's dead letters.
func (s syncSource) Failed() ([]ui.FailedLog, error) {
	id := s.who.current()
	if id == "" {
		return nil, errNotSignedIn
	}
	es, err := s.ob.DeadLetters(id)
	if err != nil {
		return nil, err
	}
	out := make([]ui.FailedLog, 0, len(es))
	for _, e := range es {
		f := ui.FailedLog{Key: entryKey(e.ID), At: e.CreatedAt, Error: e.LastError, Who: "?"}
		if l, err := e.Log(); err == nil {
			f.Who = l.Remote.Label()
			if !l.StartedAt.IsZero() {
				f.At = l.StartedAt
			}
		} else {
			s.log.Warn("unreadable dead letter", "err", err)
		}
		out = append(out, f)
	}
	return out, nil
}

// Resend puts a dead letter back in the queue.
func (s syncSource) Resend(key string) error {
	id := s.who.current()
	if id == "" {
		return errNotSignedIn
	}
	eid, err := parseEntryKey(key)
	if err != nil {
		return err
	}
	return s.ob.Resend(id, eid)
}

// entryKey is an outbox entry's ID as the desk's key: "seq@target".
func entryKey(id store.EntryID) string { return strconv.FormatUint(id.Seq, 10) + "@" + id.Target }

func parseEntryKey(key string) (store.EntryID, error) {
	seq, target, ok := strings.Cut(key, "@")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil || target == "" {
		return store.EntryID{}, fmt.Errorf("%w: %q", errBadEntryKey, key)
	}
	return store.EntryID{Target: target, Seq: n}, nil
}

// syncRelay forwards the outbox's changes (app.Config.OnOutboxChange, on
// the worker goroutine) to the desk, at most one queued refresh at a time:
// a drain of thousands of logs does not flood fyne.Do.
type syncRelay struct {
	desk    atomic.Pointer[func()]
	pending atomic.Bool
}

// changed is app.Config.OnOutboxChange; it never blocks.
func (r *syncRelay) changed(outbox.Status) {
	fn := r.desk.Load()
	if fn == nil || !r.pending.CompareAndSwap(false, true) {
		return
	}
	(*fn)()
}

// attach sets the refresh (it runs the desk's SyncChanged) and returns
// the done function the refresh calls when it has run.
func (r *syncRelay) attach(refresh func(done func())) {
	fn := func() { refresh(func() { r.pending.Store(false) }) }
	r.desk.Store(&fn)
}

// finderOf is the desk's finder over the app: the local directory when it
// is the CRM, else the external CRM's live search.
func finderOf(sp *app.App, profile profileSource) finder {
	f := finder{profile: profile}
	if sp.Local != nil {
		f.dir = sp.Local
	}
	if sp.Connector != nil {
		f.crm = sp
	}
	return f
}
