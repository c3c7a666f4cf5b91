//go:build unix && !darwin

package salesforce_test

import (
	"errors"
	"testing"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/sfemu"
	labkeyring "github.com/callcentre/softphone/lab/keyring"
	"github.com/callcentre/softphone/secrets"
)

// TestRealKeyring signs in with the tokens in a real Secret Service (a
// private gnome-keyring, see lab/keyring), resumes from it in a fresh
// connector, and signs out, which leaves nothing behind.
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
	f := newFixture(t, sfemu.Config{}, func(c *salesforce.Config) { c.Keyring = kr })
	f.signIn(t, "alice")
	conn2, err := salesforce.New(f.cfg)
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
		if _, err := kr.Get("alice", salesforce.Name, k); !errors.Is(err, secrets.ErrNotFound) {
			t.Fatalf("%s left in the keyring after sign-out: %v", k, err)
		}
	}
	if _, err := conn2.Resume(ctx(t), "alice"); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("resume after sign-out: %v", err)
	}
}
