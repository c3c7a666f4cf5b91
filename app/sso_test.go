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
	"github.com/callcentre/softphone/secrets"
	"github.com/callcentre/softphone/store"
)

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSignInWithSalesforce signs an agent in to the desk with their
// Salesforce identity against the emulator over real HTTP, the browser
// step played by the test: a refused login leaves nothing behind; an
// accepted one on a shared PC forces a fresh login, takes the agent ID
// from the Salesforce username, keeps the tokens under that agent only,
// and the core's sign-in finds the CRM session ready (caller lookup in
// Salesforce works at once).
func TestSignInWithSalesforce(t *testing.T) {
	emu := sfemu.New(sfemu.Config{})
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	contactID, err := emu.Seed("Contact", sfemu.Record{"FirstName": "Ada", "LastName": "Lovelace", "Phone": "+441632960001"})
	if err != nil {
		t.Fatal(err)
	}
	user := emu.AddUser("Alice.Agent@Emu.Test", "Alice Agent")
	port, err := crmtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	keyring := crmtest.NewKeyring()
	browser := &crmtest.Browser{}
	a, err := Build(context.Background(), Config{
		DataDir: t.TempDir(), Demo: true, InstanceSocket: "off", ControlAddr: "off", Logger: quietLog(), Region: "GB", NoAudio: true,
		Salesforce: &salesforce.Config{LoginURL: emu.URL(), ClientID: sfemu.DefaultClientID, Keyring: keyring,
			RedirectURL: fmt.Sprintf("http://localhost:%d/OauthRedirect", port), Opener: browser.Open,
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
	if got := a.SSOName(); got != "Salesforce" {
		t.Fatalf("SSOName %q", got)
	}
	if a.DeviceSignIn() {
		t.Fatal("salesforce offers a device code sign-in")
	}
	if err := a.Store.PutMachineSettings(store.MachineSettings{Shared: true}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The agent refuses (or fails) the login in the browser.
	emu.SetBrowserUser("")
	if who, err := a.SignInSSO(ctx); err == nil {
		t.Fatalf("refused login signed %+v in", who)
	}
	if n := keyring.Len(); n != 0 {
		t.Fatalf("a refused sign-in left %d secrets in the keyring", n)
	}
	if st := a.Agent.Snapshot(); st.SignedIn() {
		t.Fatal("a refused sign-in signed an agent in")
	}

	emu.SetBrowserUser(user.ID)
	who, err := a.SignInSSO(ctx)
	if err != nil {
		t.Fatalf("sign in with salesforce: %v", err)
	}
	if who.ID != "alice.agent@emu.test" || who.Name != "Alice Agent" {
		t.Fatalf("signed in as %+v", who)
	}
	if p := emu.LastPrompt(); p != "login" {
		t.Fatalf("shared pc: prompt %q, want a fresh login", p)
	}
	if rt, err := keyring.Get(who.ID, salesforce.Name, secrets.KindRefreshToken); err != nil || rt == "" {
		t.Fatalf("refresh token under the agent: %q %v", rt, err)
	}
	if n := keyring.Len(); n != 2 { // the agent's refresh and access tokens, nothing else
		t.Fatalf("%d secrets in the keyring after the sign-in", n)
	}

	cfg := domain.DefaultConfig()
	cfg.LoginStatus = domain.Status{Presence: domain.PresenceAvailable}
	if err := a.Agent.Login(who, cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the agent signed in", func() bool { return a.Agent.Snapshot().Agent.ID == who.ID })
	waitFor(t, "the crm session", func() bool { name, needed := a.CRMState(); return name == "Salesforce" && !needed })
	sess, err := a.Connector.Resume(ctx, who.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sess.AgentID() != who.ID {
		t.Fatalf("session of %q", sess.AgentID())
	}
	recs, err := sess.LookupPhone(ctx, mustPhone(t, a.Normalizer, "+441632960001"))
	if err != nil || len(recs) != 1 || recs[0].ID != contactID {
		t.Fatalf("lookup through the sso session: %+v %v", recs, err)
	}
	// A second desk sign-in while the agent is signed in is refused.
	if _, err := a.SignInSSO(ctx); !errors.Is(err, ErrAlreadySignedIn) {
		t.Fatalf("sso while signed in: %v", err)
	}
}

func mustPhone(t *testing.T, n *crm.Normalizer, s string) crm.Phone {
	t.Helper()
	p, err := n.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSSONotOffered: the local directory and the webhook have no user
// sign-in, so "Sign in with <CRM>" is not offered and SignInSSO refuses.
func TestSSONotOffered(t *testing.T) {
	a, err := Build(context.Background(), Config{DataDir: t.TempDir(), Demo: true, InstanceSocket: "off", ControlAddr: "off",
		Logger: quietLog(), NoAudio: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close() })
	if a.SSOName() != "" || a.DeviceSignIn() {
		t.Fatalf("local crm offers sso %q / device %v", a.SSOName(), a.DeviceSignIn())
	}
	if _, err := a.SignInSSO(context.Background()); !errors.Is(err, ErrNoSSO) {
		t.Fatalf("SignInSSO: %v", err)
	}
	if _, err := a.SignInDeviceCode(context.Background(), true, func(DeviceCode) {}); !errors.Is(err, ErrNoDeviceCode) {
		t.Fatalf("SignInDeviceCode: %v", err)
	}
}

// TestSSOKeyring: a placeholder's secrets stay in memory, are written
// under the real agent by adopt and are gone after drop; other agents'
// pass through.
func TestSSOKeyring(t *testing.T) {
	under := crmtest.NewKeyring()
	k := newSSOKeyring(under)
	ph, err := k.placeholder()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Set(ph, "acct", secrets.KindRefreshToken, "rt"); err != nil {
		t.Fatal(err)
	}
	if err := k.Set("bob", "acct", secrets.KindRefreshToken, "bob-rt"); err != nil {
		t.Fatal(err)
	}
	if under.Len() != 1 {
		t.Fatalf("placeholder secret reached the keyring: %d", under.Len())
	}
	if s, err := k.Get(ph, "acct", secrets.KindRefreshToken); err != nil || s != "rt" {
		t.Fatalf("get held: %q %v", s, err)
	}
	if _, err := k.Get(ph, "acct", secrets.KindAccessToken); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("get missing held: %v", err)
	}
	if err := k.adopt(ph, "alice"); err != nil {
		t.Fatal(err)
	}
	if s, err := under.Get("alice", "acct", secrets.KindRefreshToken); err != nil || s != "rt" {
		t.Fatalf("adopted: %q %v", s, err)
	}
	if err := k.adopt(ph, "alice"); err == nil {
		t.Fatal("adopted twice")
	}
	ph2, _ := k.placeholder()
	_ = k.Set(ph2, "acct", secrets.KindAccessToken, "x")
	k.drop(ph2)
	if _, err := k.Get(ph2, "acct", secrets.KindAccessToken); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("dropped placeholder still answers: %v", err)
	}
	if under.Len() != 2 {
		t.Fatalf("keyring holds %d secrets", under.Len())
	}
}
