package dynamics_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/conformance"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/dynamicsemu"
	"github.com/callcentre/softphone/crm/emukit"
)

// TestMain runs the conformance suite's re-executed app process when this
// binary is that child, the tests otherwise.
func TestMain(m *testing.M) { conformance.Main(m, &dvHarness{}) }

// TestConformance runs the shared exactly-once suite (crm/conformance) on
// the Dynamics connector over dynamicsemu.
func TestConformance(t *testing.T) {
	conformance.Run(t, &dvHarness{}, conformance.WithLogs(120), conformance.WithCrashLogs(120))
}

var quiet = slog.New(slog.DiscardHandler)

// envURL hands the emulator's address to the re-executed child.
const envURL = "CRM_CONFORMANCE_DYNAMICSEMU_URL"

// keyColumn is the custom phonecall column that holds the call key, so
// the harness can count records per key.
const keyColumn = "cti_callkey"

// dvHarness plugs the connector and dynamicsemu into the conformance
// suite.
type dvHarness struct {
	mu      sync.Mutex
	emu     *dynamicsemu.Server
	users   map[string]emukit.User // agent -> emulator user
	timeout time.Duration          // of the last Connector
}

var _ conformance.WriteCounter = (*dvHarness)(nil)

func (h *dvHarness) Target() string { return dynamics.Name }

func (h *dvHarness) Start(tb testing.TB) {
	emu := dynamicsemu.New(dynamicsemu.Config{CustomColumns: []string{keyColumn}})
	if err := emu.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = emu.Close() })
	h.mu.Lock()
	h.emu, h.users = emu, map[string]emukit.User{}
	h.mu.Unlock()
}

func (h *dvHarness) server() *dynamicsemu.Server {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.emu
}

func harnessConfig(emuURL string, kr crm.Keyring, timeout time.Duration, opener crm.Opener) dynamics.Config {
	return dynamics.Config{OrgURL: emuURL, Authority: emuURL, Tenant: dynamicsemu.DefaultTenant, ClientID: dynamicsemu.DefaultClientID,
		Columns: map[string]string{dynamics.ColumnCallKey: keyColumn}, Keyring: kr, Opener: opener,
		HTTPClient: &http.Client{Timeout: timeout}, Logger: quiet}
}

func (h *dvHarness) Connector(tb testing.TB, kr *crmtest.Keyring, timeout time.Duration) crm.Connector {
	h.mu.Lock()
	h.timeout = timeout
	h.mu.Unlock()
	browser := &crmtest.Browser{}
	conn, err := dynamics.New(harnessConfig(h.server().URL(), kr, timeout, browser.Open))
	if err != nil {
		tb.Fatal(err)
	}
	return conn
}

func (h *dvHarness) SignIn(tb testing.TB, conn crm.Connector, agent string) {
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

func (h *dvHarness) Stop(tb testing.TB) {
	if err := h.server().Stop(); err != nil {
		tb.Fatal(err)
	}
}

func (h *dvHarness) Restart(tb testing.TB) {
	if err := h.server().Restart(); err != nil {
		tb.Fatal(err)
	}
}

// write matches the connector's writes: the create and the close, both
// PATCH phonecalls(<id>).
var write = emukit.Match{Method: http.MethodPatch, Path: "/api/data/*"}

func (h *dvHarness) Arm(f conformance.Fault, nth int) {
	m := write
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
		// Service protection: 429, Retry-After, 0x80072322.
		fault = emukit.Fault{Status: http.StatusTooManyRequests, Code: dynamicsemu.CodeRequestsExceeded,
			Message: "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
			Header:  map[string]string{"Retry-After": "1"}}
	case conformance.FaultCommitThenDrop:
		fault = emukit.Fault{CommitThenDrop: true}
	case conformance.FaultDropBeforeCommit:
		fault = emukit.Fault{DropBeforeCommit: true}
	case conformance.FaultTruncated:
		fault = emukit.Fault{TruncateBody: true}
	case conformance.FaultSlow:
		fault = emukit.Fault{Latency: slow}
	case conformance.FaultReadError:
		// Reads: the state read before a write, lookups, WhoAmI.
		m = emukit.Match{Method: http.MethodGet, Path: "/api/data/*", Nth: nth}
		fault = emukit.Fault{Status: http.StatusInternalServerError, Code: "0x80040216", Message: "An unexpected error occurred."}
	default:
		panic("dvHarness: unknown fault " + f.String())
	}
	fault.Match = m
	h.server().AddFault(fault)
}

func (h *dvHarness) Fired() int { return h.server().FaultsFired() }

// Slow arms an Every latency fault on writes; Slow(0) disarms every fault
// (the suite never mixes Slow and Arm).
func (h *dvHarness) Slow(d time.Duration) {
	emu := h.server()
	emu.ClearFaults()
	if d > 0 {
		emu.AddFault(emukit.Fault{Match: emukit.Match{Method: http.MethodPatch, Path: "/api/data/*", Every: true}, Latency: d})
	}
}

func (h *dvHarness) RevokeAll() { h.server().RevokeRefreshTokens() }

func (h *dvHarness) Logs() map[string]int {
	out := map[string]int{}
	for _, pc := range h.server().PhoneCalls() {
		k, _ := pc.Custom[keyColumn].(string)
		out[k]++
	}
	return out
}

// Writes counts the writes of each phone call beyond its close: a log is
// one create and one close (Version 2), so a record counts 1 when it was
// created once and closed once, more when a replay wrote it again, and 0
// when it was left open.
func (h *dvHarness) Writes() map[string]int {
	out := map[string]int{}
	for _, pc := range h.server().PhoneCalls() {
		k, _ := pc.Custom[keyColumn].(string)
		n := pc.Version - 1
		if pc.StateCode != 1 {
			n = 0
		}
		out[k] += n
	}
	return out
}

func (h *dvHarness) ChildEnv(tb testing.TB, kr *crmtest.Keyring, agent string) []string {
	return []string{envURL + "=" + h.server().URL()}
}

func (h *dvHarness) ChildConnector() (crm.Connector, error) {
	u := os.Getenv(envURL)
	if u == "" {
		return nil, errors.New("dvHarness child: no emulator url in " + envURL)
	}
	kr, err := conformance.ChildKeyring()
	if err != nil {
		return nil, err
	}
	return dynamics.New(harnessConfig(u, kr, 10*time.Second, func(string) error {
		return errors.New("no browser in the child process")
	}))
}
