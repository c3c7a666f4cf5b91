//go:build unix && !darwin

package secrets_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	labkeyring "github.com/callcentre/softphone/lab/keyring"
	"github.com/callcentre/softphone/secrets"
	"github.com/callcentre/softphone/store"
)

// The tests below run their body in a child process that talks to a
// private gnome-keyring (see lab/keyring); the parent starts the keyring.

func TestRealKeyring(t *testing.T) {
	if !labkeyring.InChild() {
		e := labkeyring.Start(t)
		labkeyring.RunInChild(t, t.Name(), e.Vars)
		return
	}
	s := secrets.New(secrets.WithService("softphone-test"))
	if err := s.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	token := strings.Repeat("eyJhbGciOiJSUzI1NiJ9.", 500)[:10*1024] // 10 KB
	tests := []struct {
		account string
		kind    secrets.Kind
		value   string
	}{
		{"sip:1001@pbx.example.com", secrets.KindSIPPassword, "correct horse battery staple"},
		{"salesforce:https://example.my.salesforce.com", secrets.KindAccessToken, token},
		{"salesforce:https://example.my.salesforce.com", secrets.KindRefreshToken, "5Aep861-refresh"},
	}
	for _, tt := range tests {
		if err := s.Set("alice", tt.account, tt.kind, tt.value); err != nil {
			t.Fatalf("Set %s: %v", tt.kind, err)
		}
	}
	for _, tt := range tests {
		got, err := s.Get("alice", tt.account, tt.kind)
		if err != nil || got != tt.value {
			t.Fatalf("Get %s = %d bytes, %v; want %d bytes", tt.kind, len(got), err, len(tt.value))
		}
	}
	// Another service name (another app) does not see them.
	if _, err := secrets.New(secrets.WithService("other")).Get("alice", tests[0].account, tests[0].kind); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("other service: %v", err)
	}
	// Overwrite the long token with a short one, then delete it.
	if err := s.Set("alice", tests[1].account, tests[1].kind, "short"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get("alice", tests[1].account, tests[1].kind); got != "short" {
		t.Errorf("after overwrite: %q", got)
	}
	if err := s.Delete("alice", tests[1].account, tests[1].kind); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("alice", tests[1].account, tests[1].kind); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	// Chunks of the 10 KB token are gone too: set it again, delete the agent.
	if err := s.Set("alice", tests[1].account, tests[1].kind, token); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("bob", tests[0].account, tests[0].kind, "bobs-password"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAgent("alice"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		if _, err := s.Get("alice", tt.account, tt.kind); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("alice %s after DeleteAgent: %v", tt.kind, err)
		}
	}
	if got, err := s.Get("bob", tests[0].account, tests[0].kind); err != nil || got != "bobs-password" {
		t.Errorf("bob after alice's logout: %q %v", got, err)
	}
	// Nothing of alice's is left under the service, chunks and index included.
	if _, err := exec.LookPath("secret-tool"); err == nil {
		out, err := exec.Command("secret-tool", "search", "--all", "service", "softphone-test").CombinedOutput()
		if err != nil {
			t.Fatalf("secret-tool search: %v\n%s", err, out)
		}
		if strings.Contains(string(out), "username = alice") || !strings.Contains(string(out), "username = bob/") {
			t.Errorf("items after DeleteAgent:\n%s", out)
		}
	}
}

func TestRealNoKeyring(t *testing.T) {
	if !labkeyring.InChild() {
		for _, tc := range []struct {
			name string
			vars []string
		}{
			{"bus address points nowhere", labkeyring.NoKeyringVars(t)},
			// With no address godbus autolaunches dbus-launch, which would
			// start a real session bus; an empty PATH keeps it from doing so.
			{"no bus address at all", append(labkeyring.NoKeyringVars(t), "DBUS_SESSION_BUS_ADDRESS=", "PATH="+t.TempDir())},
		} {
			t.Run(tc.name, func(t *testing.T) {
				labkeyring.RunInChild(t, "TestRealNoKeyring", tc.vars)
			})
		}
		return
	}
	s := secrets.New(secrets.WithTimeout(3 * time.Second))
	start := time.Now()
	err := s.Set("alice", "sip:1001@pbx", secrets.KindSIPPassword, "hunter2-secret")
	if !errors.Is(err, secrets.ErrNoKeyring) {
		t.Fatalf("Set without a keyring: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v to notice there is no keyring", d)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error mentions the secret: %v", err)
	}
	if _, err := s.Get("alice", "sip:1001@pbx", secrets.KindSIPPassword); !errors.Is(err, secrets.ErrNoKeyring) {
		t.Errorf("Get: %v", err)
	}
	if err := s.Check(); !errors.Is(err, secrets.ErrNoKeyring) {
		t.Errorf("Check: %v", err)
	}
	t.Logf("user sees: %v", err)
}

