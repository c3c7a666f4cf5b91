package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/webhook"
)

// bodies is a receiver that keeps each verified POST's JSON by
// Idempotency-Key and answers GETs with a fixed body.
type bodies struct {
	mu     sync.Mutex
	got    map[string]map[string]any
	lookup string
}

func (b *bodies) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := webhook.Verify(secret, req.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if req.Method == http.MethodGet {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(b.lookup))
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	b.got[req.Header.Get(webhook.HeaderIdempotency)] = m
	b.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

func (b *bodies) body(key string) (map[string]any, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.got[key]
	return m, ok
}

// The agent's call subject is the payload's "subject" (trimmed, at most
// MaxSubject characters); without one the field is absent, as before.
func TestPayloadSubject(t *testing.T) {
	rcv := &bodies{got: map[string]map[string]any{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	conn, err := webhook.New(webhook.Config{LogURL: srv.URL + "/calls", Secret: secret, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := conn.Resume(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t0 := time.Date(2026, 5, 7, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ key, subject, want string }{
		{"k-set", "  Billing question \n", "Billing question"},
		{"k-long", strings.Repeat("å", 254) + "😀", strings.Repeat("å", 254)}, // the emoji is two UTF-16 units
		{"k-none", "", ""},
		{"k-blank", " \t ", ""},
	} {
		l := domain.CallLog{Key: "c-" + tc.key, AgentID: "alice", Direction: domain.DirectionInbound, Subject: tc.subject,
			Remote: domain.Party{Number: "+14155551212"}, StartedAt: t0, EndedAt: t0.Add(time.Minute)}
		res, err := sess.LogCalls(ctx, []crm.LogItem{{Key: tc.key, AgentID: "alice", Log: l}})
		if err != nil || res[0].Err != nil {
			t.Fatalf("%s: %+v %v", tc.key, res, err)
		}
		m, ok := rcv.body(tc.key)
		if !ok {
			t.Fatalf("%s: nothing received", tc.key)
		}
		got, present := m["subject"]
		switch {
		case tc.want == "" && present:
			t.Errorf("%s: subject %q sent, want none", tc.key, got)
		case tc.want != "" && got != tc.want:
			t.Errorf("%s: subject %q, want %q", tc.key, got, tc.want)
		}
		if p := webhook.NewPayload(tc.key, l); p.Subject != tc.want {
			t.Errorf("%s: NewPayload subject %q, want %q", tc.key, p.Subject, tc.want)
		}
	}
}
