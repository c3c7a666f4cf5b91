package app

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/control"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/dynamicsemu"
	"github.com/callcentre/softphone/crm/hubspot"
	"github.com/callcentre/softphone/crm/hubspotemu"
	"github.com/callcentre/softphone/crm/outbox"
	"github.com/callcentre/softphone/crm/servicenow"
	"github.com/callcentre/softphone/crm/servicenowemu"
	"github.com/callcentre/softphone/crm/zendesk"
	"github.com/callcentre/softphone/crm/zendeskemu"
	"github.com/callcentre/softphone/sip/demopbx"
	"github.com/callcentre/softphone/store"
)

// crmCase is one CRM in the app: its emulator started, the customer
// seeded, the app's configuration, and how many call records the CRM holds
// for a call key.
type crmCase struct {
	name    string
	display string
	// start starts the emulator with the customer (name, E.164 number) and
	// returns the configuration, the customer's record id and the records
	// counter.
	start func(t *testing.T, kr crm.Keyring, name, number string) (func(*Config), string, func(key string) int)
}

func emuClient() *http.Client { return &http.Client{Timeout: 5 * time.Second} }

func redirect(t *testing.T, path string) string {
	t.Helper()
	port, err := crmtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://localhost:%d%s", port, path)
}

var crmCases = []crmCase{
	{"hubspot", "HubSpot", func(t *testing.T, kr crm.Keyring, name, number string) (func(*Config), string, func(string) int) {
		emu := hubspotemu.New(hubspotemu.Config{Region: "GB"})
		if err := emu.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = emu.Close() })
		first, last, _ := strings.Cut(name, " ")
		id := emu.AddContact(map[string]string{"firstname": first, "lastname": last, "phone": number})
		emu.AddUser("demo-agent@emu.test", "Demo Agent") // the agent's owner
		cfg := &hubspot.Config{APIURL: emu.URL(), Keyring: kr, HTTPClient: emuClient(),
			OwnerEmail: func(agent string) string { return agent + "@emu.test" }}
		conn, err := hubspot.New(*cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.SetPortalToken("", emu.PrivateAppToken()); err != nil { // what IT provisions
			t.Fatal(err)
		}
		return func(c *Config) { c.HubSpot = cfg }, id, func(key string) int {
			if _, _, ok := emu.CallByKey(key); ok {
				return 1
			}
			return 0
		}
	}},
	{"dynamics", "Dynamics 365", func(t *testing.T, kr crm.Keyring, name, number string) (func(*Config), string, func(string) int) {
		emu := dynamicsemu.New(dynamicsemu.Config{})
		if err := emu.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = emu.Close() })
		id := emu.AddContact(dynamicsemu.Contact{FullName: name, Telephone1: number})
		cfg := &dynamics.Config{OrgURL: emu.URL(), Authority: emu.URL(), Tenant: dynamicsemu.DefaultTenant,
			ClientID: dynamicsemu.DefaultClientID, Keyring: kr, Opener: (&crmtest.Browser{}).Open, HTTPClient: emuClient()}
		return func(c *Config) { c.Dynamics = cfg }, id, func(string) int {
			n := 0
			for _, pc := range emu.PhoneCalls() {
				if pc.RegardingID == id && pc.StateCode == 1 {
					n++
				}
			}
			return n
		}
	}},
	{"servicenow", "ServiceNow", func(t *testing.T, kr crm.Keyring, name, number string) (func(*Config), string, func(string) int) {
		emu := servicenowemu.New(servicenowemu.Config{})
		if err := emu.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = emu.Close() })
		id := emu.SeedContact(servicenowemu.Record{"name": name, "phone": number})
		cfg := &servicenow.Config{InstanceURL: emu.URL(), ClientID: servicenowemu.DefaultClientID, Keyring: kr,
			RedirectURL: redirect(t, "/servicenow/callback"), Opener: (&crmtest.Browser{}).Open, HTTPClient: emuClient()}
		return func(c *Config) { c.ServiceNow = cfg }, id, func(key string) int { return emu.Logs()[key] }
	}},
	{"zendesk", "Zendesk", func(t *testing.T, kr crm.Keyring, name, number string) (func(*Config), string, func(string) int) {
		emu := zendeskemu.New(zendeskemu.Config{})
		if err := emu.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = emu.Close() })
		u := emu.AddContact(name, number, "")
		cfg := &zendesk.Config{BaseURL: emu.URL(), ClientID: zendeskemu.DefaultClientID, Keyring: kr,
			RedirectURL: strings.Replace(redirect(t, "/zendesk/callback"), "localhost", "127.0.0.1", 1),
			Opener:      (&crmtest.Browser{}).Open, HTTPClient: emuClient()}
		return func(c *Config) { c.Zendesk = cfg }, strconv.FormatInt(u.ID, 10), func(key string) int { return len(emu.TicketsByExternalID(key)) }
	}},
}

