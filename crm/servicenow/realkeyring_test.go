//go:build unix && !darwin

package servicenow_test

import (
	"errors"
	"testing"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/servicenow"
	"github.com/callcentre/softphone/crm/servicenowemu"
	labkeyring "github.com/callcentre/softphone/lab/keyring"
	"github.com/callcentre/softphone/secrets"
)

// TestRealKeyring signs in against a registry entry that requires a
// client secret, with the secret and the tokens in a real Secret Service
// (a private gnome-keyring, see lab/keyring), resumes in a fresh
// connector, and signs out, which leaves the agent's tokens gone and IT's
// client secret in place.
func TestRealKeyring(t *testing.T) {
	if !labkeyring.InChild() {
		e := labkeyring.Start(t)
		labkeyring.RunInChild(t, t.Name(), e.Vars)
		return
	}
	kr := secrets.New(secrets.WithService("softphone-crm-test"))
	if err := kr.Check(); err != nil {
		t.Fatal(err)
	}
	const secret = "provisioned-by-it-0123456789"
	if err := kr.Set(servicenow.DefaultClientSecretAgent, servicenow.Name, secrets.KindClientSecret, secret); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, servicenowemu.Config{ClientSecret: secret, RotateRefresh: true}, func(c *servicenow.Config) { c.Keyring = kr })
	f.signIn(t, "alice")
	f.emu.ExpireAccessTokens() // the resume refreshes (and rotates) through the real keyring
	conn2, err := servicenow.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := conn2.Resume(ctx(t), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SignOut(ctx(t)); err != nil {
		t.Fatal(err)
	}
	for _, k := range []secrets.Kind{secrets.KindAccessToken, secrets.KindRefreshToken} {
		if _, err := kr.Get("alice", servicenow.Name, k); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("%s left in the keyring after sign-out: %v", k, err)
		}
	}
	if v, err := kr.Get(servicenow.DefaultClientSecretAgent, servicenow.Name, secrets.KindClientSecret); err != nil || v != secret {
		t.Fatalf("the client secret did not survive an agent's sign-out: %v", err)
	}
	if _, err := conn2.Resume(ctx(t), "alice"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume after sign-out: %v", err)
	}
}
