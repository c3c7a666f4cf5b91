package dynamics_test

import (
	"errors"
	"log/slog"
	"net/http"
	"os"
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
func TestMain(m *testing.M) { conformance.Main(m, newDVHarness()) }

// TestConformance runs the shared exactly-once suite (crm/conformance) on
// the Dynamics connector over dynamicsemu.
func TestConformance(t *testing.T) {
	conformance.Run(t, newDVHarness(), conformance.WithLogs(120), conformance.WithCrashLogs(120))
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
	conformance.EmukitBase[*dynamicsemu.Server]
}

var _ conformance.WriteCounter = (*dvHarness)(nil)

func newDVHarness() *dvHarness {
	h := &dvHarness{}
	h.New = func() *dynamicsemu.Server {
		return dynamicsemu.New(dynamicsemu.Config{CustomColumns: []string{keyColumn}})
	}
	// The connector's writes are the create and the close, both PATCH
	// phonecalls(<id>); its reads the state read before a write, lookups
	// and WhoAmI.
	h.WriteMatch = emukit.Match{Method: http.MethodPatch, Path: "/api/data/*"}
	h.ReadMatches = []emukit.Match{{Method: http.MethodGet, Path: "/api/data/*"}}
	h.Answers = map[conformance.Fault]emukit.Fault{
		// Service protection: 429, Retry-After, 0x80072322.
		conformance.FaultRateLimited: {Status: http.StatusTooManyRequests, Code: dynamicsemu.CodeRequestsExceeded,
			Message: "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
			Header:  map[string]string{"Retry-After": "1"}},
		conformance.FaultReadError: {Status: http.StatusInternalServerError, Code: "0x80040216", Message: "An unexpected error occurred."},
	}
	return h
}

func (h *dvHarness) Target() string { return dynamics.Name }

func harnessConfig(emuURL string, kr crm.Keyring, timeout time.Duration, opener crm.Opener) dynamics.Config {
	return dynamics.Config{OrgURL: emuURL, Authority: emuURL, Tenant: dynamicsemu.DefaultTenant, ClientID: dynamicsemu.DefaultClientID,
		Columns: map[string]string{dynamics.ColumnCallKey: keyColumn}, Keyring: kr, Opener: opener,
		HTTPClient: &http.Client{Timeout: timeout}, Logger: quiet}
}

func (h *dvHarness) Connector(tb testing.TB, kr *crmtest.Keyring, timeout time.Duration) crm.Connector {
	h.SetTimeout(timeout)
	browser := &crmtest.Browser{}
	conn, err := dynamics.New(harnessConfig(h.Server().URL(), kr, timeout, browser.Open))
	if err != nil {
		tb.Fatal(err)
	}
	return conn
}

func (h *dvHarness) SignIn(tb testing.TB, conn crm.Connector, agent string) {
	h.BrowserSignIn(tb, conn, agent)
}

func (h *dvHarness) Logs() map[string]int {
	out := map[string]int{}
	for _, pc := range h.Server().PhoneCalls() {
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
	for _, pc := range h.Server().PhoneCalls() {
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
	return []string{envURL + "=" + h.Server().URL()}
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
