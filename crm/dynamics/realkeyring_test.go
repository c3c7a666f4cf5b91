//go:build unix && !darwin

package dynamics_test

import (
	"errors"
	"testing"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/dynamicsemu"
	labkeyring "github.com/callcentre/softphone/lab/keyring"
	"github.com/callcentre/softphone/secrets"
)

// TestRealKeyring keeps the tokens in a real Secret Service (a private
// gnome-keyring, see lab/keyring): sign-in, a refresh that rotates the
// refresh token, a resume from the keyring in a fresh connector with the
// rotated token, and a sign-out that leaves nothing behind.
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
	f := newFixture(t, dynamicsemu.Config{}, func(c *dynamics.Config) { c.Keyring = kr })
	s := f.signIn(t, "alice")
	before, err := kr.Get("alice", dynamics.Name, secrets.KindRefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	f.emu.ExpireAccessTokens()
	if err := s.Health(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if after, err := kr.Get("alice", dynamics.Name, secrets.KindRefreshToken); err != nil || after == before {
		t.Fatalf("rotated refresh token not in the keyring: %v", err)
	}
	f.emu.ExpireAccessTokens()
	conn2, err := dynamics.New(f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := conn2.Resume(ctx(t), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.SignOut(ctx(t)); err != nil {
		t.Fatal(err)
	}
	for _, k := range []secrets.Kind{secrets.KindAccessToken, secrets.KindRefreshToken} {
		if _, err := kr.Get("alice", dynamics.Name, k); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("%s left in the keyring after sign-out: %v", k, err)
		}
	}
	if _, err := conn2.Resume(ctx(t), "alice"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume after sign-out: %v", err)
	}
}
