package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/crm/webhook"
	"github.com/callcentre/softphone/store"
)

var (
	quiet  = slog.New(slog.DiscardHandler)
	secret = []byte("0123456789abcdef0123456789abcdef")
)

// receiver is a webhook endpoint that verifies signatures and dedupes by
// Idempotency-Key, like a correct receiver must.
type receiver struct {
	mu       sync.Mutex
	logs     map[string]webhook.Payload
	requests int
	badSig   int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	if err := webhook.Verify(secret, req.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute); err != nil {
		r.badSig++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	switch {
	case req.Method == http.MethodHead:
		return
	case req.Method == http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		if req.URL.Query().Get("phone") == "+14155551212" {
			_, _ = w.Write([]byte(`{"records":[{"id":"c-1","type":"contact","name":"Ana Diaz","url":"https://crm.example/c/1"}]}`))
			return
		}
		_, _ = w.Write([]byte(`[]`))
		return
	}
	if r.requests%7 == 3 { // the receiver hiccups now and then
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil || p.IdempotencyKey != req.Header.Get(webhook.HeaderIdempotency) {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	if p.Outcome == "Bogus" {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte("unknown outcome Bogus"))
		return
	}
	if _, dup := r.logs[p.IdempotencyKey]; dup {
		w.WriteHeader(http.StatusConflict)
		return
	}
	r.logs[p.IdempotencyKey] = p
	w.WriteHeader(http.StatusCreated)
}

func TestWebhookDrainAndLookup(t *testing.T) {
	rcv := &receiver{logs: map[string]webhook.Payload{}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	conn, err := webhook.New(webhook.Config{LogURL: srv.URL + "/calls", Secret: secret, Logger: quiet,
		LookupURL: srv.URL + "/lookup?phone={e164}", NewRecordURL: "https://crm.example/new?phone={e164}"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := webhook.New(webhook.Config{LogURL: srv.URL, Secret: []byte("short")}); err == nil {
		t.Fatal("weak secret accepted")
	}
	db, err := store.Open(t.TempDir(), store.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sink := crmtest.NewSink(100)
	cl := db.NewCallLogger(conn.Name())
	cl.Attach(sink)
	t0 := time.Date(2026, 5, 7, 9, 0, 0, 0, time.UTC)
	for i := range 20 {
		l := domain.CallLog{Key: fmt.Sprint("call-", i), AgentID: "alice", Direction: domain.DirectionOutbound,
			Remote: domain.Party{Number: "+14155551212"}, StartedAt: t0, EndedAt: t0.Add(time.Minute), Talk: 42 * time.Second, Outcome: "Sold"}
		if i == 5 {
			l.Outcome = "Bogus"
		}
		if err := cl.SaveCallLog(l); err != nil {
			t.Fatal(err)
		}
	}
	for range 20 {
		<-sink.C
	}
	w := outbox.New(db, conn, outbox.WithLogger(quiet), outbox.WithBackoff(10*time.Millisecond, 100*time.Millisecond), outbox.WithPoll(20*time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	fctx, fcancel := context.WithTimeout(context.Background(), time.Minute)
	defer fcancel()
	if err := w.Flush(fctx, "alice"); err != nil {
		t.Fatal(err)
	}
	rcv.mu.Lock()
	n, bad := len(rcv.logs), rcv.badSig
	p := rcv.logs[store.IdempotencyKey("alice", "call-0", "webhook")]
	rcv.mu.Unlock()
	if n != 19 || bad != 0 || p.CallKey != "call-0" || p.TalkSeconds != 42 || p.Direction != "outbound" {
		t.Fatalf("receiver has %d logs (%d bad signatures), first %+v", n, bad, p)
	}
	dead, err := w.DeadLetters("alice")
	if err != nil || len(dead) != 1 || dead[0].LastError != "unknown outcome Bogus" {
		t.Fatalf("dead letters %+v %v", dead, err)
	}

	sess, _ := conn.Resume(context.Background(), "alice")
	ph, _ := crm.NewNormalizer("US").Parse("(415) 555-1212")
	recs, err := sess.LookupPhone(context.Background(), ph)
	if err != nil || len(recs) != 1 || recs[0].ID != "c-1" || recs[0].URL != "https://crm.example/c/1" {
		t.Fatalf("lookup %+v %v", recs, err)
	}
	if u, _ := sess.NewRecordURL(ph); u != "https://crm.example/new?phone=%2B14155551212" {
		t.Fatalf("new record url %q", u)
	}
	srv.Close()
	// A pooled connection the server closed may fail first (ambiguous);
	// once the client has to dial, the receiver is offline.
	var err2 error
	for range 2 {
		_, err2 = sess.LogCalls(context.Background(), []crm.LogItem{{Key: "k", AgentID: "alice"}})
	}
	if err := err2; crm.KindOf(err) != crm.KindOffline {
		t.Fatalf("receiver down: %v", err)
	}
}

func TestSignature(t *testing.T) {
	now := time.Unix(1778150000, 0)
	h := webhook.Sign(secret, now, []byte(`{"a":1}`))
	if err := webhook.Verify(secret, h, []byte(`{"a":1}`), now, time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		h, body string
		at      time.Time
	}{
		{h, `{"a":2}`, now},
		{h, `{"a":1}`, now.Add(time.Hour)},
		{"t=1,v1=00", `{"a":1}`, now},
		{"garbage", `{"a":1}`, now},
	} {
		if err := webhook.Verify(secret, tc.h, []byte(tc.body), tc.at, time.Minute); err == nil {
			t.Fatalf("verified %q over %s", tc.h, tc.body)
		}
	}
}

func TestBearerToken(t *testing.T) {
	var mu sync.Mutex
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		auth = append(auth, req.Header.Get("Authorization"))
		mu.Unlock()
		if req.Header.Get("Authorization") != "Bearer tok-123" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if req.Method == http.MethodGet {
			_, _ = w.Write([]byte(`[]`))
			return
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	if _, err := webhook.New(webhook.Config{LogURL: srv.URL, Secret: secret, BearerToken: "a\r\nX-Evil: 1"}); !errors.Is(err, webhook.ErrConfig) {
		t.Fatalf("bearer token with a line break: %v", err)
	}
	for _, tc := range []struct {
		name, token string
		ok          bool
	}{{"with token", "tok-123", true}, {"without", "", false}} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := webhook.New(webhook.Config{LogURL: srv.URL, Secret: secret, BearerToken: tc.token, Logger: quiet,
				LookupURL: srv.URL + "/lookup?p={e164}"})
			if err != nil {
				t.Fatal(err)
			}
			sess, _ := conn.Resume(context.Background(), "alice")
			res, err := sess.LogCalls(context.Background(), []crm.LogItem{{Key: "k1", AgentID: "alice"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := res[0].Err == nil; got != tc.ok {
				t.Fatalf("log accepted %v, want %v (%v)", got, tc.ok, res[0].Err)
			}
			ph, _ := crm.NewNormalizer("US").Parse("(415) 555-1212")
			if _, err := sess.LookupPhone(context.Background(), ph); (err == nil) != tc.ok {
				t.Fatalf("lookup: %v", err)
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(auth) != 4 || auth[0] != "Bearer tok-123" || auth[1] != "Bearer tok-123" || auth[2] != "" {
		t.Fatalf("authorization headers %q", auth)
	}
}
