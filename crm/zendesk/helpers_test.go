package zendesk_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/zendesk"
	"github.com/callcentre/softphone/crm/zendeskemu"
)

type fixture struct {
	emu     *zendeskemu.Server
	conn    *zendesk.Connector
	keyring *crmtest.Keyring
	browser *crmtest.Browser
	cfg     zendesk.Config
}

func newFixture(t testing.TB, emuCfg zendeskemu.Config, mod func(*zendesk.Config)) *fixture {
	t.Helper()
	emu := zendeskemu.New(emuCfg)
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	port, err := crmtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{emu: emu, keyring: crmtest.NewKeyring(), browser: &crmtest.Browser{}}
	f.cfg = zendesk.Config{
		BaseURL:     emu.URL(),
		ClientID:    zendeskemu.DefaultClientID,
		RedirectURL: fmt.Sprintf("http://127.0.0.1:%d/zendesk/callback", port),
		Keyring:     f.keyring,
		Opener:      f.browser.Open,
		HTTPClient:  &http.Client{Timeout: 10 * time.Second},
		Logger:      slog.New(slog.DiscardHandler),
	}
	if mod != nil {
		mod(&f.cfg)
	}
	f.conn = f.newConn(t, f.cfg)
	return f
}

func (f *fixture) newConn(t testing.TB, cfg zendesk.Config) *zendesk.Connector {
	t.Helper()
	c, err := zendesk.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) signIn(t testing.TB, agent string) *zendesk.Session {
	t.Helper()
	s, err := f.conn.SignIn(ctx(t), agent, crm.SignInOptions{Timeout: time.Minute})
	if err != nil {
		t.Fatalf("sign in: %v (browser: %v)", err, f.browser.Wait())
	}
	return s.(*zendesk.Session)
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func phone(t *testing.T, raw string) crm.Phone {
	t.Helper()
	p, err := crm.NewNormalizer("US").Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func callLog(agent, key string) domain.CallLog {
	t0 := time.Date(2026, 5, 7, 9, 30, 0, 0, time.UTC)
	return domain.CallLog{Key: key, AgentID: agent, Direction: domain.DirectionInbound,
		Remote: domain.Party{Number: "+14155551212", Name: "Ada Lovelace"}, DialedNumber: "+18005550100",
		Queue: "Support", StartedAt: t0, AnsweredAt: t0.Add(4 * time.Second), EndedAt: t0.Add(3*time.Minute + 9*time.Second),
		Talk: 3*time.Minute + 5*time.Second, Hold: 20 * time.Second, Outcome: "Resolved",
		Notes: "asked about the invoice", Recordings: []string{"https://rec.example/r/1.wav"}}
}

func item(agent, key string, mayExist bool, l domain.CallLog) crm.LogItem {
	return crm.LogItem{Key: key, AgentID: agent, MayExist: mayExist, Log: l}
}

func logOne(t *testing.T, s crm.Session, it crm.LogItem) crm.LogResult {
	t.Helper()
	res, err := s.LogCalls(ctx(t), []crm.LogItem{it})
	if err != nil {
		t.Fatalf("log calls: %v", err)
	}
	if len(res) != 1 {
		t.Fatalf("%d results for one item", len(res))
	}
	return res[0]
}

func kindIs(t *testing.T, err error, want crm.Kind) *crm.Error {
	t.Helper()
	if got := crm.KindOf(err); got != want {
		t.Fatalf("error %v: kind %v, want %v", err, got, want)
	}
	var ce *crm.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *crm.Error", err)
	}
	return ce
}
