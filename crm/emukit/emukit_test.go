package emukit_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm/emukit"
)

// counter is a tiny CRM: POST /items applies a write and answers 201.
func counter(t *testing.T) (*emukit.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	s := emukit.New(emukit.Config{Name: "test", ClientID: "c", TokenPath: "/token",
		Errors: func(w http.ResponseWriter, status int, code, msg string) {
			emukit.WriteJSON(w, status, map[string]any{"status": "error", "category": code, "message": msg})
		},
		API: func(w http.ResponseWriter, r *http.Request, _ []byte, u *emukit.User) int {
			if r.Method == http.MethodPost && r.URL.Path == "/items" {
				n.Add(1)
				emukit.WriteJSON(w, http.StatusCreated, map[string]string{"id": "x", "owner": u.ID, "pad": strings.Repeat("p", 64)})
				return http.StatusCreated
			}
			http.NotFound(w, r)
			return http.StatusNotFound
		}})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, &n
}

func post(s *emukit.Server, token string) (int, string, http.Header, error) {
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/items", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header, err
}

func TestAuthAndFaults(t *testing.T) {
	s, n := counter(t)
	user := s.Users()[0]
	at, _ := s.IssueTokens(user.ID)
	if st, body, _, _ := post(s, "nope"); st != 401 || !strings.Contains(body, `"category":"invalid_token"`) {
		t.Fatalf("bad token: %d %s", st, body)
	}
	if st, body, _, _ := post(s, at); st != 201 || !strings.Contains(body, user.ID) || n.Load() != 1 {
		t.Fatalf("write: %d %s", st, body)
	}
	write := emukit.Match{Method: "POST", Path: "/it*"}
	at2 := func(nth int) emukit.Match { m := write; m.Nth = nth; return m }
	s.AddFault(emukit.Fault{Match: at2(1), Status: 429, Code: "RATE_LIMIT", Header: map[string]string{"Retry-After": "3"}})
	s.AddFault(emukit.Fault{Match: at2(2), CommitThenDrop: true})
	s.AddFault(emukit.Fault{Match: at2(3), DropBeforeCommit: true})
	s.AddFault(emukit.Fault{Match: at2(4), TruncateBody: true})
	s.AddFault(emukit.Fault{Match: at2(5), ExpireAccessTokens: true})

	st, body, h, _ := post(s, at)
	if st != 429 || h.Get("Retry-After") != "3" || !strings.Contains(body, "RATE_LIMIT") || n.Load() != 1 {
		t.Fatalf("429 fault: %d %s %v (writes %d)", st, body, h, n.Load())
	}
	if _, _, _, err := post(s, at); err == nil || n.Load() != 2 {
		t.Fatalf("commit-then-drop: %v, writes %d", err, n.Load())
	}
	if _, _, _, err := post(s, at); err == nil || n.Load() != 2 {
		t.Fatalf("drop-before-commit: %v, writes %d", err, n.Load())
	}
	if st, body, _, _ := post(s, at); st != 201 || strings.HasSuffix(body, "}") || n.Load() != 3 {
		t.Fatalf("truncated: %d %q writes %d", st, body, n.Load())
	}
	if st, _, _, _ := post(s, at); st != 401 {
		t.Fatalf("expired tokens: %d", st)
	}
	if s.FaultsFired() != 5 {
		t.Fatalf("%d faults fired", s.FaultsFired())
	}
	static := s.IssueStaticToken(user.ID)
	s.ExpireAccessTokens()
	if st, _, _, _ := post(s, static); st != 201 {
		t.Fatalf("a static token expired: %d", st)
	}
	// A dropped request is journaled when its handler returns, which may
	// be after the client saw the reset.
	dropped := 0
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		dropped = 0
		for _, r := range s.Journal() {
			if r.Status == -1 {
				dropped++
			}
		}
		if len(s.Journal()) == 8 || time.Now().After(end) {
			break
		}
	}
	if len(s.Journal()) != 8 || dropped != 2 {
		t.Fatalf("journal %+v", s.Journal())
	}
}

func TestStopRestartSamePort(t *testing.T) {
	s, _ := counter(t)
	at, _ := s.IssueTokens(s.Users()[0].ID)
	u := s.URL()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := post(s, at); err == nil {
		t.Fatal("answered while stopped")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if st, _, _, err := post(s, at); err != nil || st != 201 || s.URL() != u {
		t.Fatalf("after restart: %d %v %s", st, err, s.URL())
	}
	if err := emukit.New(emukit.Config{}).Restart(); err == nil || errors.Is(err, nil) {
		if err == nil {
			t.Fatal("restart before start accepted")
		}
	}
}

func TestControlPlane(t *testing.T) {
	s, n := counter(t)
	at, _ := s.IssueTokens(s.Users()[0].ID)
	resp, err := http.Post(s.URL()+"/__emu__/faults", "application/json",
		strings.NewReader(`{"match":{"method":"POST","path":"/items"},"status":503,"body":"<html>maintenance</html>"}`))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("arm over http: %v %v", err, resp)
	}
	_ = resp.Body.Close()
	if st, body, h, _ := post(s, at); st != 503 || !strings.Contains(body, "maintenance") || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || n.Load() != 0 {
		t.Fatalf("503 page: %d %s", st, body)
	}
	resp, err = http.Post(s.URL()+"/__emu__/revoke-tokens", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if st, _, _, _ := post(s, at); st != 401 || s.LiveRefreshTokens() != 0 {
		t.Fatalf("after revoke: %d, %d live", st, s.LiveRefreshTokens())
	}
}
