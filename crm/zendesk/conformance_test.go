package zendesk_test

import (
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
	"github.com/callcentre/softphone/crm/zendesk"
	"github.com/callcentre/softphone/crm/zendeskemu"
)

const envEmuURL = "ZENDESK_CONFORMANCE_EMU_URL"

// harness plugs the Zendesk connector and zendeskemu into the shared
// exactly-once suite.
type harness struct {
	conformance.EmukitBase[*zendeskemu.Server]
}

var _ conformance.Harness = (*harness)(nil)

func newHarness() *harness {
	h := &harness{}
	h.New = func() *zendeskemu.Server { return zendeskemu.New(zendeskemu.Config{}) }
	h.WriteMatch = emukit.Match{Method: http.MethodPost, Path: "/api/v2/tickets.json"}
	h.ReadMatches = []emukit.Match{{Method: http.MethodGet, Path: "/api/v2/*"}}
	h.Answers = map[conformance.Fault]emukit.Fault{
		conformance.FaultServerError: {Status: http.StatusServiceUnavailable, Body: "<html><body>Zendesk is down for maintenance</body></html>"},
	}
	return h
}

func (h *harness) Target() string { return zendesk.Name }

func (h *harness) Connector(tb testing.TB, kr *crmtest.Keyring, timeout time.Duration) crm.Connector {
	port, err := crmtest.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	h.SetTimeout(timeout)
	c, err := zendesk.New(zendesk.Config{
		BaseURL:     h.Server().URL(),
		ClientID:    zendeskemu.DefaultClientID,
		RedirectURL: fmt.Sprintf("http://127.0.0.1:%d/zendesk/callback", port),
		Keyring:     kr,
		Opener:      (&crmtest.Browser{}).Open,
		HTTPClient:  &http.Client{Timeout: timeout},
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func (h *harness) SignIn(tb testing.TB, conn crm.Connector, agent string) {
	h.BrowserSignIn(tb, conn, agent)
}

func (h *harness) Logs() map[string]int {
	out := map[string]int{}
	for _, t := range h.Server().Tickets() {
		if t.ExternalID != nil {
			out[*t.ExternalID]++
		}
	}
	return out
}

func (h *harness) ChildEnv(tb testing.TB, kr *crmtest.Keyring, agent string) []string {
	return []string{envEmuURL + "=" + h.Server().URL()}
}

func (h *harness) ChildConnector() (crm.Connector, error) {
	kr, err := conformance.ChildKeyring()
	if err != nil {
		return nil, err
	}
	return zendesk.New(zendesk.Config{
		BaseURL:    os.Getenv(envEmuURL),
		ClientID:   zendeskemu.DefaultClientID,
		Keyring:    kr,
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Logger:     slog.New(slog.DiscardHandler),
	})
}

func TestMain(m *testing.M) { conformance.Main(m, newHarness()) }

func TestConformance(t *testing.T) { conformance.Run(t, newHarness()) }
