// Package crmtest holds test helpers for the CRM connectors: an in-memory
// keyring (the real one is secrets.Store on the OS keyring), optionally
// written through to a file so a killed test process keeps its tokens
// (NewKeyringFile), a browser that
// follows the authorize redirect over real HTTP, and a URL recorder for
// screen pops. It is imported by tests only.
package crmtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/secrets"
)

// Keyring is an in-memory crm.Keyring.
type Keyring struct {
	mu   sync.Mutex
	m    map[string]string
	path string // write-through file (NewKeyringFile), "" for none
}

// NewKeyring returns an empty keyring.
func NewKeyring() *Keyring { return &Keyring{m: map[string]string{}} }

func key(agent, account string, kind secrets.Kind) string {
	return agent + "\x00" + account + "\x00" + string(kind)
}

// Set stores a secret.
func (k *Keyring) Set(agent, account string, kind secrets.Kind, v string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key(agent, account, kind)] = v
	return k.persistLocked()
}

// Get returns a secret or secrets.ErrNotFound.
func (k *Keyring) Get(agent, account string, kind secrets.Kind) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key(agent, account, kind)]
	if !ok {
		return "", secrets.ErrNotFound
	}
	return v, nil
}

// Delete removes a secret or returns secrets.ErrNotFound.
func (k *Keyring) Delete(agent, account string, kind secrets.Kind) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[key(agent, account, kind)]; !ok {
		return secrets.ErrNotFound
	}
	delete(k.m, key(agent, account, kind))
	return k.persistLocked()
}

// Len is the number of stored secrets.
func (k *Keyring) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

// Browser plays the system browser: Open follows the authorize URL and its
// redirects over real HTTP (the login page, then the loopback callback).
type Browser struct {
	Client *http.Client
	mu     sync.Mutex
	urls   []string
	errs   []error
	wg     sync.WaitGroup
}

// Open implements crm.Opener asynchronously, like a real browser.
func (b *Browser) Open(u string) error {
	b.mu.Lock()
	b.urls = append(b.urls, u)
	b.mu.Unlock()
	c := b.Client
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err == nil {
			var resp *http.Response
			if resp, err = c.Do(req); err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode >= 400 {
					err = fmt.Errorf("browser: %s: %d", resp.Request.URL.Path, resp.StatusCode)
				}
			}
		}
		if err != nil {
			b.mu.Lock()
			b.errs = append(b.errs, err)
			b.mu.Unlock()
		}
	}()
	return nil
}

// URLs lists the opened URLs.
func (b *Browser) URLs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.urls)
}

// Wait waits for the pages to load and returns their errors.
func (b *Browser) Wait() []error {
	b.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.errs)
}

// Opened records screen-pop URLs instead of opening them.
type Opened struct {
	mu   sync.Mutex
	urls []string
	ch   chan string
}

// NewOpened returns a recorder.
func NewOpened() *Opened { return &Opened{ch: make(chan string, 64)} }

// Open records u.
func (o *Opened) Open(u string) error {
	o.mu.Lock()
	o.urls = append(o.urls, u)
	o.mu.Unlock()
	o.ch <- u
	return nil
}

// Next waits for the next opened URL.
func (o *Opened) Next(timeout time.Duration) (string, bool) {
	select {
	case u := <-o.ch:
		return u, true
	case <-time.After(timeout):
		return "", false
	}
}

// Sink is a recording domain.EventSink.
type Sink struct{ C chan domain.Input }

// NewSink returns a sink buffering n inputs.
func NewSink(n int) *Sink { return &Sink{C: make(chan domain.Input, n)} }

// Post records in.
func (s *Sink) Post(in domain.Input) error {
	s.C <- in
	return nil
}

// FreePort returns a TCP port on 127.0.0.1 that is free now, for a
// listener the code under test opens later (an OAuth loopback redirect
// registered with its exact port). It is taken below the kernel's
// ephemeral range (32768 and up on Linux), where the outgoing connections
// of tests running in parallel take their local ports, so the port is
// not grabbed by a client before the listener opens.
func FreePort() (int, error) {
	for range 200 {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		_ = l.Close()
		return port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