// TestNoSecretLeaks runs a full scenario (secrets in the keyring, call logs
// with notes, settings, a CRM outbox, hot-desk logout) and then scans every
// file of the data directory and every log line for the secrets, and the
// log for phone numbers and notes.
func TestNoSecretLeaks(t *testing.T) {
	if !labkeyring.InChild() {
		e := labkeyring.Start(t)
		labkeyring.RunInChild(t, t.Name(), e.Vars)
		return
	}
	var logBuf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	dir := t.TempDir()
	sec := secrets.New(secrets.WithLogger(log))
	db, err := store.Open(dir, store.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	const (
		sipPassword = "SIP-pa55w0rd-7f3a9c"
		token       = "00DTOKEN-a8f7e6d5c4b3a2"
		notes       = "customer card ends 4242, call back tomorrow"
		number      = "+442079460018"
	)
	refresh := "REFRESH-" + strings.Repeat("q7", 3000)
	if err := sec.Set("alice", "sip:1001@pbx", secrets.KindSIPPassword, sipPassword); err != nil {
		t.Fatal(err)
	}
	if err := sec.Set("alice", "salesforce", secrets.KindAccessToken, token); err != nil {
		t.Fatal(err)
	}
	if err := sec.Set("alice", "salesforce", secrets.KindRefreshToken, refresh); err != nil {
		t.Fatal(err)
	}
	p, _ := db.Profile("alice")
	if err := p.PutSettings(map[string]string{"sip_user": "1001", "crm": "salesforce"}); err != nil {
		t.Fatal(err)
	}
	if err := p.PutSettings(map[string]string{"sip_password": sipPassword}); !errors.Is(err, store.ErrSecretInSettings) {
		t.Fatalf("settings accepted a password: %v", err)
	}
	sink := make(chanSink, 10)
	cl := db.NewCallLogger("salesforce")
	cl.Attach(sink)
	for i, key := range []string{"call-1", "call-2"} {
		l := domain.CallLog{Key: key, AgentID: "alice", Direction: domain.DirectionInbound, Remote: domain.Party{Number: number},
			StartedAt: time.Now(), EndedAt: time.Now(), Notes: notes, Outcome: "resolved"}
		if i == 1 {
			l.Missed = true
		}
		if err := cl.SaveCallLog(l); err != nil {
			t.Fatal(err)
		}
		if _, ok := (<-sink).(domain.CallLogSaved); !ok {
			t.Fatal("not saved")
		}
	}
	if err := db.PutMachineSettings(store.MachineSettings{Shared: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Logout("alice", store.LogoutPolicy{WipeHistory: true}, sec); err != nil {
		t.Fatal(err)
	}
	if _, err := sec.Get("alice", "salesforce", secrets.KindRefreshToken); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("refresh token survived logout: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	secretsToFind := []string{sipPassword, token, refresh[:40], "q7q7q7q7q7q7"}
	files := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		files++
		for _, s := range secretsToFind {
			if bytes.Contains(data, []byte(s)) {
				t.Errorf("%s contains a secret (%.12s...)", path, s)
			}
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("scan: %d files, %v", files, err)
	}
	logs := logBuf.String()
	if !strings.Contains(logs, "agent logged out") {
		t.Errorf("expected log lines, got %q", logs)
	}
	// Fragments a real leak would carry (the note's card digits with their
	// words, the number without its country code); a bare four-digit run
	// also occurs by chance in temp paths and IDs.
	for _, s := range append(secretsToFind, notes, number, "ends 4242", "79460018") {
		if strings.Contains(logs, s) {
			t.Errorf("log output contains %q", s)
		}
	}
}

type chanSink chan domain.Input

func (c chanSink) Post(in domain.Input) error { c <- in; return nil }
