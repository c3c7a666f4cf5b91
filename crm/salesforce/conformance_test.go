package salesforce_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/conformance"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/sfemu"
)

// TestMain runs the conformance suite's re-executed app process when this
// binary is that child, the tests otherwise.
func TestMain(m *testing.M) { conformance.Main(m, &sfHarness{}) }

// TestConformance runs the shared exactly-once suite (crm/conformance) on
// the Salesforce connector over sfemu.
func TestConformance(t *testing.T) { conformance.Run(t, &sfHarness{}) }

var quiet = slog.New(slog.DiscardHandler)

// envURL hands the emulator's address to the re-executed child.
const envURL = "CRM_CONFORMANCE_SFEMU_URL"

// sfHarness plugs the connector and sfemu into the conformance suite.
type sfHarness struct {
	mu      sync.Mutex
	emu     *sfemu.Server
	users   map[string]sfemu.User // agent -> emulator user
	timeout time.Duration         // of the last Connector
}

var (
	_ conformance.WriteCounter = (*sfHarness)(nil)
	_ conformance.Rejecter     = (*sfHarness)(nil)
)

func (h *sfHarness) Target() string { return salesforce.Name }

func (h *sfHarness) Start(tb testing.TB) {
	emu := sfemu.New(sfemu.Config{})
	if err := emu.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = emu.Close() })
	h.mu.Lock()
	h.emu, h.users = emu, map[string]sfemu.User{}
	h.mu.Unlock()
}

func (h *sfHarness) server() *sfemu.Server {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.emu
}

func (h *sfHarness) Connector(tb testing.TB, kr *crmtest.Keyring, timeout time.Duration) crm.Connector {
	port, err := crmtest.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	h.mu.Lock()
	h.timeout = timeout
	h.mu.Unlock()
	browser := &crmtest.Browser{}
	conn, err := salesforce.New(salesforce.Config{LoginURL: h.server().URL(), ClientID: sfemu.DefaultClientID,
		RedirectURL: fmt.Sprintf("http://localhost:%d/OauthRedirect", port), Keyring: kr, Opener: browser.Open,
		HTTPClient: &http.Client{Timeout: timeout}, Logger: quiet, Location: time.UTC})
	if err != nil {
		tb.Fatal(err)
	}
	return conn
}

