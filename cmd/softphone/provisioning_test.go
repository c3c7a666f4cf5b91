package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/provision"
	"github.com/callcentre/softphone/sip"
)

// TestProvisioningUnderTheUserFile reads a provisioning file from a temp
// dir as the machine layer under the user's softphone.json: a locked
// sip.server wins over the file's domain, the file's transport and
// shared_pc win where IT did not lock them, and the policies become the
// core configuration.
func TestProvisioningUnderTheUserFile(t *testing.T) {
	dir := t.TempDir()
	prov := filepath.Join(dir, "provisioning.json")
	if err := os.WriteFile(prov, []byte(`{"version": 1, "sip.server": "pbx.corp.example:5070", "sip.transport": "tcp",
		"sip.outbound_proxy": "proxy.corp.example", "policy.shared_pc": true, "policy.wrap_up_seconds": 15,
		"policy.outcome_required": true, "policy.recording": "auto", "policy.allowed_statuses": ["Break", "Lunch"],
		"locked": ["sip.server"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	machine, err := machineLayers(prov)
	if err != nil {
		t.Fatal(err)
	}
	user, err := parseConfig([]byte(`{"account": {"user": "1001", "domain": "home.example.com", "transport": "udp"},
		"shared_pc": false}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg, ac, err := applyProvisioning(user, "softphone.json", machine, "")
	if err != nil {
		t.Fatal(err)
	}
	acct, err := cfg.Account.sipAccount()
	if err != nil {
		t.Fatal(err)
	}
	if acct.Domain != "pbx.corp.example:5070" || acct.Transport != sip.TransportUDP || acct.OutboundProxy != "proxy.corp.example" {
		t.Fatalf("account %+v: want the locked server, the user's transport, the provisioned proxy", acct)
	}
	if cfg.SharedPC == nil || *cfg.SharedPC {
		t.Fatalf("shared_pc %v: the user's false wins where it is not locked", cfg.SharedPC)
	}
	if ac.WrapUpTime != 15*time.Second || !ac.OutcomeRequired || ac.Recording != domain.RecordPolicyAuto ||
		!slices.Equal(ac.BreakReasons, []string{"Break", "Lunch"}) {
		t.Fatalf("agent config: wrap-up %v outcome %v recording %v reasons %v", ac.WrapUpTime, ac.OutcomeRequired, ac.Recording, ac.BreakReasons)
	}
	if ac.LoginStatus.Presence == domain.PresenceBreak && !slices.Contains(ac.BreakReasons, ac.LoginStatus.Reason) {
		t.Fatalf("login status %+v is not an allowed break reason", ac.LoginStatus)
	}

	// No provisioning: the user's file and the core's defaults.
	cfg, ac, err = applyProvisioning(user, "softphone.json", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Account.Domain != "home.example.com" || *cfg.SharedPC || ac.WrapUpTime != domain.DefaultConfig().WrapUpTime {
		t.Fatalf("without provisioning: %+v %v %v", cfg.Account, *cfg.SharedPC, ac.WrapUpTime)
	}
	// Demo mode (no account) still takes the policies.
	cfg, ac, err = applyProvisioning(configFile{}, "softphone.json", machine, "")
	if err != nil || cfg.Account != nil || ac.WrapUpTime != 15*time.Second || cfg.SharedPC == nil || !*cfg.SharedPC {
		t.Fatalf("no account: %+v %v %v", cfg, ac.WrapUpTime, err)
	}
}

func TestProvisioningBadInput(t *testing.T) {
	dir := t.TempDir()
	if _, err := machineLayers(filepath.Join(dir, "missing.json")); !errors.Is(err, errBadConfig) {
		t.Fatalf("a named missing file: %v", err)
	}
	for name, tc := range map[string]struct {
		raw  string
		want error
	}{
		"garbage":  {`{"sip.server": `, provision.ErrSyntax},
		"unknown":  {`{"sip.servr": "x"}`, provision.ErrUnknownKey},
		"secret":   {`{"sip.password": "x"}`, provision.ErrSecret},
		"bad type": {`{"policy.wrap_up_seconds": "soon"}`, provision.ErrBadValue},
	} {
		p := filepath.Join(dir, name+".json")
		if err := os.WriteFile(p, []byte(tc.raw), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := machineLayers(p); !errors.Is(err, tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want %v naming the file", name, err, tc.want)
		}
	}
	// A provisioned transport the user's SRTP setting cannot use.
	l, err := provision.FromMap("it", map[string]any{"sip.transport": "udp", "locked": []any{"sip.transport"}})
	if err != nil {
		t.Fatal(err)
	}
	user := configFile{Account: &accountConfig{User: "1", Domain: "d", Transport: "tls", SRTP: "required"}}
	if _, _, err := applyProvisioning(user, "softphone.json", []provision.Layer{l}, ""); !errors.Is(err, errBadConfig) || !strings.Contains(err.Error(), "needs transport tls") {
		t.Fatalf("srtp with a locked udp transport: %v", err)
	}
}

// TestProvisionedCRM lets IT choose the CRM: an unlocked provisioned CRM
// is overridden by the user's file, a locked one wins (and drops the
// file's settings for another CRM), and the result is checked like the
// file's own section.
func TestProvisionedCRM(t *testing.T) {
	layer := func(t *testing.T, js string) []provision.Layer {
		t.Helper()
		l, err := provision.ParseJSON("provisioning.json", []byte(js))
		if err != nil {
			t.Fatal(err)
		}
		return []provision.Layer{l}
	}
	user, err := parseConfig([]byte(`{"crm": {"type": "salesforce", "instance_url": "https://home.my.salesforce.com",
		"client_id": "3MVGhome", "call_key_field": "Call_Key__c", "region": "DE"}}`))
	if err != nil {
		t.Fatal(err)
	}
	it := `{"crm.type": "zendesk", "crm.instance_url": "https://corp.zendesk.com", "crm.client_id": "softphone-desk"`
	cfg, _, err := applyProvisioning(user, "softphone.json", layer(t, it+`}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.CRM; c.kind() != "salesforce" || c.InstanceURL != "https://home.my.salesforce.com" || c.ClientID != "3MVGhome" {
		t.Fatalf("unlocked: %+v, want the user's salesforce", c)
	}
	cfg, _, err = applyProvisioning(user, "softphone.json", layer(t, it+`, "locked": ["crm.type", "crm.instance_url", "crm.client_id"]}`), "")
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.CRM; c.kind() != "zendesk" || c.InstanceURL != "https://corp.zendesk.com" || c.ClientID != "softphone-desk" ||
		c.CallKeyField != "" || c.Region != "DE" {
		t.Fatalf("locked: %+v, want IT's zendesk without the salesforce field", c)
	}
	// IT provisions a CRM the user's file does not mention at all.
	cfg, _, err = applyProvisioning(configFile{}, "softphone.json", layer(t, it+`}`), "")
	if err != nil || cfg.CRM.kind() != "zendesk" {
		t.Fatalf("provisioned only: %+v %v", cfg.CRM, err)
	}
	// An incomplete provisioned CRM is a clear error, not a desk without CRM.
	_, _, err = applyProvisioning(configFile{}, "softphone.json", layer(t, `{"crm.type": "dynamics"}`), "")
	if !errors.Is(err, errBadConfig) || !strings.Contains(err.Error(), "dynamics needs client_id") {
		t.Fatalf("incomplete: %v", err)
	}
	for _, bad := range []string{`{"crm": {"type": "sap"}}`, `{"crm": {"type": "webhook"}}`,
		`{"crm": {"type": "zendesk", "client_id": "x", "instance_url": "corp.zendesk.com"}}`, `{"crm": {"type": "hubspot", "token": "x"}}`} {
		if _, err := parseConfig([]byte(bad)); !errors.Is(err, errBadConfig) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestProvisionedSIPUser: IT's sip.user and sip.auth_user make the account
// when the user's file has none, expand "${agent}" with the -agent ID,
// override the file's user only when locked, and fail clearly when the
// template needs an agent and none is given.
func TestProvisionedSIPUser(t *testing.T) {
	layer := func(t *testing.T, s string) []provision.Layer {
		t.Helper()
		l, err := provision.ParseJSON("provisioning.json", []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return []provision.Layer{l}
	}
	it := `{"sip.server": "pbx.corp.example", "sip.transport": "tls", "sip.user": "${agent}", "sip.auth_user": "a-${agent}"`
	cfg, _, err := applyProvisioning(configFile{}, "softphone.json", layer(t, it+`}`), "4711")
	if err != nil {
		t.Fatal(err)
	}
	acct, err := cfg.Account.sipAccount()
	if err != nil {
		t.Fatal(err)
	}
	if acct.User != "4711" || acct.AuthUser != "a-4711" || acct.Domain != "pbx.corp.example" || acct.Transport != sip.TransportTLS {
		t.Fatalf("provisioned account %+v", acct)
	}
	if keyringAccount(acct) != "4711@pbx.corp.example" {
		t.Errorf("keyring name %q", keyringAccount(acct))
	}

	// No agent: an error naming the setting and the flag, not demo mode.
	_, _, err = applyProvisioning(configFile{}, "softphone.json", layer(t, it+`}`), "")
	if !errors.Is(err, errBadConfig) || !strings.Contains(err.Error(), "-agent") || !strings.Contains(err.Error(), "sip.user") {
		t.Fatalf("no agent: %v", err)
	}
	// An agent ID that makes no SIP user.
	if _, _, err = applyProvisioning(configFile{}, "softphone.json", layer(t, it+`}`), "alice smith"); !errors.Is(err, errBadConfig) {
		t.Fatalf("agent with a space: %v", err)
	}

	// The user's file wins where IT did not lock the user; a lock wins.
	user, err := parseConfig([]byte(`{"account": {"user": "1001", "auth_user": "me", "domain": "pbx.corp.example", "transport": "tls"}}`))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err = applyProvisioning(user, "softphone.json", layer(t, it+`}`), "4711")
	if err != nil || cfg.Account.User != "1001" || cfg.Account.AuthUser != "me" {
		t.Fatalf("unlocked: %+v %v", cfg.Account, err)
	}
	cfg, _, err = applyProvisioning(user, "softphone.json", layer(t, it+`, "locked": ["sip.user"]}`), "4711")
	if err != nil || cfg.Account.User != "4711" || cfg.Account.AuthUser != "me" {
		t.Fatalf("locked user: %+v %v", cfg.Account, err)
	}

	// A fixed user (a PC bound to one extension) needs no agent; a user
	// without a server makes no account (demo mode, as before).
	cfg, _, err = applyProvisioning(configFile{}, "softphone.json", layer(t, `{"sip.server": "pbx.corp.example", "sip.user": "2001"}`), "")
	if err != nil || cfg.Account == nil || cfg.Account.User != "2001" || cfg.Account.AuthUser != "" {
		t.Fatalf("fixed user: %+v %v", cfg.Account, err)
	}
	cfg, _, err = applyProvisioning(configFile{}, "softphone.json", layer(t, `{"sip.user": "2001"}`), "")
	if err != nil || cfg.Account != nil {
		t.Fatalf("user without server: %+v %v", cfg.Account, err)
	}
}

// TestProvisionedEchoTestNumber: IT's sip.echo_test_number becomes the
// account's echo test (the pre-shift check's call) unless the agent's
// file sets its own and IT did not lock it; one the core cannot dial is
// refused with the key named.
func TestProvisionedEchoTestNumber(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) []provision.Layer {
		t.Helper()
		path := filepath.Join(dir, "provisioning.json")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		machine, err := machineLayers(path)
		if err != nil {
			t.Fatal(err)
		}
		return machine
	}
	machine := write(`{"sip.server": "pbx.corp.example", "sip.user": "1001", "sip.echo_test_number": "*43"}`)
	cfg, _, err := applyProvisioning(configFile{}, "softphone.json", machine, "")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := cfg.Account.echoTestNumber(); err != nil || n != "*43" {
		t.Fatalf("IT's account: echo test %q %v", n, err)
	}
	user, err := parseConfig([]byte(`{"account": {"user": "1001", "domain": "pbx.corp.example", "echo_test_number": "9196"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _, err = applyProvisioning(user, "softphone.json", machine, ""); err != nil || cfg.Account.EchoTestNumber != "9196" {
		t.Fatalf("unlocked: the agent's file wins: %q %v", cfg.Account.EchoTestNumber, err)
	}
	locked := write(`{"sip.echo_test_number": "*43", "locked": ["sip.echo_test_number"]}`)
	if cfg, _, err = applyProvisioning(user, "softphone.json", locked, ""); err != nil || cfg.Account.EchoTestNumber != "*43" {
		t.Fatalf("locked: IT's wins: %q %v", cfg.Account.EchoTestNumber, err)
	}
	bad := write(`{"sip.server": "pbx.corp.example", "sip.user": "1001", "sip.echo_test_number": "*43?x"}`)
	if _, _, err := applyProvisioning(configFile{}, "softphone.json", bad, ""); err == nil || !strings.Contains(err.Error(), "echo_test_number") {
		t.Fatalf("an echo test the core cannot dial: %v", err)
	}
}
