package conformance

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/emukit"
)

// Emulator is an emulator built on crm/emukit: its embedded *emukit.Server
// gives it every method.
type Emulator interface {
	Start() error
	Close() error
	Stop() error
	Restart() error
	URL() string
	AddFault(emukit.Fault)
	ClearFaults()
	FaultsFired() int
	RevokeRefreshTokens()
	AddUser(username, name string) emukit.User
	SetBrowserUser(id string)
}

// EmukitBase is the part of a Harness that is the same for every emulator
// built on crm/emukit: the emulator's lifecycle, the mapping of each Fault
// onto an emukit.Fault, Slow, RevokeAll and the agents' CRM users. A
// connector's harness embeds it, sets New, Writes and Reads (and Answers
// where the CRM answers a fault its own way), and adds Target, Connector,
// SignIn (BrowserSignIn does the browser path), Logs and the child
// process's methods. Connector must call SetTimeout, so FaultSlow outlasts
// the client's timeout.
type EmukitBase[S Emulator] struct {
	// New builds the fresh emulator each Start starts.
	New func() S
	// WriteMatch matches the connector's log writes; ReadMatches the requests
	// FaultReadError fails (lookups, the read before a write). Arm sets
	// their Nth.
	WriteMatch  emukit.Match
	ReadMatches []emukit.Match
	// Answers replaces the default answer of a fault kind with the CRM's
	// own (status, error code, message, body, headers); its Match is not
	// used. The defaults are in the package documentation.
	Answers map[Fault]emukit.Fault

	mu      sync.Mutex
	emu     S
	users   map[string]emukit.User // agent -> CRM user
	timeout time.Duration          // of the last Connector
}

// Start starts a fresh emulator, closed when tb ends.
func (b *EmukitBase[S]) Start(tb testing.TB) {
	emu := b.New()
	if err := emu.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = emu.Close() })
	b.mu.Lock()
	b.emu, b.users = emu, map[string]emukit.User{}
	b.mu.Unlock()
}

// Server is the running emulator.
func (b *EmukitBase[S]) Server() S {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.emu
}

// SetTimeout records the client timeout of the connector being built.
func (b *EmukitBase[S]) SetTimeout(d time.Duration) {
	b.mu.Lock()
	b.timeout = d
	b.mu.Unlock()
}

// User is agent's CRM user (agent@emu.test), added on first use.
func (b *EmukitBase[S]) User(agent string) emukit.User {
	emu := b.Server()
	b.mu.Lock()
	defer b.mu.Unlock()
	u, ok := b.users[agent]
	if !ok {
		u = emu.AddUser(agent+"@emu.test", agent)
		b.users[agent] = u
	}
	return u
}

// BrowserSignIn signs agent's CRM user in through conn's browser flow (the
// emulator's authorize page logs in its browser user).
func (b *EmukitBase[S]) BrowserSignIn(tb testing.TB, conn crm.Connector, agent string) {
	b.Server().SetBrowserUser(b.User(agent).ID)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := conn.SignIn(ctx, agent, crm.SignInOptions{Timeout: time.Minute}); err != nil {
		tb.Fatalf("sign %s in: %v", agent, err)
	}
}

// Stop takes the emulator offline.
func (b *EmukitBase[S]) Stop(tb testing.TB) {
	if err := b.Server().Stop(); err != nil {
		tb.Fatal(err)
	}
}

// Restart brings it back on the same address.
func (b *EmukitBase[S]) Restart(tb testing.TB) {
	if err := b.Server().Restart(); err != nil {
		tb.Fatal(err)
	}
}

// Arm fails the nth matching request from now with f: a write, or for
// FaultReadError the nth request of each of ReadMatches.
func (b *EmukitBase[S]) Arm(f Fault, nth int) {
	b.mu.Lock()
	slow := b.timeout + 300*time.Millisecond
	b.mu.Unlock()
	fault, ok := b.Answers[f]
	if !ok {
		switch f {
		case FaultExpiredToken:
			fault = emukit.Fault{ExpireAccessTokens: true}
		case FaultServerError:
			fault = emukit.Fault{Status: http.StatusServiceUnavailable, Body: "<html><body>503 Service Unavailable</body></html>"}
		case FaultRateLimited:
			fault = emukit.Fault{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "1"}}
		case FaultCommitThenDrop:
			fault = emukit.Fault{CommitThenDrop: true}
		case FaultDropBeforeCommit:
			fault = emukit.Fault{DropBeforeCommit: true}
		case FaultTruncated:
			fault = emukit.Fault{TruncateBody: true}
		case FaultSlow:
			fault = emukit.Fault{Latency: slow}
		case FaultReadError:
			fault = emukit.Fault{Status: http.StatusInternalServerError}
		default:
			panic("conformance: no emukit fault for " + f.String())
		}
	}
	matches := []emukit.Match{b.WriteMatch}
	if f == FaultReadError {
		matches = b.ReadMatches
	}
	emu := b.Server()
	for _, m := range matches {
		m.Nth = nth
		fault.Match = m
		emu.AddFault(fault)
	}
}

// Fired counts the requests armed faults have hit.
func (b *EmukitBase[S]) Fired() int { return b.Server().FaultsFired() }

// Slow delays every write by d from now on; Slow(0) disarms every fault.
func (b *EmukitBase[S]) Slow(d time.Duration) {
	emu := b.Server()
	emu.ClearFaults()
	if d > 0 {
		m := b.WriteMatch
		m.Every = true
		emu.AddFault(emukit.Fault{Match: m, Latency: d})
	}
}

// RevokeAll revokes every refresh and access token the emulator issued.
func (b *EmukitBase[S]) RevokeAll() { b.Server().RevokeRefreshTokens() }
