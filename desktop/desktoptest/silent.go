// Package desktoptest has test helpers for code that talks to the running
// instance (package desktop).
package desktoptest

import (
	"net"
	"sync"
	"testing"
)

// SilentInstance listens on the unix socket path like a hung first
// instance: it takes every connection and never reads or answers. It is
// closed, with its connections, when the test ends; the listener is
// returned for a test that ends it sooner.
func SilentInstance(t testing.TB, path string) net.Listener {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln
}
