package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/sfemu"
)

// TestSearchCRM searches Salesforce (the emulator over real HTTP) with
// the signed-in agent's session: a number is looked up by number (the
// number comes back with the records, and the contact cache is refreshed),
// a name by name (records with their URLs, no number); without the CRM's
// sign-in, with the CRM down or with the query cancelled it says so.
func TestSearchCRM(t *testing.T) {
	emu := sfemu.New(sfemu.Config{})
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	ada, err := emu.Seed("Contact", sfemu.Record{"FirstName": "Ada", "LastName": "Lovelace", "Phone": "+441632960001"})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := emu.Seed("Account", sfemu.Record{"Name": "Lovelace Engines", "Phone": "+441632960002"})
	if err != nil {
		t.Fatal(err)
	}
	user := emu.AddUser("agent@emu.test", "Agent")
	emu.SetBrowserUser(user.ID)
	port, err := crmtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	a, err := Build(context.Background(), Config{
		DataDir: t.TempDir(), Demo: true, InstanceSocket: "off", ControlAddr: "off", Logger: quietLog(), Region: "GB", NoAudio: true,
		Salesforce: &salesforce.Config{LoginURL: emu.URL(), ClientID: sfemu.DefaultClientID, Keyring: crmtest.NewKeyring(),
			RedirectURL: fmt.Sprintf("http://localhost:%d/OauthRedirect", port), Opener: (&crmtest.Browser{}).Open,
			HTTPClient: &http.Client{Timeout: 10 * time.Second}, Location: time.UTC},
		Opener: crmtest.NewOpened().Open,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := a.SearchCRM(ctx, "lovelace", 10); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("search while signed out: %v", err)
	}
	if err := a.Agent.Login(domain.AgentInfo{ID: "a1"}, domain.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "sign-in needed", func() bool { _, needed := a.CRMState(); return needed })
	if _, err := a.SearchCRM(ctx, "lovelace", 10); !errors.Is(err, crm.ErrNoSession) {
		t.Fatalf("search before the crm sign-in: %v", err)
	}
	if err := a.SignInCRM(ctx); err != nil {
		t.Fatal(err)
	}

	byName, err := a.SearchCRM(ctx, "Lovelace", 10)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]CRMContact{}
	for _, c := range byName {
		ids[c.Record.ID] = c
	}
	if len(byName) != 2 || ids[ada].Record.Name != "Ada Lovelace" || ids[acct].Record.Name != "Lovelace Engines" {
		t.Fatalf("by name: %+v", byName)
	}
	for _, c := range byName {
		if c.Number != "" || c.Record.URL == "" {
			t.Fatalf("by name: %+v", c)
		}
	}

	byNumber, err := a.SearchCRM(ctx, "01632 960001", 10)
	if err != nil || len(byNumber) != 1 || byNumber[0].Record.ID != ada || byNumber[0].Number != "+441632960001" {
		t.Fatalf("by number: %+v %v", byNumber, err)
	}
	p, err := a.Store.Profile("a1")
	if err != nil {
		t.Fatal(err)
	}
	if cached, ok, err := p.LookupContacts("+441632960001"); err != nil || !ok || len(cached.Records) != 1 {
		t.Fatalf("contact cache after a search by number: %+v %v %v", cached, ok, err)
	}
	if none, err := a.SearchCRM(ctx, "nobody here", 10); err != nil || len(none) != 0 {
		t.Fatalf("no match: %+v %v", none, err)
	}

	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	if _, err := a.SearchCRM(cctx, "Lovelace", 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled search: %v", err)
	}
	if err := emu.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SearchCRM(ctx, "Lovelace", 10); err == nil {
		t.Fatal("search with the crm down answered")
	}
}

func TestLooksLikeNumber(t *testing.T) {
	for q, want := range map[string]bool{
		"+44 20 7946 0018": true, "01632 960001": true, "(030) 123-45": true, "555": true,
		"Lovelace": false, "Flat 22b": false, "12": false, "a1b2c3": false,
	} {
		if got := looksLikeNumber(q); got != want {
			t.Errorf("looksLikeNumber(%q) = %v", q, got)
		}
	}
}
