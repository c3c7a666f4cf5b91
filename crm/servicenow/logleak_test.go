package servicenow_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/servicenow"
	"github.com/callcentre/softphone/crm/servicenowemu"
	"github.com/callcentre/softphone/secrets"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLogsCarryNoSecrets runs sign-in, lookup, logging, a refresh, the
// missing-field error and sign-out with debug logging, and finds no token,
// number or note in the log or in the errors.
func TestLogsCarryNoSecrets(t *testing.T) {
	var buf lockedBuffer
	f := newFixture(t, servicenowemu.Config{RotateRefresh: true, NoCallKeyField: true}, func(c *servicenow.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	f.emu.SeedContact(servicenowemu.Record{"name": "Ana Diaz", "phone": "+14155551212"})
	s := f.signIn(t, "alice")
	var tokens []string
	for _, k := range []secrets.Kind{secrets.KindAccessToken, secrets.KindRefreshToken} {
		v, _ := f.keyring.Get("alice", servicenow.Name, k)
		tokens = append(tokens, v)
	}
	if _, err := s.LookupPhone(ctx(t), phone(t, "+14155551212")); err != nil {
		t.Fatal(err)
	}
	f.emu.ExpireAccessTokens()
	var errs []error
	for _, key := range []string{"k1", "k2"} { // the second is refused: no key field
		res, err := s.LogCalls(ctx(t), []crm.LogItem{item("alice", key)})
		errs = append(errs, err)
		if err == nil {
			errs = append(errs, res[0].Err)
		}
	}
	if err := s.SignOut(ctx(t)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, e := range errs {
		if e != nil {
			out += "\n" + e.Error()
		}
	}
	if !strings.Contains(out, "call key field missing") || !strings.Contains(out, "access token refreshed") {
		t.Fatalf("expected log lines missing:\n%s", out)
	}
	for _, secret := range append(tokens, "4155551212", "invoice 1042") {
		if secret != "" && strings.Contains(out, secret) {
			t.Fatalf("the log carries %q:\n%s", secret, out)
		}
	}
}
