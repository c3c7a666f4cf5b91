package emukit

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestExtraGrant(t *testing.T) {
	s := New(Config{ClientID: "c", TokenPath: "/token", Grant: func(form url.Values) (string, string, string) {
		if form.Get("grant_type") != "urn:test:grant" {
			return "", "unsupported_grant_type", "no"
		}
		if form.Get("ticket") != "ok" {
			return "", "authorization_pending", "wait"
		}
		return "u0001", "", ""
	}})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	post := func(form url.Values) (int, map[string]any) {
		resp, err := http.Post(s.URL()+"/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if st, m := post(url.Values{"client_id": {"c"}, "grant_type": {"urn:test:grant"}}); st != 400 || m["error"] != "authorization_pending" {
		t.Fatalf("pending: %d %v", st, m)
	}
	st, m := post(url.Values{"client_id": {"c"}, "grant_type": {"urn:test:grant"}, "ticket": {"ok"}})
	if st != 200 || m["access_token"] == "" || m["refresh_token"] == "" {
		t.Fatalf("granted: %d %v", st, m)
	}
	if u, ok := s.TokenUser(m["access_token"].(string)); !ok || u.ID != "u0001" {
		t.Fatalf("token user %v %v", u, ok)
	}
	s.SetActive("u0001", false)
	if st, m := post(url.Values{"client_id": {"c"}, "grant_type": {"urn:test:grant"}, "ticket": {"ok"}}); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("inactive user: %d %v", st, m)
	}
}

func TestBrowserUser(t *testing.T) {
	s := New(Config{})
	if u, ok := s.BrowserUser(); !ok || u.Username != "agent1@emu.test" {
		t.Fatalf("default browser user %v %v", u, ok)
	}
	b := s.AddUser("b@emu.test", "B")
	s.SetBrowserUser(b.ID)
	if u, ok := s.BrowserUser(); !ok || u.ID != b.ID {
		t.Fatalf("browser user %v %v", u, ok)
	}
	s.SetBrowserUser("nobody")
	if _, ok := s.BrowserUser(); ok {
		t.Fatal("an unknown browser user")
	}
}
