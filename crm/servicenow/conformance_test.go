package servicenow_test

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

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/conformance"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/emukit"
	"github.com/callcentre/softphone/crm/servicenow"
	"github.com/callcentre/softphone/crm/servicenowemu"
)

// TestMain runs the conformance suite's re-executed app process when this
// binary is that child, the tests otherwise.
func TestMain(m *testing.M) { conformance.Main(m, &snHarness{}) }

// TestConformance runs the shared exactly-once suite (crm/conformance) on
// the connector over servicenowemu, through the Table API with the unique
// call key field.
func TestConformance(t *testing.T) {
	t.Parallel() // the two runs mostly wait on fault delays; each has its own emulator
	conformance.Run(t, &snHarness{}, conformance.WithLogs(200))
}

// TestConformanceImportSet runs the suite through the Import Set API
// (ImportSetTable), whose transform coalesces on the call key.
func TestConformanceImportSet(t *testing.T) {
	t.Parallel()
	conformance.Run(t, &snHarness{importSet: stagingTable}, conformance.WithLogs(100), conformance.WithCrashLogs(160))
}

// stagingTable is the import set of the import-set variant.
const stagingTable = "u_cti_call_import"

var quiet = slog.New(slog.DiscardHandler)

// envURL and envImport hand the emulator's address and the import set
// to the re-executed child.
const (
	envURL    = "CRM_CONFORMANCE_SERVICENOWEMU_URL"
	envImport = "CRM_CONFORMANCE_SERVICENOWEMU_IMPORT_SET"
)

// snHarness plugs the connector and servicenowemu into the suite.
type snHarness struct {
	importSet string // staging table: log through the Import Set API

	mu      sync.Mutex
	emu     *servicenowemu.Server
	users   map[string]emukit.User // agent -> emulator user
	timeout time.Duration          // of the last Connector
}

var _ conformance.WriteCounter = (*snHarness)(nil)

func (h *snHarness) Target() string { return servicenow.Name }

func (h *snHarness) Start(tb testing.TB) {
	emu := servicenowemu.New(servicenowemu.Config{ImportSet: h.importSet})
	if err := emu.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = emu.Close() })
	h.mu.Lock()
	h.emu, h.users = emu, map[string]emukit.User{}
	h.mu.Unlock()
}

func (h *snHarness) server() *servicenowemu.Server {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.emu
}

func (h *snHarness) Connector(tb testing.TB, kr *crmtest.Keyring, timeout time.Duration) crm.Connector {
	port, err := crmtest.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	h.mu.Lock()
	h.timeout = timeout
	h.mu.Unlock()
	browser := &crmtest.Browser{}
	conn, err := servicenow.New(servicenow.Config{InstanceURL: h.server().URL(), ClientID: servicenowemu.DefaultClientID,
		RedirectURL: fmt.Sprintf("http://localhost:%d/servicenow/callback", port), Keyring: kr, Opener: browser.Open,
		HTTPClient: &http.Client{Timeout: timeout}, Logger: quiet, ImportSetTable: h.importSet})
	if err != nil {
		tb.Fatal(err)
	}
	return conn
}

func (h *snHarness) SignIn(tb testing.TB, conn crm.Connector, agent string) {
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

func (h *snHarness) Stop(tb testing.TB) {
	if err := h.server().Stop(); err != nil {
		tb.Fatal(err)
	}
}

func (h *snHarness) Restart(tb testing.TB) {
	if err := h.server().Restart(); err != nil {
		tb.Fatal(err)
	}
}

// write matches the connector's log writes: the interaction insert, or
// the import set row.
func (h *snHarness) write() emukit.Match {
	if h.importSet != "" {
		return emukit.Match{Method: http.MethodPost, Path: "/api/now/import/" + h.importSet}
	}
	return emukit.Match{Method: http.MethodPost, Path: "/api/now/v2/table/interaction"}
}

func (h *snHarness) Arm(f conformance.Fault, nth int) {
	m := h.write()
	m.Nth = nth
	h.mu.Lock()
	slow := h.timeout + 300*time.Millisecond
	h.mu.Unlock()
	var fault emukit.Fault
	switch f {
	case conformance.FaultExpiredToken:
		fault = emukit.Fault{ExpireAccessTokens: true}
	case conformance.FaultServerError:
		fault = emukit.Fault{Status: http.StatusServiceUnavailable, Body: "<html><body>Service Unavailable</body></html>"}
	case conformance.FaultRateLimited:
		fault = emukit.Fault{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "1"}}
	case conformance.FaultCommitThenDrop:
		fault = emukit.Fault{CommitThenDrop: true}
	case conformance.FaultDropBeforeCommit:
		fault = emukit.Fault{DropBeforeCommit: true}
	case conformance.FaultTruncated:
		fault = emukit.Fault{TruncateBody: true}
	case conformance.FaultSlow:
		fault = emukit.Fault{Latency: slow}
	case conformance.FaultReadError:
		// Reads: the read before a write, a lookup, the identity.
		m = emukit.Match{Method: http.MethodGet, Path: "/api/now/*", Nth: nth}
		fault = emukit.Fault{Status: http.StatusInternalServerError, Code: "Internal Server Error", Message: "Transaction cancelled: maximum execution time exceeded"}
	default:
		panic(fmt.Sprintf("snHarness: unknown fault %v", f))
	}
	fault.Match = m
	h.server().AddFault(fault)
}

func (h *snHarness) Fired() int { return h.server().FaultsFired() }

// Slow arms an Every latency fault on writes; Slow(0) disarms every fault
// (the suite never mixes Slow and Arm).
func (h *snHarness) Slow(d time.Duration) {
	emu := h.server()
	emu.ClearFaults()
	if d > 0 {
		m := h.write()
		m.Every = true
		emu.AddFault(emukit.Fault{Match: m, Latency: d})
	}
}

func (h *snHarness) RevokeAll() { h.server().RevokeRefreshTokens() }

func (h *snHarness) Logs() map[string]int { return h.server().Logs() }

func (h *snHarness) Writes() map[string]int { return h.server().Writes() }

func (h *snHarness) ChildEnv(tb testing.TB, kr *crmtest.Keyring, agent string) []string {
	return []string{envURL + "=" + h.server().URL(), envImport + "=" + h.importSet}
}

func (h *snHarness) ChildConnector() (crm.Connector, error) {
	u := os.Getenv(envURL)
	if u == "" {
		return nil, errors.New("snHarness child: no emulator url in " + envURL)
	}
	kr, err := conformance.ChildKeyring()
	if err != nil {
		return nil, err
	}
	return servicenow.New(servicenow.Config{InstanceURL: u, ClientID: servicenowemu.DefaultClientID, Keyring: kr, Logger: quiet,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}, ImportSetTable: os.Getenv(envImport),
		Opener: func(string) error { return errors.New("no browser in the child process") }})
}
