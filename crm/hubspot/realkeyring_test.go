//go:build unix && !darwin

package hubspot_test

import (
	"errors"
	"testing"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/hubspot"
	"github.com/callcentre/softphone/crm/hubspotemu"
	labkeyring "github.com/callcentre/softphone/lab/keyring"
	"github.com/callcentre/softphone/secrets"
)

// TestRealKeyring provisions IT's portal token into a real Secret Service
// (a private gnome-keyring, see lab/keyring), signs in, resumes in a fresh
// connector and signs out: the agent's copy goes, IT's token stays. Then
// the same with per-agent OAuth, whose sign-out leaves nothing of the
// agent behind.
func TestRealKeyring(t *testing.T) {
	if !labkeyring.InChild() {
		e := labkeyring.Start(t)
		labkeyring.RunInChild(t, t.Name(), e.Vars)
		return
	}
	kr := secrets.New(secrets.WithService("softphone-crm-hubspot-test"))
	if err := kr.Check(); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []hubspot.AuthMode{hubspot.AuthPortalToken, hubspot.AuthOAuth} {
		f := newFixture(t, hubspotemu.Config{}, func(c *hubspot.Config) { c.Keyring, c.Auth = kr, mode })
		f.emu.SetBrowserUser(f.user.ID)
		f.signIn(t)
		s, err := f.newConn(t).Resume(ctx(t), agent)
		if err != nil {
			t.Fatalf("%v: resume: %v", mode, err)
		}
		if err := s.SignOut(ctx(t)); err != nil {
			t.Fatal(err)
		}
		for _, k := range []secrets.Kind{secrets.KindAccessToken, secrets.KindRefreshToken} {
			if _, err := kr.Get(agent, hubspot.Name, k); !errors.Is(err, secrets.ErrNotFound) {
				t.Fatalf("%v: %s left in the keyring after sign-out: %v", mode, k, err)
			}
		}
		if _, err := f.newConn(t).Resume(ctx(t), agent); !errors.Is(err, crm.ErrSignInRequired) {
			t.Fatalf("%v: resume after sign-out: %v", mode, err)
		}
	}
	if tok, err := kr.Get(hubspot.PortalAgent, hubspot.Name, secrets.KindAccessToken); err != nil || tok == "" {
		t.Fatalf("IT's portal token is gone: %v", err)
	}
	if sec, err := kr.Get(hubspot.PortalAgent, hubspot.Name, secrets.KindClientSecret); err != nil || sec != hubspotemu.DefaultClientSecret {
		t.Fatalf("IT's client secret is gone: %v", err)
	}
	for _, k := range []secrets.Kind{secrets.KindAccessToken, secrets.KindClientSecret} {
		if err := kr.Delete(hubspot.PortalAgent, hubspot.Name, k); err != nil {
			t.Fatal(err)
		}
	}
}