func (h *sfHarness) SignIn(tb testing.TB, conn crm.Connector, agent string) {
	emu := h.server()
	h.mu.Lock()
	u, ok := h.users[agent]
	if !ok {
		u = emu.AddUser(agent+"@emu.test", agent)
		h.users[agent] = u
	}
	h.mu.Unlock()
	emu.SetBrowserUser(u.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := conn.SignIn(ctx, agent, crm.SignInOptions{}); err != nil {
		tb.Fatal(err)
	}
}

func (h *sfHarness) Stop(tb testing.TB) {
	if err := h.server().Stop(); err != nil {
		tb.Fatal(err)
	}
}

func (h *sfHarness) Restart(tb testing.TB) {
	if err := h.server().Restart(); err != nil {
		tb.Fatal(err)
	}
}

// write matches the connector's writes: the Collections upsert and the
// single upsert on the external ID.
var write = sfemu.Match{Method: http.MethodPatch, Path: "/*"}

func (h *sfHarness) Arm(f conformance.Fault, nth int) {
	m := write
	m.Nth = nth
	h.mu.Lock()
	slow := h.timeout + 300*time.Millisecond
	h.mu.Unlock()
	var fault sfemu.Fault
	switch f {
	case conformance.FaultExpiredToken:
		fault = sfemu.Fault{ExpireAccessTokens: true}
	case conformance.FaultServerError:
		fault = sfemu.Fault{Status: http.StatusServiceUnavailable, Body: "<html><body>Service Unavailable</body></html>"}
	case conformance.FaultRateLimited:
		// Salesforce's daily limit: 403 REQUEST_LIMIT_EXCEEDED, no Retry-After.
		fault = sfemu.Fault{Status: http.StatusForbidden, ErrorCode: "REQUEST_LIMIT_EXCEEDED"}
	case conformance.FaultCommitThenDrop:
		fault = sfemu.Fault{CommitThenDrop: true}
	case conformance.FaultDropBeforeCommit:
		fault = sfemu.Fault{DropBeforeCommit: true}
	case conformance.FaultTruncated:
		fault = sfemu.Fault{TruncateBody: true}
	case conformance.FaultSlow:
		fault = sfemu.Fault{Latency: slow}
	case conformance.FaultReadError:
		// Reads: the read-first query or record GET, a SOSL lookup, the
		// health check.
		m = sfemu.Match{Method: http.MethodGet, Path: "/*", Nth: nth}
		fault = sfemu.Fault{Status: http.StatusInternalServerError, ErrorCode: "UNKNOWN_EXCEPTION"}
	default:
		panic(fmt.Sprintf("sfHarness: unknown fault %v", f))
	}
	fault.Match = m
	h.server().AddFault(fault)
}

func (h *sfHarness) Fired() int { return h.server().FaultsFired() }

// Slow arms an Every latency fault on writes; sfemu can only disarm every
// fault at once, which Slow(0) does (the suite never mixes Slow and Arm).
func (h *sfHarness) Slow(d time.Duration) {
	emu := h.server()
	emu.ClearFaults()
	if d > 0 {
		emu.AddFault(sfemu.Fault{Match: sfemu.Match{Method: http.MethodPatch, Path: "/*", Every: true}, Latency: d})
	}
}

func (h *sfHarness) RevokeAll() { h.server().RevokeRefreshTokens() }

func (h *sfHarness) Logs() map[string]int {
	out := map[string]int{}
	for _, t := range h.server().Records("Task") {
		k, _ := t[sfemu.DefaultExternalIDField].(string)
		out[k]++
	}
	return out
}

// Writes counts the writes of each Task by its external ID.
func (h *sfHarness) Writes() map[string]int {
	emu := h.server()
	byID := map[string]string{}
	for _, t := range emu.Records("Task") {
		id, _ := t["Id"].(string)
		k, _ := t[sfemu.DefaultExternalIDField].(string)
		byID[id] = k
	}
	out := map[string]int{}
	for id, n := range emu.TaskWrites() {
		out[byID[id]] += n
	}
	return out
}

// Reject adds a validation rule on CallObject, which holds the log's key.
func (h *sfHarness) Reject(_ string, log domain.CallLog) {
	h.server().AddValidationRule(sfemu.ValidationRule{Field: "CallObject", Equals: log.Key,
		Message: "Call Result is required for outbound calls"})
}

func (h *sfHarness) AcceptAll() { h.server().ClearValidationRules() }

func (h *sfHarness) ChildEnv(tb testing.TB, kr *crmtest.Keyring, agent string) []string {
	return []string{envURL + "=" + h.server().URL()}
}

func (h *sfHarness) ChildConnector() (crm.Connector, error) {
	url := os.Getenv(envURL)
	if url == "" {
		return nil, errors.New("sfHarness child: no emulator url in " + envURL)
	}
	kr, err := conformance.ChildKeyring()
	if err != nil {
		return nil, err
	}
	return salesforce.New(salesforce.Config{LoginURL: url, ClientID: sfemu.DefaultClientID, Keyring: kr, Logger: quiet,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}, Location: time.UTC,
		Opener: func(string) error { return errors.New("no browser in the child process") }})
}

// TestConformanceCatchesBrokenConnectors proves this harness lets the suite
// fail (crm/conformance.CatchesBroken).
func TestConformanceCatchesBrokenConnectors(t *testing.T) {
	conformance.CatchesBroken(t, &sfHarness{})
}

// BenchmarkConformanceDrain reports the drain throughput over sfemu
// (crm/conformance.Bench): batched and one by one.
func BenchmarkConformanceDrain(b *testing.B) { conformance.Bench(b, &sfHarness{}) }
