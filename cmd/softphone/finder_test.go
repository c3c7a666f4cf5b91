package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/app"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/sfemu"
	"github.com/callcentre/softphone/ui"
)

// TestFinderSearchesSalesforce: the desk's finder over the real app asks
// Salesforce (the emulator over real HTTP) by name and by number, marks
// what it found as the CRM's, and when the CRM goes down answers from the
// contact cache with an error saying the CRM did not answer.
func TestFinderSearchesSalesforce(t *testing.T) {
	emu := sfemu.New(sfemu.Config{})
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	ada, err := emu.Seed("Contact", sfemu.Record{"FirstName": "Ada", "LastName": "Lovelace", "Phone": "+441632960001"})
	if err != nil {
		t.Fatal(err)
	}
	emu.SetBrowserUser(emu.AddUser("agent@emu.test", "Agent").ID)
	port, err := crmtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	a, err := app.Build(context.Background(), app.Config{
		DataDir: t.TempDir(), Demo: true, InstanceSocket: "off", ControlAddr: "off", Logger: log, Region: "GB", NoAudio: true,
		Salesforce: &salesforce.Config{LoginURL: emu.URL(), ClientID: sfemu.DefaultClientID, Keyring: crmtest.NewKeyring(),
			RedirectURL: fmt.Sprintf("http://localhost:%d/OauthRedirect", port), Opener: (&crmtest.Browser{}).Open,
			HTTPClient: &http.Client{Timeout: 10 * time.Second}, Location: time.UTC},
		Opener: crmtest.NewOpened().Open,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	src, err := newSources(a.Store, a.Agent, nil, a.AgentConfig, t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	f := finderOf(a, src)
	if f.crm == nil || f.dir != nil {
		t.Fatalf("finder over salesforce: %+v", f)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := a.Agent.Login(domain.AgentInfo{ID: "a1"}, a.AgentConfig); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for err := a.SignInCRM(ctx); err != nil; err = a.SignInCRM(ctx) {
		if err != app.ErrNotSignedIn || time.Now().After(deadline) { // the watcher may not have seen the login yet
			t.Fatalf("crm sign-in: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for src.current() != "a1" {
		if time.Now().After(deadline) {
			t.Fatal("agent not signed in")
		}
		time.Sleep(20 * time.Millisecond)
	}

	// By name the record comes with its phone (Salesforce's Phone field,
	// read through SOSL), so the desk offers to dial it.
	got, err := f.Search(ctx, "lovelace", 20)
	if err != nil || len(got) != 1 || got[0] != (ui.Contact{Name: "Ada Lovelace", Number: "+441632960001", Source: "CRM", URL: got[0].URL}) ||
		!strings.Contains(got[0].URL, ada) {
		t.Fatalf("by name: %+v %v", got, err)
	}
	got, err = f.Search(ctx, "+44 1632 960001", 20)
	if err != nil || len(got) != 1 || got[0].Number != "+441632960001" || got[0].Source != "CRM" {
		t.Fatalf("by number: %+v %v", got, err)
	}

	if err := emu.Stop(); err != nil {
		t.Fatal(err)
	}
	got, err = f.Search(ctx, "+44 1632 960001", 20)
	if err == nil || !strings.Contains(err.Error(), "the CRM did not answer") {
		t.Fatalf("crm down: %v", err)
	}
	if len(got) != 1 || got[0].Name != "Ada Lovelace" || got[0].Source != "CRM" {
		t.Fatalf("cached answer with the crm down: %+v", got)
	}
	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	if got, err := f.Search(cctx, "lovelace", 20); err == nil || len(got) != 0 {
		t.Fatalf("cancelled search: %+v %v", got, err)
	}
}
