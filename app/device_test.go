package app

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/dynamicsemu"
	"github.com/callcentre/softphone/secrets"
)

// enterCode plays the agent entering the device code on another device
// (the emulator's verification page over real HTTP).
func enterCode(t *testing.T, got chan<- DeviceCode) func(DeviceCode) {
	return func(dc DeviceCode) {
		got <- dc
		go func() {
			resp, err := http.Get(dc.URL + "?otc=" + url.QueryEscape(dc.Code))
			if err != nil {
				t.Errorf("verification page: %v", err)
				return
			}
			_ = resp.Body.Close()
		}()
	}
}

// TestDeviceCodeSignIn signs in to the desk with Dynamics 365's device
// code flow against the emulator (no browser on the desk): the code and
// URL reach the caller, the agent ID is the CRM user's, the tokens are
// kept under it, and the core's sign-in finds the CRM session; then an
// agent signed in by ID signs in to the CRM with a code too.
func TestDeviceCodeSignIn(t *testing.T) {
	emu := dynamicsemu.New(dynamicsemu.Config{DeviceInterval: time.Second})
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	keyring := crmtest.NewKeyring()
	browser := &crmtest.Browser{}
	a, err := Build(context.Background(), Config{
		DataDir: t.TempDir(), Demo: true, InstanceSocket: "off", ControlAddr: "off", Logger: quietLog(), NoAudio: true,
		Dynamics: &dynamics.Config{OrgURL: emu.URL(), Authority: emu.URL(), Tenant: dynamicsemu.DefaultTenant,
			ClientID: dynamicsemu.DefaultClientID, Keyring: keyring, Opener: browser.Open, HTTPClient: emuClient()},
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
	if !a.DeviceSignIn() || a.SSOName() != "Dynamics 365" {
		t.Fatalf("device %v sso %q", a.DeviceSignIn(), a.SSOName())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	codes := make(chan DeviceCode, 2)
	who, err := a.SignInDeviceCode(ctx, true, enterCode(t, codes))
	if err != nil {
		t.Fatalf("device code sign-in: %v", err)
	}
	dc := <-codes
	if dc.Code == "" || dc.URL == "" {
		t.Fatalf("code %+v", dc)
	}
	if u := emu.Users()[0]; who.ID != strings.ToLower(u.Username) || who.Name != u.Name {
		t.Fatalf("signed in as %+v", who)
	}
	if rt, err := keyring.Get(who.ID, dynamics.Name, secrets.KindRefreshToken); err != nil || rt == "" {
		t.Fatalf("refresh token under the agent: %v", err)
	}
	if len(browser.URLs()) != 0 {
		t.Fatal("the device code sign-in opened a browser")
	}
	if err := a.Agent.Login(who, domain.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	// "Not needed" is also what CRMState says before the sign-in
	// watcher has the agent: wait for the watcher too.
	waitFor(t, "the crm session", func() bool {
		name, needed := a.CRMState()
		id, err := a.signedInAgent()
		return name == "Dynamics 365" && !needed && err == nil && id == who.ID && a.Agent.Snapshot().Agent.ID == who.ID
	})
	if _, err := a.SignInDeviceCode(ctx, true, func(DeviceCode) {}); !errors.Is(err, ErrAlreadySignedIn) {
		t.Fatalf("desk device sign-in while signed in: %v", err)
	}
	if err := a.Agent.Logout(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "signed out", func() bool { st := a.Agent.Snapshot(); return !st.SignedIn() })

	// An agent signed in by ID signs in to the CRM with a code.
	if err := a.Agent.Login(domain.AgentInfo{ID: "a2"}, domain.DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "sign-in needed", func() bool { _, needed := a.CRMState(); return needed })
	if _, err := a.SignInDeviceCode(ctx, false, enterCode(t, codes)); err != nil {
		t.Fatalf("crm device sign-in: %v", err)
	}
	if _, needed := a.CRMState(); needed {
		t.Fatal("still needs the crm sign-in")
	}
	if rt, err := keyring.Get("a2", dynamics.Name, secrets.KindRefreshToken); err != nil || rt == "" {
		t.Fatalf("refresh token under a2: %v", err)
	}
}
