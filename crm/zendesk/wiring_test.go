package zendesk_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/zendesk"
	"github.com/callcentre/softphone/crm/zendeskemu"
	"github.com/callcentre/softphone/secrets"
)

// The Directory (the agent's domain.Directory) pops through Zendesk when
// the agent has Zendesk open, and opens the record's URL otherwise.
func TestDirectoryPopsServerSideOrFallsBackToTheURL(t *testing.T) {
	f := newFixture(t, zendeskemu.Config{TalkPartnerEdition: true}, func(c *zendesk.Config) { c.TalkDisplay = true })
	ada := f.emu.AddContact("Ada Lovelace", "+14155551212", "")
	s := f.signIn(t, "alice")
	opened := crmtest.NewOpened()
	d := crm.NewDirectory(crm.NewNormalizer("US"), crm.WithOpener(opened.Open), crm.WithDirectoryLogger(slog.New(slog.DiscardHandler)))
	sink := crmtest.NewSink(4)
	d.Attach(sink)
	d.SetSession(s, nil)
	if err := d.Lookup("call-1", "(415) 555-1212"); err != nil {
		t.Fatal(err)
	}
	var recs []domain.CRMRecord
	select {
	case in := <-sink.C:
		m, ok := in.(domain.CallerMatched)
		if !ok || len(m.Records) != 1 {
			t.Fatalf("lookup posted %#v", in)
		}
		recs = m.Records
	case <-time.After(30 * time.Second):
		t.Fatal("no CallerMatched")
	}
	if recs[0].ID != itoa(ada.ID) || recs[0].URL != f.emu.URL()+"/agent/users/"+itoa(ada.ID) {
		t.Fatalf("record %+v", recs[0])
	}
	// Agent not online in Zendesk: the browser opens the URL.
	if err := d.ScreenPop("call-1", recs[0]); err != nil {
		t.Fatal(err)
	}
	if u, ok := opened.Next(30 * time.Second); !ok || u != recs[0].URL {
		t.Fatalf("fallback opened %q %v", u, ok)
	}
	// Online: Zendesk pops it, no browser tab.
	f.emu.SetAgentOnline(f.emu.AgentID("u0001"), true)
	if err := d.ScreenPop("call-1", recs[0]); err != nil {
		t.Fatal(err)
	}
	d.Wait()
	if u, ok := opened.Next(200 * time.Millisecond); ok {
		t.Fatalf("browser opened %q although Zendesk popped", u)
	}
	if len(f.emu.Pops()) != 1 {
		t.Fatalf("pops %+v", f.emu.Pops())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// No log line carries a token, a phone number or a notes body, on the
// happy path or the failing ones.
func TestLogsCarryNoSecretsNumbersOrNotes(t *testing.T) {
	var out syncBuffer
	f := newFixture(t, zendeskemu.Config{}, func(c *zendesk.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	f.emu.AddContact("Ada Lovelace", "+14155551212", "")
	s := f.signIn(t, "alice")
	var secretsSeen []string
	for _, k := range []secrets.Kind{secrets.KindAccessToken, secrets.KindRefreshToken} {
		v, _ := f.keyring.Get("alice", zendesk.Name, k)
		secretsSeen = append(secretsSeen, v)
	}
	f.emu.ExpireAccessTokens()
	if _, err := s.LookupPhone(ctx(t), phone(t, "+14155551212")); err != nil {
		t.Fatal(err)
	}
	logOne(t, s, item("alice", "k1", false, callLog("alice", "c1")))
	for _, k := range []secrets.Kind{secrets.KindAccessToken, secrets.KindRefreshToken} {
		v, _ := f.keyring.Get("alice", zendesk.Name, k)
		secretsSeen = append(secretsSeen, v)
	}
	f.emu.RevokeRefreshTokens()
	_, _ = s.LookupPhone(ctx(t), phone(t, "+14155551212"))
	s = f.signIn(t, "alice")
	if err := s.SignOut(ctx(t)); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if !strings.Contains(text, "signed out") || !strings.Contains(text, "refreshed") {
		t.Fatalf("expected log lines missing:\n%s", text)
	}
	for _, bad := range append(secretsSeen, "4155551212", "555-1212", "invoice") {
		if bad != "" && strings.Contains(text, bad) {
			t.Fatalf("log carries %q:\n%s", bad, text)
		}
	}
}
