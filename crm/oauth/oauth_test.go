package oauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/emukit"
	"github.com/callcentre/softphone/crm/oauth"
	"github.com/callcentre/softphone/secrets"
)

func idp(t *testing.T, cfg emukit.Config) *emukit.Server {
	t.Helper()
	cfg.ClientID, cfg.AuthorizePath, cfg.TokenPath, cfg.RevokePath = "client-1", "/authorize", "/token", "/revoke"
	s := emukit.New(cfg)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func signIn(t *testing.T, s *emukit.Server, redirect string, json bool) (oauth.Token, oauth.Grant) {
	t.Helper()
	b := &crmtest.Browser{}
	g, err := oauth.Loopback{CRM: "Test CRM", RedirectURL: redirect, Opener: b.Open, Timeout: 20 * time.Second}.
		Authorize(ctx(t), s.URL()+"/authorize", url.Values{"client_id": {"client-1"}, "prompt": {"login"}})
	if err != nil {
		t.Fatal(err)
	}
	if errs := b.Wait(); len(errs) != 0 {
		t.Fatal(errs)
	}
	ep := oauth.Endpoint{CRM: "test", URL: s.URL() + "/token", JSON: json}
	tok, err := ep.Exchange(ctx(t), url.Values{"grant_type": {"authorization_code"}, "code": {g.Code},
		"client_id": {"client-1"}, "redirect_uri": {g.RedirectURI}, "code_verifier": {g.Verifier}})
	if err != nil {
		t.Fatal(err)
	}
	return tok, g
}

func TestLoopbackSignInWithPKCE(t *testing.T) {
	s := idp(t, emukit.Config{})
	port, err := crmtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	for _, asJSON := range []bool{false, true} {
		tok, g := signIn(t, s, fmt.Sprintf("http://localhost:%d/cb", port), asJSON)
		if tok.Access == "" || tok.Refresh == "" || tok.Expiry.Before(time.Now().Add(20*time.Minute)) {
			t.Fatalf("token %+v", tok)
		}
		if g.RedirectURI != fmt.Sprintf("http://localhost:%d/cb", port) || s.LastAuthorize("prompt") != "login" ||
			s.LastAuthorize("code_challenge_method") != "S256" {
			t.Fatalf("grant %+v, prompt %q", g, s.LastAuthorize("prompt"))
		}
	}
}

func TestLoopbackFreePortForPortlessRedirect(t *testing.T) {
	s := idp(t, emukit.Config{CallbackURLs: []string{"http://localhost/"}, IgnorePort: true})
	_, g := signIn(t, s, "http://localhost", false)
	u, err := url.Parse(g.RedirectURI)
	if err != nil || u.Port() == "" || u.Port() == "0" || u.Path != "/" {
		t.Fatalf("redirect %q", g.RedirectURI)
	}
}

func TestLoopbackRefusals(t *testing.T) {
	s := idp(t, emukit.Config{})
	s.SetActive(s.Users()[0].ID, false) // the login page refuses
	port, _ := crmtest.FreePort()
	b := &crmtest.Browser{}
	_, err := oauth.Loopback{CRM: "Test", RedirectURL: fmt.Sprintf("http://127.0.0.1:%d/cb", port), Opener: b.Open}.
		Authorize(ctx(t), s.URL()+"/authorize", url.Values{"client_id": {"client-1"}})
	if !errors.Is(err, crm.ErrSignInCancelled) || !strings.Contains(err.Error(), "access_denied") {
		t.Fatalf("refused login: %v", err)
	}
	// Nobody comes back: the timeout ends the wait.
	_, err = oauth.Loopback{CRM: "Test", RedirectURL: fmt.Sprintf("http://127.0.0.1:%d/cb", port),
		Opener: func(string) error { return nil }, Timeout: 200 * time.Millisecond}.Authorize(ctx(t), s.URL()+"/authorize", nil)
	if !errors.Is(err, crm.ErrSignInCancelled) {
		t.Fatalf("abandoned: %v", err)
	}
	// Not a loopback redirect.
	if _, err := (oauth.Loopback{CRM: "Test", RedirectURL: "https://example.com/cb"}).Authorize(ctx(t), s.URL(), nil); err == nil {
		t.Fatal("non-loopback redirect accepted")
	}
	// A forged callback with another state is refused and does not end the wait.
	done := make(chan error, 1)
	go func() {
		_, err := oauth.Loopback{CRM: "Test", RedirectURL: fmt.Sprintf("http://127.0.0.1:%d/cb", port),
			Opener: func(string) error { return nil }, Timeout: 2 * time.Second}.Authorize(context.Background(), s.URL()+"/authorize", nil)
		done <- err
	}()
	var resp *http.Response
	for range 100 {
		if resp, err = http.Get(fmt.Sprintf("http://127.0.0.1:%d/cb?code=x&state=forged", port)); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("forged state: %d", resp.StatusCode)
	}
	if err := <-done; !errors.Is(err, crm.ErrSignInCancelled) {
		t.Fatalf("forged state ended the sign-in: %v", err)
	}
}

func TestExchangeErrors(t *testing.T) {
	s := idp(t, emukit.Config{ClientSecret: "s3cret"})
	ep := oauth.Endpoint{CRM: "test", URL: s.URL() + "/token"}
	_, err := ep.Exchange(ctx(t), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {"client-1"}})
	if crm.KindOf(err) != crm.KindPermanent || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("missing secret: %v", err)
	}
	_, err = ep.Exchange(ctx(t), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"x"}, "client_id": {"client-1"}, "client_secret": {"s3cret"}})
	if !errors.Is(err, crm.ErrSignInRequired) || crm.KindOf(err) != crm.KindAuthRevoked {
		t.Fatalf("dead refresh token: %v", err)
	}
	s.AddFault(emukit.Fault{Match: emukit.Match{Path: "/token"}, Status: 503, Body: "<html>down</html>"})
	if _, err = ep.Exchange(ctx(t), url.Values{}); crm.KindOf(err) != crm.KindTransient {
		t.Fatalf("503: %v", err)
	}
	s.AddFault(emukit.Fault{Match: emukit.Match{Path: "/token"}, TruncateBody: true})
	_, rt := s.IssueTokens(s.Users()[0].ID)
	if _, err = ep.Exchange(ctx(t), url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"client-1"}, "client_secret": {"s3cret"}}); crm.KindOf(err) != crm.KindTransient {
		t.Fatalf("truncated answer: %v", err)
	}
	if strings.Contains(fmt.Sprint(err), rt) {
		t.Fatal("the refresh token leaked into an error")
	}
	_ = s.Stop()
	ep.Client = &http.Client{Transport: &http.Transport{}} // no pooled connection to the stopped server
	if _, err = ep.Exchange(ctx(t), url.Values{}); crm.KindOf(err) != crm.KindOffline {
		t.Fatalf("offline: %v", err)
	}
}

