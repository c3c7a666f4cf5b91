package emukit

import "testing"

func TestRevokeGrantKillsTheRefreshTokenToo(t *testing.T) {
	s := New(Config{Name: "test", ClientID: "c"})
	u := s.Users()[0]
	at, rt := s.IssueTokens(u.ID)
	at2, _ := s.IssueTokens(u.ID)
	if !s.RevokeGrant(at) {
		t.Fatal("live access token not revoked")
	}
	if s.RevokeGrant(at) {
		t.Fatal("revoked twice")
	}
	s.mu.Lock()
	dead := s.refresh[rt].revoked
	_, other := s.access[at2]
	s.mu.Unlock()
	if !dead {
		t.Fatal("refresh token of the revoked grant still live")
	}
	if !other {
		t.Fatal("another grant's access token was revoked")
	}
	static := s.IssueStaticToken(u.ID)
	if !s.RevokeGrant(static) {
		t.Fatal("static token not revoked")
	}
	if s.LiveRefreshTokens() != 1 {
		t.Fatalf("live refresh tokens = %d, want 1", s.LiveRefreshTokens())
	}
}
