package zendesk_test

import (
	"context"
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
	"github.com/callcentre/softphone/crm/zendesk"
	"github.com/callcentre/softphone/crm/zendeskemu"
)

const envEmuURL = "ZENDESK_CONFORMANCE_EMU_URL"

// harness plugs the Zendesk connector and zendeskemu into the shared
// exactly-once suite.
type harness struct {
	mu      sync.Mutex
	emu     *zendeskemu.Server
	browser *crmtest.Browser
	users   map[string]string // agent -> emulated sign-in user
	timeout time.Duration
}

var _ conformance.Harness = (*harness)(nil)

func (h *harness) Target() string { return zendesk.Name }

func (h *harness) Start(tb testing.TB) {
	emu := zendeskemu.New(zendeskemu.Config{})
	if err := emu.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = emu.Close() })
	h.mu.Lock()
	h.emu, h.browser, h.users = emu, &crmtest.Browser{}, map[string]string{}
	h.mu.Unlock()
}

func (h *harness) server() *zendeskemu.Server {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.emu
}

func (h *harness) Connector(tb testing.TB, kr *crmtest.Keyring, timeout time.Duration) crm.Connector {
	port, err := crmtest.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	h.mu.Lock()
	h.timeout = timeout
	h.mu.Unlock()
	c, err := zendesk.New(zendesk.Config{
		BaseURL:     h.server().URL(),
		ClientID:    zendeskemu.DefaultClientID,
		RedirectURL: fmt.Sprintf("http://127.0.0.1:%d/zendesk/callback", port),
		Keyring:     kr,
		Opener:      h.browser.Open,
		HTTPClient:  &http.Client{Timeout: timeout},
		Logger:      slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func (h *harness) SignIn(tb testing.TB, conn crm.Connector, agent string) {
	emu := h.server()
	h.mu.Lock()
	uid, ok := h.users[agent]
	if !ok {
		uid = emu.AddUser(agent+"@emu.test", "Agent "+agent).ID
		h.users[agent] = uid
	}
	h.mu.Unlock()
	emu.SetBrowserUser(uid)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := conn.SignIn(ctx, agent, crm.SignInOptions{Timeout: time.Minute}); err != nil {
		tb.Fatalf("sign in %s: %v (browser: %v)", agent, err, h.browser.Wait())
	}
}

func (h *harness) Stop(tb testing.TB) {
	if err := h.server().Stop(); err != nil {
		tb.Fatal(err)
	}
}

func (h *harness) Restart(tb testing.TB) {
	if err := h.server().Restart(); err != nil {
		tb.Fatal(err)
	}
}

var ticketWrite = emukit.Match{Method: http.MethodPost, Path: "/api/v2/tickets.json"}

func (h *harness) Arm(f conformance.Fault, nth int) {
	h.mu.Lock()
	timeout := h.timeout
	h.mu.Unlock()
	m := ticketWrite
	m.Nth = nth
	var fault emukit.Fault
	switch f {
	case conformance.FaultExpiredToken:
		fault = emukit.Fault{ExpireAccessTokens: true}
	case conformance.FaultServerError:
		fault = emukit.Fault{Status: http.StatusServiceUnavailable, Body: "<html><body>Zendesk is down for maintenance</body></html>"}
	case conformance.FaultRateLimited:
		fault = emukit.Fault{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "1"}}
	case conformance.FaultCommitThenDrop:
		fault = emukit.Fault{CommitThenDrop: true}
	case conformance.FaultDropBeforeCommit:
		fault = emukit.Fault{DropBeforeCommit: true}
	case conformance.FaultTruncated:
		fault = emukit.Fault{TruncateBody: true}
	case conformance.FaultSlow:
		fault = emukit.Fault{Latency: timeout + 300*time.Millisecond}
	case conformance.FaultReadError:
		m = emukit.Match{Method: http.MethodGet, Path: "/api/v2/*", Nth: nth}
		fault = emukit.Fault{Status: http.StatusInternalServerError}
	default:
		panic(fmt.Sprintf("zendesk harness: fault %v not mapped", f))
	}
	fault.Match = m
	h.server().AddFault(fault)
}

func (h *harness) Fired() int { return h.server().FaultsFired() }

func (h *harness) Slow(d time.Duration) {
	emu := h.server()
	if d == 0 {
		emu.ClearFaults()
		return
	}
	m := ticketWrite
	m.Every = true
	emu.AddFault(emukit.Fault{Match: m, Latency: d})
}

func (h *harness) RevokeAll() { h.server().RevokeRefreshTokens() }

func (h *harness) Logs() map[string]int {
	out := map[string]int{}
	for _, t := range h.server().Tickets() {
		if t.ExternalID != nil {
			out[*t.ExternalID]++
		}
	}
	return out
}

func (h *harness) ChildEnv(tb testing.TB, kr *crmtest.Keyring, agent string) []string {
	return []string{envEmuURL + "=" + h.server().URL()}
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

func TestMain(m *testing.M) { conformance.Main(m, &harness{}) }

func TestConformance(t *testing.T) { conformance.Run(t, &harness{}) }