func TestTokensRotationSingleFlightAndRevocation(t *testing.T) {
	s := idp(t, emukit.Config{RotateRefresh: true})
	kr := crmtest.NewKeyring()
	ep := oauth.Endpoint{CRM: "test", URL: s.URL() + "/token"}
	var refreshes atomic.Int32
	refresh := func(ctx context.Context, rt string) (oauth.Token, error) {
		refreshes.Add(1)
		return ep.Exchange(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"client-1"}})
	}
	tk := oauth.NewTokens(kr, "test", "alice", refresh)
	if err := tk.Load(); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("empty keyring: %v", err)
	}
	at, rt := s.IssueTokens(s.Users()[0].ID)
	if err := tk.Set(oauth.Token{Access: at, Refresh: rt}); err != nil {
		t.Fatal(err)
	}
	_, gen := tk.Access()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 { // eight requests saw the same 401
		wg.Add(1)
		go func() { defer wg.Done(); errs <- tk.Refresh(ctx(t), gen) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes for one expiry", n)
	}
	stored, _ := kr.Get("alice", "test", secrets.KindRefreshToken)
	if stored == rt || stored != tk.RefreshToken() {
		t.Fatal("the rotated refresh token was not kept")
	}
	// A restart reads the rotated pair and can refresh again (the old one is dead).
	tk2 := oauth.NewTokens(kr, "test", "alice", refresh)
	if err := tk2.Load(); err != nil {
		t.Fatal(err)
	}
	_, gen2 := tk2.Access()
	if err := tk2.Refresh(ctx(t), gen2); err != nil {
		t.Fatalf("refresh after restart: %v", err)
	}
	// Revoked at the CRM: the agent must sign in again; the keyring is cleared.
	s.RevokeRefreshTokens()
	_, gen2 = tk2.Access()
	if err := tk2.Refresh(ctx(t), gen2); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("revoked: %v", err)
	}
	if kr.Len() != 0 {
		t.Fatalf("%d secrets left after revocation", kr.Len())
	}
	if _, _, err := tk2.Fresh(ctx(t)); !errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("fresh after revocation: %v", err)
	}
}

// failingAccess is a keyring whose access-token writes fail.
type failingAccess struct{ *crmtest.Keyring }

func (f failingAccess) Set(agent, account string, kind secrets.Kind, v string) error {
	if kind == secrets.KindAccessToken {
		return errors.New("keyring locked")
	}
	return f.Keyring.Set(agent, account, kind, v)
}

// TestRotatedRefreshTokenSurvivesAFailedAccessWrite: the provider rotated
// the refresh token and the keyring then refused the access token; the
// next refresh must use the new refresh token, not the dead old one.
func TestRotatedRefreshTokenSurvivesAFailedAccessWrite(t *testing.T) {
	s := idp(t, emukit.Config{RotateRefresh: true})
	kr := crmtest.NewKeyring()
	ep := oauth.Endpoint{CRM: "test", URL: s.URL() + "/token"}
	refresh := func(ctx context.Context, rt string) (oauth.Token, error) {
		return ep.Exchange(ctx, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"client-1"}})
	}
	at, rt := s.IssueTokens(s.Users()[0].ID)
	tk := oauth.NewTokens(failingAccess{kr}, "test", "alice", refresh)
	if err := tk.Set(oauth.Token{Access: at, Refresh: rt}); err == nil {
		t.Fatal("the failing keyring was not reported")
	}
	_, gen := tk.Access()
	if err := tk.Refresh(ctx(t), gen); err == nil {
		t.Fatal("the failing keyring was not reported")
	}
	_, gen = tk.Access()
	if err := tk.Refresh(ctx(t), gen); errors.Is(err, crm.ErrSignInRequired) {
		t.Fatalf("the rotated refresh token was lost: %v", err)
	}
}
