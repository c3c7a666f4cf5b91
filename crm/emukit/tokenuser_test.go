package emukit_test

import (
	"testing"

	"github.com/callcentre/softphone/crm/emukit"
)

func TestTokenUser(t *testing.T) {
	s := emukit.New(emukit.Config{Name: "test", ClientID: "c"})
	u := s.AddUser("bob@emu.test", "Bob")
	at, rt := s.IssueTokens(u.ID)
	static := s.IssueStaticToken(u.ID)
	for _, tok := range []string{at, rt, static} {
		if got, ok := s.TokenUser(tok); !ok || got.ID != u.ID {
			t.Fatalf("TokenUser = %+v, %v; want %s", got, ok, u.ID)
		}
	}
	if _, ok := s.TokenUser("nope"); ok {
		t.Fatal("unknown token has a user")
	}
	s.Revoke(rt)
	if _, ok := s.TokenUser(rt); ok {
		t.Fatal("revoked refresh token has a user")
	}
	if _, ok := s.TokenUser(at); ok {
		t.Fatal("access token of a revoked refresh token has a user")
	}
	s.SetActive(u.ID, false)
	if _, ok := s.TokenUser(static); ok {
		t.Fatal("inactive user's token has a user")
	}
}
