package secrets

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// fakeKeyring is an in-memory backend with the Windows size limit; down
// makes every call fail like an unreachable Secret Service, hang makes it
// block.
type fakeKeyring struct {
	mu    sync.Mutex
	items map[string]string
	limit int
	down  bool
	hang  chan struct{}
	sets  int
}

func newFake() *fakeKeyring { return &fakeKeyring{items: map[string]string{}, limit: 2560} }

func (f *fakeKeyring) gate() error {
	if f.hang != nil {
		<-f.hang
	}
	if f.down {
		return errors.New("dbus: dial unix /run/user/1000/bus: connect: no such file or directory")
	}
	return nil
}

func (f *fakeKeyring) Set(s, u, p string) error {
	if err := f.gate(); err != nil {
		return err
	}
	if len(p) > f.limit {
		return gokeyring.ErrSetDataTooBig
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets++
	f.items[s+"\x00"+u] = p
	return nil
}

func (f *fakeKeyring) Get(s, u string) (string, error) {
	if err := f.gate(); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.items[s+"\x00"+u]
	if !ok {
		return "", gokeyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeKeyring) Delete(s, u string) error {
	if err := f.gate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.items[s+"\x00"+u]; !ok {
		return gokeyring.ErrNotFound
	}
	delete(f.items, s+"\x00"+u)
	return nil
}

func (f *fakeKeyring) users() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var us []string
	for k := range f.items {
		_, u, _ := strings.Cut(k, "\x00")
		us = append(us, u)
	}
	return us
}

func withFake(f *fakeKeyring, opts ...Option) *Store {
	s := New(opts...)
	s.be = f
	return s
}

func longToken(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "eyJ%07d.", i)
	}
	return b.String()[:n]
}

func TestSetGetDeleteChunked(t *testing.T) {
	tests := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"short password", 12},
		{"just below one chunk", DefaultChunkSize - len(prefixSingle)},
		{"just above one chunk", DefaultChunkSize - len(prefixSingle) + 1},
		{"10 KB token", 10 * 1024},
		{"100 KB token", 100 * 1024},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			s := withFake(f)
			v := longToken(tt.size)
			if err := s.Set("a1", "salesforce:org1", KindAccessToken, v); err != nil {
				t.Fatal(err)
			}
			for _, u := range f.users() {
				if n := len(f.items[DefaultService+"\x00"+u]); n > 2560 {
					t.Errorf("item %s holds %d bytes", u, n)
				}
			}
			got, err := s.Get("a1", "salesforce:org1", KindAccessToken)
			if err != nil || got != v {
				t.Fatalf("Get = %d bytes, %v; want %d bytes", len(got), err, len(v))
			}
			if err := s.Delete("a1", "salesforce:org1", KindAccessToken); err != nil {
				t.Fatal(err)
			}
			if us := f.users(); len(us) != 0 {
				t.Errorf("items left after Delete: %v", us)
			}
			if _, err := s.Get("a1", "salesforce:org1", KindAccessToken); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get after Delete: %v", err)
			}
		})
	}
}

func TestOverwriteShorterRemovesChunks(t *testing.T) {
	f := newFake()
	s := withFake(f)
	if err := s.Set("a1", "crm", KindRefreshToken, longToken(10000)); err != nil {
		t.Fatal(err)
	}
	if err := s.Set("a1", "crm", KindRefreshToken, "short"); err != nil {
		t.Fatal(err)
	}
	if us := f.users(); len(us) != 2 { // the item and the agent index
		t.Errorf("items %v, want the secret and the index", us)
	}
	if v, _ := s.Get("a1", "crm", KindRefreshToken); v != "short" {
		t.Errorf("Get = %q", v)
	}
}

func TestMultibyteChunks(t *testing.T) {
	s := withFake(newFake(), WithChunkSize(100))
	v := strings.Repeat("é€😀", 200)
	if err := s.Set("a1", "x", KindClientSecret, v); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Get("a1", "x", KindClientSecret); err != nil || got != v {
		t.Fatalf("round trip failed: %v", err)
	}
}

