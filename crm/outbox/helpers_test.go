package outbox_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/sfemu"
	"github.com/callcentre/softphone/store"
)

var quiet = slog.New(slog.DiscardHandler)

func logger() *slog.Logger {
	if os.Getenv("CRM_TEST_VERBOSE") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return quiet
}

type env struct {
	emu     *sfemu.Server
	keyring *crmtest.Keyring
	cfg     salesforce.Config
	conn    *salesforce.Connector
}

func newEnv(tb testing.TB, timeout time.Duration) *env {
	tb.Helper()
	emu := sfemu.New(sfemu.Config{})
	if err := emu.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = emu.Close() })
	port, err := crmtest.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	e := &env{emu: emu, keyring: crmtest.NewKeyring()}
	browser := &crmtest.Browser{}
	e.cfg = salesforce.Config{LoginURL: emu.URL(), ClientID: sfemu.DefaultClientID,
		RedirectURL: fmt.Sprintf("http://localhost:%d/OauthRedirect", port), Keyring: e.keyring,
		Opener: browser.Open, HTTPClient: &http.Client{Timeout: timeout}, Logger: quiet, Location: time.UTC}
	if e.conn, err = salesforce.New(e.cfg); err != nil {
		tb.Fatal(err)
	}
	return e
}

// signIn signs agent in as a new emulator user and returns that user.
func (e *env) signIn(tb testing.TB, agent string) sfemu.User {
	tb.Helper()
	u := e.emu.AddUser(agent+"@emu.test", agent)
	e.emu.SetBrowserUser(u.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.conn.SignIn(ctx, agent, crm.SignInOptions{}); err != nil {
		tb.Fatal(err)
	}
	return u
}

func openStore(tb testing.TB, dir string) *store.DB {
	tb.Helper()
	db, err := store.Open(dir, store.WithLogger(quiet), store.WithQueueSize(4096))
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

func mkLog(agent string, i int) domain.CallLog {
	t0 := time.Date(2026, 5, 7, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	return domain.CallLog{Key: fmt.Sprintf("%s-call-%05d", agent, i), AgentID: agent, Direction: domain.DirectionInbound,
		Remote: domain.Party{Number: "+14155551212"}, StartedAt: t0, AnsweredAt: t0.Add(3 * time.Second),
		EndedAt: t0.Add(2 * time.Minute), Talk: 117 * time.Second, Outcome: "Resolved", Notes: "notes"}
}

// enqueue saves logs through the store's CallLogger (the path the agent
// uses) and waits until all are durable; it returns the idempotency keys.
func enqueue(tb testing.TB, db *store.DB, logs []domain.CallLog) map[string]bool {
	tb.Helper()
	sink := crmtest.NewSink(len(logs))
	cl := db.NewCallLogger(salesforce.Name)
	cl.Attach(sink)
	keys := map[string]bool{}
	for _, l := range logs {
		for {
			err := cl.SaveCallLog(l)
			if err == nil {
				break
			}
			if err != store.ErrQueueFull {
				tb.Fatal(err)
			}
			time.Sleep(time.Millisecond)
		}
		keys[store.IdempotencyKey(l.AgentID, l.Key, salesforce.Name)] = true
	}
	for range logs {
		select {
		case in := <-sink.C:
			if f, ok := in.(domain.CallLogFailed); ok {
				tb.Fatalf("save failed: %v", f.Reason)
			}
		case <-time.After(2 * time.Minute):
			tb.Fatal("call logs not saved")
		}
	}
	return keys
}

// waitDrained waits until no agent has anything left to deliver.
func waitDrained(tb testing.TB, db *store.DB, w *outbox.Worker, limit time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		agents, err := db.OutboxAgents()
		if err != nil {
			tb.Fatal(err)
		}
		if len(agents) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tb.Fatalf("outbox not drained within %v: %+v", limit, w.Status())
}

// assertExactlyOnce checks one Task per key, nothing else, each written
// once and never patched.
func assertExactlyOnce(tb testing.TB, emu *sfemu.Server, keys map[string]bool) {
	tb.Helper()
	tasks := emu.Records("Task")
	seen := map[string]int{}
	for _, t := range tasks {
		k, _ := t[sfemu.DefaultExternalIDField].(string)
		seen[k]++
	}
	lost, dup, extra := 0, 0, 0
	for k := range keys {
		switch seen[k] {
		case 0:
			lost++
		case 1:
		default:
			dup++
		}
	}
	for k := range seen {
		if !keys[k] {
			extra++
		}
	}
	patched := 0
	for _, n := range emu.TaskWrites() {
		if n != 1 {
			patched++
		}
	}
	if lost != 0 || dup != 0 || extra != 0 || patched != 0 || len(tasks) != len(keys) {
		tb.Fatalf("%d tasks for %d logs: %d lost, %d duplicated, %d unexpected, %d patched after creation",
			len(tasks), len(keys), lost, dup, extra, patched)
	}
}