// TestDemoWithEachCRM wires each further CRM connector (against its
// emulator over real HTTP) into the demo app: the desk says the CRM needs
// the agent's sign-in, the sign-in runs, an inbound call's caller is
// matched in the CRM and popped, and the wrapped-up call is logged there
// exactly once by the outbox.
func TestDemoWithEachCRM(t *testing.T) {
	for _, tc := range crmCases {
		t.Run(tc.name, func(t *testing.T) {
			customer := demopbx.Contacts()[0]
			kr := crmtest.NewKeyring()
			setCRM, recordID, records := tc.start(t, kr, customer.Name, customer.Number)
			pops := &urlRecorder{}
			cfg := domain.DefaultConfig()
			cfg.WrapUpTime = 0
			cfg.LoginStatus = domain.Status{Presence: domain.PresenceAvailable}
			bc := Config{
				DataDir: t.TempDir(), Demo: true, InstanceSocket: "off", AgentConfig: &cfg, ControlAddr: "127.0.0.1:0", ControlToken: e2eToken,
				DemoOptions: demopbx.Options{AnswerDelay: 150 * time.Millisecond}, Logger: quietLog(), Region: "GB", NoAudio: true,
				Opener:        pops.open,
				OutboxOptions: []outbox.Option{outbox.WithPoll(100 * time.Millisecond), outbox.WithBackoff(20*time.Millisecond, 200*time.Millisecond)},
				FlushTimeout:  time.Minute,
			}
			setCRM(&bc)
			a, err := Build(context.Background(), bc)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := a.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			c := newClient(t, a.ControlAddr)
			c.wait("initial state", func(s control.State) bool { return s.Agent.Status == "offline" }, false)
			c.post("/v1/login", map[string]string{"agent_id": "demo-agent", "name": "Demo Agent"})
			c.wait("available", func(s control.State) bool { return s.Agent.Status == "available" }, false)
			for end := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if name, needed := a.CRMState(); name == tc.display && needed {
					break
				}
				if time.Now().After(end) {
					name, needed := a.CRMState()
					t.Fatalf("crm state before the sign-in: %q %v", name, needed)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := a.SignInCRM(ctx); err != nil {
				t.Fatalf("crm sign-in: %v", err)
			}
			if _, needed := a.CRMState(); needed {
				t.Fatal("sign-in still needed after the sign-in")
			}

			if _, err := a.PBX.CallAgent(customer.Number); err != nil {
				t.Fatal(err)
			}
			s := c.wait("caller matched in the crm", func(s control.State) bool {
				cl := callIn(s, func(c control.CallState) bool { return c.State == "offered" })
				return cl != nil && len(s.Interactions) == 1 && s.Interactions[0].RecordID == recordID
			}, true)
			cl := callIn(s, func(c control.CallState) bool { return c.State == "offered" })
			c.post("/v1/calls/"+cl.ID+"/answer", nil)
			c.wait("answered", inState(cl.ID, "active"), true)
			c.post("/v1/calls/"+cl.ID+"/hangup", nil)
			c.wait("wrap-up", func(s control.State) bool {
				return len(s.Calls) == 0 && len(s.Interactions) == 1 && s.Interactions[0].Phase == "wrap-up"
			}, true)
			c.post("/v1/interactions/"+cl.Interaction+"/wrapup", map[string]any{"outcome": "Resolved", "notes": "crm e2e", "complete": true})
			c.wait("logged", func(s control.State) bool { return len(s.Interactions) == 0 && s.PendingLogs == 0 }, true)
			key := store.IdempotencyKey("demo-agent", cl.Interaction, tc.name)
			for end := time.Now().Add(40 * time.Second); records(key) == 0; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(end) {
					t.Fatalf("no call record in %s; outbox %+v", tc.display, a.Outbox.Status())
				}
			}
			if st := a.Outbox.Status(); st.Pending != 0 || st.Dead != 0 {
				t.Fatalf("outbox %+v", st)
			}
			if n := records(key); n != 1 {
				t.Fatalf("%d call records for one call", n)
			}
			for end := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if u := pops.all(); len(u) > 0 {
					if !strings.Contains(u[0], recordID) {
						t.Fatalf("screen pop %q does not open the record %s", u[0], recordID)
					}
					break
				}
				if time.Now().After(end) {
					t.Fatal("no screen pop")
				}
			}
		})
	}
}
