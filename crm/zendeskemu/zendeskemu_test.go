package zendeskemu_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm/zendeskemu"
)

type client struct {
	t     *testing.T
	base  string
	token string
}

func start(t *testing.T, cfg zendeskemu.Config) (*zendeskemu.Server, *client) {
	t.Helper()
	s := zendeskemu.New(cfg)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	at, _ := s.IssueTokens("u0001")
	return s, &client{t: t, base: s.URL(), token: at}
}

func (c *client) do(method, path string, hdr map[string]string, body string) (int, http.Header, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			c.t.Fatalf("%s %s: not json: %s", method, path, b)
		}
	}
	return resp.StatusCode, resp.Header, m
}

func ticketID(m map[string]any) float64 {
	t, _ := m["ticket"].(map[string]any)
	id, _ := t["id"].(float64)
	return id
}

func TestIdempotencyKey(t *testing.T) {
	s, c := start(t, zendeskemu.Config{})
	body := `{"ticket":{"subject":"Inbound call","comment":{"body":"x","public":false},"external_id":"k1"}}`
	key := map[string]string{"Idempotency-Key": "k1"}
	st, h, m := c.do("POST", "/api/v2/tickets.json", key, body)
	if st != 201 || h.Get("x-idempotency-lookup") != "miss" || ticketID(m) == 0 {
		t.Fatalf("first: %d %v %v", st, h, m)
	}
	first := ticketID(m)
	// The same payload with other formatting and key order is the same request.
	same := `{"ticket":{"external_id":"k1","comment":{"public":false,"body":"x"},  "subject":"Inbound call"}}`
	st, h, m = c.do("POST", "/api/v2/tickets.json", key, same)
	if st != 201 || h.Get("x-idempotency-lookup") != "hit" || ticketID(m) != first {
		t.Fatalf("replay: %d %v %v", st, h, m)
	}
	st, _, m = c.do("POST", "/api/v2/tickets.json", key, strings.Replace(body, `"x"`, `"y"`, 1))
	if st != 400 || m["error"] != "IdempotentRequestError" {
		t.Fatalf("other payload: %d %v", st, m)
	}
	if n := len(s.Tickets()); n != 1 {
		t.Fatalf("%d tickets", n)
	}
	// Past the retention window the key is new again.
	s.ExpireIdempotencyKeys()
	st, h, m = c.do("POST", "/api/v2/tickets.json", key, body)
	if st != 201 || h.Get("x-idempotency-lookup") != "miss" || ticketID(m) == first {
		t.Fatalf("after the window: %d %v %v", st, h, m)
	}
	if n := len(s.TicketsByExternalID("k1")); n != 2 {
		t.Fatalf("%d tickets with the external id", n)
	}
	st, _, m = c.do("GET", "/api/v2/tickets.json?external_id=k1", nil, "")
	if tk, _ := m["tickets"].([]any); st != 200 || len(tk) != 2 {
		t.Fatalf("list by external id: %d %v", st, m)
	}
	// Without a key every request creates.
	c.do("POST", "/api/v2/tickets.json", nil, body)
	c.do("POST", "/api/v2/tickets.json", nil, body)
	if n := len(s.Tickets()); n != 4 {
		t.Fatalf("%d tickets", n)
	}
}

func TestIdempotencyWindowIsConfigurable(t *testing.T) {
	s, c := start(t, zendeskemu.Config{IdempotencyWindow: 50 * time.Millisecond})
	body := `{"ticket":{"comment":{"body":"x"}}}`
	key := map[string]string{"Idempotency-Key": "k"}
	c.do("POST", "/api/v2/tickets.json", key, body)
	time.Sleep(100 * time.Millisecond)
	if _, h, _ := c.do("POST", "/api/v2/tickets.json", key, body); h.Get("x-idempotency-lookup") != "miss" {
		t.Fatal("key remembered past the window")
	}
	if n := len(s.Tickets()); n != 2 {
		t.Fatalf("%d tickets", n)
	}
}

