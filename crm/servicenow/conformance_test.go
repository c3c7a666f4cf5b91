package servicenow_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
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
func TestMain(m *testing.M) { conformance.Main(m, newSNHarness("")) }

// TestConformance runs the shared exactly-once suite (crm/conformance) on
// the connector over servicenowemu, through the Table API with the unique
// call key field.
func TestConformance(t *testing.T) {
	t.Parallel() // the two runs mostly wait on fault delays; each has its own emulator
	conformance.Run(t, newSNHarness(""), conformance.WithLogs(200))
}

// TestConformanceImportSet runs the suite through the Import Set API
// (ImportSetTable), whose transform coalesces on the call key.
func TestConformanceImportSet(t *testing.T) {
	t.Parallel()
	conformance.Run(t, newSNHarness(stagingTable), conformance.WithLogs(100), conformance.WithCrashLogs(160))
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
	conformance.EmukitBase[*servicenowemu.Server]
	importSet string // staging table: log through the Import Set API
}

var _ conformance.WriteCounter = (*snHarness)(nil)

func newSNHarness(importSet string) *snHarness {
	h := &snHarness{importSet: importSet}
	h.New = func() *servicenowemu.Server { return servicenowemu.New(servicenowemu.Config{ImportSet: importSet}) }
	// The connector's log writes: the interaction insert, or the import
	// set row. Reads: the read before a write, a lookup, the identity.
	h.WriteMatch = emukit.Match{Method: http.MethodPost, Path: "/api/now/v2/table/interaction"}
	if importSet != "" {
		h.WriteMatch.Path = "/api/now/import/" + importSet
	}
	h.ReadMatches = []emukit.Match{{Method: http.MethodGet, Path: "/api/now/*"}}
	h.Answers = map[conformance.Fault]emukit.Fault{
		conformance.FaultReadError: {Status: http.StatusInternalServerError, Code: "Internal Server Error", Message: "Transaction cancelled: maximum execution time exceeded"},
	}
	return h
}

func (h *snHarness) Target() string { return servicenow.Name }

func (h *snHarness) Connector(tb testing.TB, kr *crmtest.Keyring, timeout time.Duration) crm.Connector {
	port, err := crmtest.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	h.SetTimeout(timeout)
	browser := &crmtest.Browser{}
	conn, err := servicenow.New(servicenow.Config{InstanceURL: h.Server().URL(), ClientID: servicenowemu.DefaultClientID,
		RedirectURL: fmt.Sprintf("http://localhost:%d/servicenow/callback", port), Keyring: kr, Opener: browser.Open,
		HTTPClient: &http.Client{Timeout: timeout}, Logger: quiet, ImportSetTable: h.importSet})
	if err != nil {
		tb.Fatal(err)
	}
	return conn
}

func (h *snHarness) SignIn(tb testing.TB, conn crm.Connector, agent string) {
	h.BrowserSignIn(tb, conn, agent)
}

func (h *snHarness) Logs() map[string]int { return h.Server().Logs() }

func (h *snHarness) Writes() map[string]int { return h.Server().Writes() }

func (h *snHarness) ChildEnv(tb testing.TB, kr *crmtest.Keyring, agent string) []string {
	return []string{envURL + "=" + h.Server().URL(), envImport + "=" + h.importSet}
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
