package crm_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/sfemu"
	"github.com/callcentre/softphone/store"
)

var quiet = slog.New(slog.DiscardHandler)

type dirEnv struct {
	emu    *sfemu.Server
	sess   crm.Session
	prof   *store.Profile
	opened *crmtest.Opened
	sink   *crmtest.Sink
	dir    *crm.Directory
	ana    string
}

func newDirEnv(tb testing.TB, opts ...crm.DirectoryOption) *dirEnv {
	tb.Helper()
	emu := sfemu.New(sfemu.Config{})
	if err := emu.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = emu.Close() })
	ana, _ := emu.Seed("Contact", sfemu.Record{"FirstName": "Ana", "LastName": "Diaz", "Phone": "(415) 555-1212"})
	_, _ = emu.Seed("Contact", sfemu.Record{"FirstName": "Al", "LastName": "Diaz", "MobilePhone": "+1 415-555-1212"})
	_, _ = emu.Seed("Lead", sfemu.Record{"LastName": "Solo", "Phone": "+44 20 7946 0018"})
	port, err := crmtest.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	b := &crmtest.Browser{}
	conn, err := salesforce.New(salesforce.Config{LoginURL: emu.URL(), ClientID: sfemu.DefaultClientID,
		RedirectURL: fmt.Sprintf("http://localhost:%d/OauthRedirect", port), Keyring: crmtest.NewKeyring(),
		Opener: b.Open, Logger: quiet, HTTPClient: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess, err := conn.SignIn(ctx, "alice", crm.SignInOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	norm := crm.NewNormalizer("US")
	db, err := store.Open(tb.TempDir(), store.WithLogger(quiet), store.WithNormalizer(norm.E164))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	prof, err := db.Profile("alice")
	if err != nil {
		tb.Fatal(err)
	}
	e := &dirEnv{emu: emu, sess: sess, prof: prof, opened: crmtest.NewOpened(), sink: crmtest.NewSink(1024), ana: ana}
	e.dir = crm.NewDirectory(norm, append([]crm.DirectoryOption{crm.WithOpener(e.opened.Open), crm.WithDirectoryLogger(quiet)}, opts...)...)
	e.dir.Attach(e.sink)
	e.dir.SetSession(sess, prof)
	return e
}

func (e *dirEnv) match(tb testing.TB, key, number string) domain.CallerMatched {
	tb.Helper()
	if err := e.dir.Lookup(key, number); err != nil {
		tb.Fatal(err)
	}
	select {
	case in := <-e.sink.C:
		m, ok := in.(domain.CallerMatched)
		// The number comes back as it was asked, so the core can tell a
		// lookup for an earlier party from the current one.
		if !ok || m.Key != key || m.Number != number {
			tb.Fatalf("posted %#v", in)
		}
		return m
	case <-time.After(30 * time.Second):
		tb.Fatal("no CallerMatched")
	}
	return domain.CallerMatched{}
}

func TestDirectoryLookupCacheAndScreenPop(t *testing.T) {
	e := newDirEnv(t)
	m := e.match(t, "k1", "4155551212")
	if m.Err != "" || len(m.Records) != 2 {
		t.Fatalf("two contacts share the number; got %+v", m)
	}
	solo := e.match(t, "k2", "+44 20 7946 0018")
	if len(solo.Records) != 1 || solo.Records[0].Type != "Lead" {
		t.Fatalf("international number: %+v", solo)
	}
	if none := e.match(t, "k3", "+1 212 555 0100"); none.Err != "" || len(none.Records) != 0 {
		t.Fatalf("no match: %+v", none)
	}
	// The CRM goes away: caller ID still works from the store's cache,
	// in any format of the number.
	_ = e.emu.Stop()
	cached := e.match(t, "k4", "+1 (415) 555-1212")
	if cached.Err != "" || len(cached.Records) != 2 || cached.Records[0].ID != m.Records[0].ID {
		t.Fatalf("offline caller id from the cache: %+v", cached)
	}
	miss := e.match(t, "k5", "+1 646 555 0199")
	if miss.Err == "" {
		t.Fatalf("uncached number while offline should report the failure: %+v", miss)
	}
	if strings.Contains(miss.Err, "5550199") {
		t.Fatalf("the failure text carries the phone number: %q", miss.Err)
	}
	if err := e.dir.Lookup("k6", "not a number"); err == nil {
		t.Fatal("garbage number accepted")
	}

	if err := e.dir.ScreenPop("k1", domain.CRMRecord{ID: e.ana, Type: "Contact"}); err != nil {
		t.Fatal(err)
	}
	u, ok := e.opened.Next(10 * time.Second)
	if !ok || u != e.emu.URL()+"/lightning/r/Contact/"+e.ana+"/view" {
		t.Fatalf("screen pop opened %q", u)
	}
	if err := e.dir.ScreenPopNew("k3", "(212) 555-0100"); err != nil {
		t.Fatal(err)
	}
	u, _ = e.opened.Next(10 * time.Second)
	if !strings.HasSuffix(u, "/lightning/o/Contact/new?defaultFieldValues=Phone%3D%2B12125550100") {
		t.Fatalf("new contact opened %q", u)
	}
	e.dir.SetSession(nil, nil)
	if err := e.dir.ScreenPopNew("k3", "2125550100"); err == nil {
		t.Fatal("screen pop without a session accepted")
	}
	e.dir.Wait()
}

func TestNormalizer(t *testing.T) {
	n := crm.NewNormalizer("US")
	tests := []struct{ in, e164 string }{
		{"(415) 555-1212", "+14155551212"},
		{"+44 20 7946 0018", "+442079460018"},
		{"tel:+1-415-555-1212", "+14155551212"},
		{"sip:+14155551212@pbx.example;user=phone", "+14155551212"},
		{"011 44 20 7946 0018", "+442079460018"},
	}
	for _, tt := range tests {
		got, err := n.E164(tt.in)
		if err != nil || got != tt.e164 {
			t.Errorf("E164(%q) = %q, %v; want %q", tt.in, got, err, tt.e164)
		}
	}
	gb := crm.NewNormalizer("gb")
	if got, err := gb.E164("020 7946 0018"); err != nil || got != "+442079460018" {
		t.Errorf("GB national: %q %v", got, err)
	}
	for _, bad := range []string{"", "abc", "12", "tel:"} {
		if _, err := n.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	p, _ := n.Parse("+1 415 555 1212")
	for stored, want := range map[string]int{"(415) 555-1212": 2, "415.555.1212": 2, "555-1212": 0, "+44 415 555 1212": 1, "": 0} {
		if got := n.Match(p, stored); got != want {
			t.Errorf("Match(%q) = %d, want %d", stored, got, want)
		}
	}
}

func FuzzNormalizer(f *testing.F) {
	for _, s := range []string{"(415) 555-1212", "+44 20 7946 0018", "tel:+1", "sip:x@y", "0000000000000000000"} {
		f.Add(s)
	}
	n := crm.NewNormalizer("US")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := n.Parse(s)
		if err != nil {
			return
		}
		if !strings.HasPrefix(p.E164, "+") || p.National == "" {
			t.Fatalf("Parse(%q) = %+v", s, p)
		}
		again, err := n.Parse(p.E164)
		if err != nil || again.E164 != p.E164 {
			t.Fatalf("E.164 %q does not parse back to itself: %+v %v", p.E164, again, err)
		}
	})
}

// BenchmarkLookup reports caller lookup latency from Lookup to the posted
// CallerMatched: through the CRM (SOSL over HTTP on loopback) and from the
// store's contact cache.
func BenchmarkLookup(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []crm.DirectoryOption
	}{
		{"crm", nil},
		{"cache", []crm.DirectoryOption{crm.WithCacheFresh(time.Hour)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newDirEnv(b, bc.opts...)
			e.match(b, "warm", "4155551212")
			b.ResetTimer()
			for i := range b.N {
				if m := e.match(b, fmt.Sprint("k", i), "4155551212"); len(m.Records) != 2 {
					b.Fatalf("%+v", m)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/lookup")
		})
	}
}

// popSession is a Salesforce session whose CRM can also pop records from
// the server side (as Zendesk's display API does).
type popSession struct {
	crm.Session
	handled bool
	err     error
	popped  chan domain.CRMRecord
}

func (p *popSession) PopRecord(_ context.Context, rec domain.CRMRecord) (bool, error) {
	p.popped <- rec
	return p.handled, p.err
}

func TestDirectoryServerSidePopFallsBackToTheURL(t *testing.T) {
	e := newDirEnv(t)
	rec := domain.CRMRecord{ID: e.ana, Type: "Contact"}
	for _, c := range []struct {
		name        string
		handled     bool
		err         error
		wantBrowser bool
	}{
		{"popped in the CRM tab", true, nil, false},
		{"no open CRM session", false, nil, true},
		{"pop API failed", false, fmt.Errorf("display api: 500"), true},
	} {
		ps := &popSession{Session: e.sess, handled: c.handled, err: c.err, popped: make(chan domain.CRMRecord, 1)}
		e.dir.SetSession(ps, e.prof)
		if err := e.dir.ScreenPop("k-"+c.name, rec); err != nil {
			t.Fatal(err)
		}
		e.dir.Wait()
		select {
		case got := <-ps.popped:
			if got.ID != e.ana {
				t.Fatalf("%s: popped %+v", c.name, got)
			}
		default:
			t.Fatalf("%s: the server-side pop was not tried", c.name)
		}
		u, opened := e.opened.Next(10 * time.Millisecond)
		if opened != c.wantBrowser || (opened && !strings.Contains(u, e.ana)) {
			t.Fatalf("%s: browser opened %v (%q)", c.name, opened, u)
		}
	}
}
