package hubspot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/conformance"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/emukit"
	"github.com/callcentre/softphone/crm/hubspot"
	"github.com/callcentre/softphone/crm/hubspotemu"
)

// TestMain runs the conformance suite's re-executed app process when this
// binary is that child, the tests otherwise.
func TestMain(m *testing.M) { conformance.Main(m, newHSHarness(hubspot.AuthPortalToken)) }

// TestConformance runs the shared exactly-once suite on the connector
// with IT's portal token (the primary path) over hubspotemu.
func TestConformance(t *testing.T) {
	conformance.Run(t, newHSHarness(hubspot.AuthPortalToken))
}

// TestConformanceOAuth runs it with per-agent OAuth, where expired access
// tokens are refreshed and revocation clears the keyring.
func TestConformanceOAuth(t *testing.T) {
	if testing.Short() {
		t.Skip("the portal-token run covers the write path; -short skips the oauth run")
	}
	conformance.Run(t, newHSHarness(hubspot.AuthOAuth), conformance.WithLogs(200), conformance.WithCrashLogs(120))
}

var quiet = slog.New(slog.DiscardHandler)

// Environment of the re-executed child.
const (
	envURL  = "CRM_CONFORMANCE_HUBSPOTEMU_URL"
	envMode = "CRM_CONFORMANCE_HUBSPOT_MODE"
)

// hsHarness plugs the connector and hubspotemu into the conformance suite.
type hsHarness struct {
	conformance.EmukitBase[*hubspotemu.Server]
	mode hubspot.AuthMode

	mu     sync.Mutex
	portal string // IT's private-app token in AuthPortalToken mode
}

var _ conformance.WriteCounter = (*hsHarness)(nil)

func newHSHarness(mode hubspot.AuthMode) *hsHarness {
	h := &hsHarness{mode: mode}
	h.New = func() *hubspotemu.Server {
		h.mu.Lock()
		h.portal = ""
		h.mu.Unlock()
		return hubspotemu.New(hubspotemu.Config{})
	}
	// Writes: the batch upsert. Reads: the read before a write
	// (batch/read) and a lookup (search).
	h.WriteMatch = emukit.Match{Method: http.MethodPost, Path: "/crm/v3/objects/calls/batch/upsert"}
	h.ReadMatches = []emukit.Match{
		{Method: http.MethodPost, Path: "/crm/v3/objects/calls/batch/read"},
		{Method: http.MethodPost, Path: "/crm/v3/objects/contacts/search"},
	}
	h.Answers = map[conformance.Fault]emukit.Fault{
		conformance.FaultRateLimited: {Status: http.StatusTooManyRequests, Code: "TEN_SECONDLY_ROLLING", Header: map[string]string{"Retry-After": "1"}},
		conformance.FaultReadError:   {Status: http.StatusInternalServerError, Code: "INTERNAL_ERROR"},
	}
	return h
}

func (h *hsHarness) Target() string { return hubspot.Name }

func ownerEmail(agent string) string { return agent + "@emu.test" }

func newConnector(mode hubspot.AuthMode, base, redirect string, kr crm.Keyring, opener crm.Opener, timeout time.Duration) (*hubspot.Connector, error) {
	return hubspot.New(hubspot.Config{Auth: mode, APIURL: base, AuthorizeURL: base + "/oauth/authorize",
		ClientID: hubspotemu.DefaultClientID, RedirectURL: redirect, OwnerEmail: ownerEmail, Keyring: kr,
		Opener: opener, HTTPClient: &http.Client{Timeout: timeout}, Logger: quiet})
}

func (h *hsHarness) Connector(tb testing.TB, kr *crmtest.Keyring, timeout time.Duration) crm.Connector {
	port, err := crmtest.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	h.SetTimeout(timeout)
	browser := &crmtest.Browser{}
	conn, err := newConnector(h.mode, h.Server().URL(), fmt.Sprintf("http://localhost:%d/oauth-callback", port), kr, browser.Open, timeout)
	if err != nil {
		tb.Fatal(err)
	}
	if h.mode == hubspot.AuthOAuth {
		if err := conn.SetClientSecret(hubspotemu.DefaultClientSecret); err != nil {
			tb.Fatal(err)
		}
	}
	return conn
}

// SignIn signs the agent's CRM user (the owner, found by e-mail) in through
// the browser, or with IT's portal token (a new one after RevokeAll).
func (h *hsHarness) SignIn(tb testing.TB, conn crm.Connector, agent string) {
	if h.mode == hubspot.AuthOAuth {
		h.BrowserSignIn(tb, conn, agent)
		return
	}
	emu := h.Server()
	h.User(agent)
	h.mu.Lock()
	if _, live := emu.TokenUser(h.portal); !live {
		h.portal = emu.PrivateAppToken()
	}
	portal := h.portal
	h.mu.Unlock()
	hc, ok := conn.(*hubspot.Connector)
	if !ok {
		tb.Fatalf("connector %T", conn)
	}
	if err := hc.SetPortalToken("", portal); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.SignIn(ctx, agent, crm.SignInOptions{}); err != nil {
		tb.Fatal(err)
	}
}

func (h *hsHarness) Logs() map[string]int {
	out := map[string]int{}
	for _, c := range h.Server().Calls() {
		out[c.Properties[hubspot.DefaultCallKey]]++
	}
	return out
}

// Writes counts the upserts applied to each call.
func (h *hsHarness) Writes() map[string]int { return h.Server().Writes() }

func (h *hsHarness) ChildEnv(tb testing.TB, kr *crmtest.Keyring, agent string) []string {
	return []string{envURL + "=" + h.Server().URL(), envMode + "=" + strconv.Itoa(int(h.mode))}
}

func (h *hsHarness) ChildConnector() (crm.Connector, error) {
	base := os.Getenv(envURL)
	if base == "" {
		return nil, errors.New("hsHarness child: no emulator url in " + envURL)
	}
	mode, err := strconv.Atoi(os.Getenv(envMode))
	if err != nil {
		return nil, fmt.Errorf("hsHarness child: mode: %w", err)
	}
	kr, err := conformance.ChildKeyring()
	if err != nil {
		return nil, err
	}
	return newConnector(hubspot.AuthMode(mode), base, hubspot.DefaultRedirectURL, kr,
		func(string) error { return errors.New("no browser in the child process") }, 10*time.Second)
}

// TestConformanceCatchesBrokenConnectors proves this harness lets the suite
// fail (crm/conformance.CatchesBroken).
func TestConformanceCatchesBrokenConnectors(t *testing.T) {
	conformance.CatchesBroken(t, newHSHarness(hubspot.AuthPortalToken))
}