func TestCorruptChunks(t *testing.T) {
	f := newFake()
	s := withFake(f)
	if err := s.Set("a1", "crm", KindAccessToken, longToken(5000)); err != nil {
		t.Fatal(err)
	}
	f.items[DefaultService+"\x00a1/crm/access-token#2"] = "tampered"
	if _, err := s.Get("a1", "crm", KindAccessToken); !errors.Is(err, ErrCorrupt) {
		t.Errorf("tampered chunk: %v", err)
	}
	delete(f.items, DefaultService+"\x00a1/crm/access-token#2")
	if _, err := s.Get("a1", "crm", KindAccessToken); !errors.Is(err, ErrCorrupt) {
		t.Errorf("missing chunk: %v", err)
	}
}

func TestKeysPerAgentAndEscaping(t *testing.T) {
	f := newFake()
	s := withFake(f)
	_ = s.Set("a/1", "b", KindSIPPassword, "one")
	_ = s.Set("a", "1/b", KindSIPPassword, "two")
	if v, _ := s.Get("a/1", "b", KindSIPPassword); v != "one" {
		t.Errorf("got %q", v)
	}
	if v, _ := s.Get("a", "1/b", KindSIPPassword); v != "two" {
		t.Errorf("got %q", v)
	}
	for _, k := range []struct {
		a, acc string
		kind   Kind
	}{{"", "x", KindSIPPassword}, {"a", "", KindSIPPassword}, {"a", "x", ""}} {
		if err := s.Set(k.a, k.acc, k.kind, "v"); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Set(%q,%q,%q): %v", k.a, k.acc, k.kind, err)
		}
	}
}

func TestDeleteAgent(t *testing.T) {
	f := newFake()
	s := withFake(f)
	for _, a := range []string{"alice", "bob"} {
		_ = s.Set(a, "sip:1001@pbx", KindSIPPassword, "pw-"+a)
		_ = s.Set(a, "salesforce", KindAccessToken, longToken(6000))
		_ = s.Set(a, "salesforce", KindRefreshToken, "r-"+a)
	}
	_ = s.Delete("alice", "salesforce", KindRefreshToken)
	if err := s.DeleteAgent("alice"); err != nil {
		t.Fatal(err)
	}
	for _, u := range f.users() {
		if strings.HasPrefix(u, "alice/") {
			t.Errorf("alice item left: %s", u)
		}
	}
	if v, err := s.Get("bob", "sip:1001@pbx", KindSIPPassword); err != nil || v != "pw-bob" {
		t.Errorf("bob's secret: %q %v", v, err)
	}
	if err := s.DeleteAgent("nobody"); err != nil {
		t.Errorf("DeleteAgent of an unknown agent: %v", err)
	}
}

func TestNoKeyringFake(t *testing.T) {
	f := newFake()
	f.down = true
	s := withFake(f)
	if err := s.Set("a1", "x", KindSIPPassword, "pw"); !errors.Is(err, ErrNoKeyring) {
		t.Fatalf("Set: %v", err)
	}
	if err := s.Check(); !errors.Is(err, ErrNoKeyring) {
		t.Errorf("Check: %v", err)
	}
	const secret = "S3cr3t-Value-xyz"
	if err := s.Set("a1", "x", KindSIPPassword, secret); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("error %v mentions the secret", err)
	}
	if !strings.Contains(ErrNoKeyring.Error(), "secret service") {
		t.Errorf("ErrNoKeyring does not tell the user what to do: %v", ErrNoKeyring)
	}
	if f.sets != 0 {
		t.Errorf("%d items written", f.sets)
	}
}

func TestKeyringTimeout(t *testing.T) {
	f := newFake()
	f.hang = make(chan struct{})
	defer close(f.hang)
	s := withFake(f, WithTimeout(50*time.Millisecond))
	start := time.Now()
	_, err := s.Get("a1", "x", KindSIPPassword)
	if !errors.Is(err, ErrNoKeyring) || time.Since(start) > 2*time.Second {
		t.Errorf("Get: %v after %v", err, time.Since(start))
	}
}