func TestTicketValidation(t *testing.T) {
	s, c := start(t, zendeskemu.Config{})
	user := s.AddContact("Ada", "+14155551212", "")
	for body, field := range map[string]string{
		`{"ticket":{"subject":"s"}}`:                                              "description",
		`{"ticket":{"comment":{"body":"x"},"requester_id":1}}`:                    "requester",
		`{"ticket":{"comment":{"body":"x"},"assignee_id":` + itoa(user.ID) + `}}`: "assignee",
		`{"ticket":{"comment":{"body":"x"},"status":"solved"}}`:                   "assignee",
		`{"ticket":{"comment":{"body":"x"},"status":"closed"}}`:                   "status",
	} {
		st, _, m := c.do("POST", "/api/v2/tickets.json", nil, body)
		d, _ := m["details"].(map[string]any)
		if st != 422 || m["error"] != "RecordInvalid" || d[field] == nil {
			t.Errorf("%s: %d %v", body, st, m)
		}
	}
	if st, _, m := c.do("POST", "/api/v2/tickets.json", nil, `{"ticket":`); st != 400 || m["error"] != "InvalidJSON" {
		t.Errorf("garbage: %d %v", st, m)
	}
	if n := len(s.Tickets()); n != 0 {
		t.Fatalf("%d tickets from invalid requests", n)
	}
	agent := s.AgentID("u0001")
	st, _, m := c.do("POST", "/api/v2/tickets.json", nil,
		`{"ticket":{"comment":{"body":"first line\nmore"},"requester_id":`+itoa(user.ID)+`,"assignee_id":`+itoa(agent)+`,"status":"solved"}}`)
	tk, _ := m["ticket"].(map[string]any)
	if st != 201 || tk["subject"] != "first line" || tk["status"] != "solved" || tk["requester_id"] != float64(user.ID) {
		t.Fatalf("valid: %d %v", st, m)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestUserSearch(t *testing.T) {
	s, c := start(t, zendeskemu.Config{})
	s.AddContact("Ada Lovelace", "+1 (415) 555-1212", "ada@example.com")
	s.AddContact("Bob", "4155551212", "")
	s.AddContact("Cy", "+14155550000", "")
	count := func(q string) int {
		st, _, m := c.do("GET", "/api/v2/users/search.json?query="+url.QueryEscape(q), nil, "")
		if st != 200 {
			t.Fatalf("%q: %d %v", q, st, m)
		}
		n, _ := m["count"].(float64)
		return int(n)
	}
	for q, want := range map[string]int{
		"phone:+14155551212":    2, // Bob's national number is a suffix
		"phone:4155551212":      2,
		"phone:5550000":         1,
		"lovelace":              1,
		"email:ada@example.com": 1,
		`name:"ada love"`:       1,
		"ada phone:4155551212":  1,
		"role:agent":            1, // the signed-in agent
		"nobody":                0,
	} {
		if got := count(q); got != want {
			t.Errorf("%q: %d users, want %d", q, got, want)
		}
	}
	if st, _, _ := c.do("GET", "/api/v2/users/search.json", nil, ""); st != 400 {
		t.Errorf("search without a query: %d", st)
	}
	st, _, m := c.do("GET", "/api/v2/users/search.json?query=phone:4155551212&per_page=1", nil, "")
	if users, _ := m["users"].([]any); st != 200 || len(users) != 1 || m["next_page"] == nil {
		t.Errorf("paging: %d %v", st, m)
	}
}

func TestEnvelopesAndRevocation(t *testing.T) {
	s, c := start(t, zendeskemu.Config{})
	st, _, m := c.do("GET", "/api/v2/users/me.json", nil, "")
	u, _ := m["user"].(map[string]any)
	if st != 200 || u["role"] != "agent" || u["id"] != float64(s.AgentID("u0001")) {
		t.Fatalf("me: %d %v", st, m)
	}
	if st, _, m := c.do("GET", "/api/v2/nothing.json", nil, ""); st != 404 || m["error"] != "InvalidEndpoint" {
		t.Fatalf("unknown path: %d %v", st, m)
	}
	if st, _, _ := c.do("DELETE", "/api/v2/oauth/tokens/current.json", nil, ""); st != 204 {
		t.Fatalf("revoke: %d", st)
	}
	if n := s.LiveRefreshTokens(); n != 0 {
		t.Fatalf("%d refresh tokens live after revoking the grant", n)
	}
	st, _, m = c.do("GET", "/api/v2/users/me.json", nil, "")
	if st != 401 || m["error"] != "invalid_token" || m["error_description"] == "" {
		t.Fatalf("revoked token: %d %v", st, m)
	}
}

func TestDisplayAPI(t *testing.T) {
	s, c := start(t, zendeskemu.Config{})
	user := s.AddContact("Ada", "+14155551212", "")
	agent := s.AgentID("u0001")
	path := "/api/v2/channels/voice/agents/" + itoa(agent) + "/users/" + itoa(user.ID) + "/display.json"
	if st, _, _ := c.do("POST", path, nil, ""); st != 403 {
		t.Fatalf("without talk partner edition: %d", st)
	}
	s.SetTalkPartnerEdition(true)
	if st, _, _ := c.do("POST", path, nil, ""); st != 404 {
		t.Fatalf("agent offline: %d", st)
	}
	s.SetAgentOnline(agent, true)
	if st, _, _ := c.do("POST", path, nil, ""); st != 200 {
		t.Fatalf("pop: %d", st)
	}
	bad := "/api/v2/channels/voice/agents/" + itoa(agent) + "/users/999/display.json"
	if st, _, _ := c.do("POST", bad, nil, ""); st != 404 {
		t.Fatalf("unknown user: %d", st)
	}
	if p := s.Pops(); len(p) != 1 || p[0].UserID != user.ID {
		t.Fatalf("pops %+v", p)
	}
}

func TestControlPlaneSeedsContacts(t *testing.T) {
	s, c := start(t, zendeskemu.Config{})
	resp, err := http.Post(c.base+"/__emu__/contacts", "application/json", strings.NewReader(`{"name":"Ada","phone":"+14155551212"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("seed: %d", resp.StatusCode)
	}
	if st, _, m := c.do("GET", "/api/v2/users/search.json?query=phone:4155551212", nil, ""); st != 200 || m["count"] != float64(1) {
		t.Fatalf("seeded contact not found: %v", m)
	}
	resp, err = http.Post(c.base+"/__emu__/contacts", "application/json", strings.NewReader(`garbage`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("garbage contact: %d", resp.StatusCode)
	}
	_ = s
}
