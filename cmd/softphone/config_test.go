package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/sip"
)

func TestParseConfig(t *testing.T) {
	good := `{"account": {"display_name": "Alice", "user": "1001", "domain": "pbx.example.com:5070",
		"transport": "tcp", "codecs": ["PCMA"], "expiry_seconds": 120},
		"shared_pc": true, "allowed_origins": ["https://crm.example.com"]}`
	c, err := parseConfig([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	acct, err := c.Account.sipAccount()
	if err != nil {
		t.Fatal(err)
	}
	if acct.User != "1001" || acct.Domain != "pbx.example.com:5070" || acct.Transport != sip.TransportTCP ||
		acct.Expiry != 120*time.Second || len(acct.Codecs) != 1 || c.SharedPC == nil || !*c.SharedPC {
		t.Fatalf("parsed %+v %+v", c, acct)
	}
	if n, err := c.Account.echoTestNumber(); n != "" || err != nil {
		t.Fatalf("echo test number without one configured: %q %v", n, err)
	}
	c, err = parseConfig([]byte(`{"account": {"user": "1001", "domain": "pbx.example.com", "echo_test_number": " *43 "}}`))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := c.Account.echoTestNumber(); n != "*43" || err != nil {
		t.Fatalf("echo test number %q %v, want *43", n, err)
	}
	if keyringAccount(acct) != "1001@pbx.example.com:5070" {
		t.Fatalf("keyring name %q", keyringAccount(acct))
	}
	for name, tc := range map[string]struct{ raw, want string }{
		"garbage":        {`{"account": `, "bad configuration"},
		"not an object":  {`[1, 2]`, "bad configuration"},
		"unknown field":  {`{"acount": {}}`, "unknown field"},
		"password":       {`{"account": {"user": "1", "domain": "d", "password": "x"}}`, "passwords are never read from the file"},
		"nested token":   {`{"allowed_origins": [], "x": {"api_token": "t"}}`, "api_token"},
		"no user":        {`{"account": {"domain": "d"}}`, "user and domain are required"},
		"bad transport":  {`{"account": {"user": "1", "domain": "d", "transport": "sctp"}}`, `transport "sctp"`},
		"bad srtp":       {`{"account": {"user": "1", "domain": "d", "transport": "tls", "srtp": "maybe"}}`, `srtp "maybe"`},
		"srtp over udp":  {`{"account": {"user": "1", "domain": "d", "srtp": "required"}}`, "needs transport tls"},
		"ca without tls": {`{"account": {"user": "1", "domain": "d", "ca_file": "/etc/ca.pem"}}`, "only used with transport tls"},
		"bad dtmf":       {`{"account": {"user": "1", "domain": "d", "dtmf": "inband"}}`, `dtmf "inband"`},
		"negative exp":   {`{"account": {"user": "1", "domain": "d", "expiry_seconds": -1}}`, "negative"},
		"bad echo test":  {`{"account": {"user": "1", "domain": "d", "echo_test_number": "echo me!"}}`, "echo_test_number"},
		"echo too long":  {`{"account": {"user": "1", "domain": "d", "echo_test_number": "123456789012345678901234567890123"}}`, "echo_test_number"},
		"wrong type":     {`{"shared_pc": "yes"}`, "bad configuration"},
	} {
		_, err := parseConfig([]byte(tc.raw))
		if err == nil || !errors.Is(err, errBadConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
}

// TestParseConfigSecureAccount maps TLS with a custom CA, SRTP, INFO
// DTMF, a secondary registrar and a STUN server into sip.Account, and the
// defaults when they are left out.
func TestParseConfigSecureAccount(t *testing.T) {
	raw := `{"account": {"user": "1001", "domain": "pbx.example.com", "transport": "TLS",
		"ca_file": "/etc/softphone/ca.pem", "srtp": "required", "dtmf": "info",
		"secondary_registrar": "pbx2.example.com:5061", "stun_server": "stun.example.com"}}`
	c, err := parseConfig([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	acct, err := c.Account.sipAccount()
	if err != nil {
		t.Fatal(err)
	}
	if acct.Transport != sip.TransportTLS || acct.CAFile != "/etc/softphone/ca.pem" || acct.SRTP != sip.SRTPRequired ||
		acct.DTMF != sip.DTMFInfo || acct.SecondaryRegistrar != "pbx2.example.com:5061" || acct.STUNServer != "stun.example.com" {
		t.Fatalf("account %+v", acct)
	}
	for srtp, want := range map[string]sip.SRTPMode{"": sip.SRTPOff, "off": sip.SRTPOff, "optional": sip.SRTPOptional, "Required": sip.SRTPRequired} {
		a := accountConfig{User: "1", Domain: "d", Transport: "tls", SRTP: srtp}
		got, err := a.sipAccount()
		if err != nil || got.SRTP != want {
			t.Errorf("srtp %q: %v %v, want %v", srtp, got.SRTP, err, want)
		}
	}
	plain, err := accountConfig{User: "1", Domain: "d"}.sipAccount()
	if err != nil || plain.Transport != sip.TransportUDP || plain.SRTP != sip.SRTPOff || plain.DTMF != sip.DTMFRFC4733 ||
		plain.CAFile != "" || plain.SecondaryRegistrar != "" || plain.STUNServer != "" {
		t.Fatalf("defaults %+v %v", plain, err)
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "softphone.json")
	c, err := loadConfig(path, false)
	if err != nil || c.Account != nil {
		t.Fatalf("missing default file: %+v %v (want demo mode)", c, err)
	}
	if _, err := loadConfig(path, true); err == nil {
		t.Fatal("a missing file named with -config must be an error")
	}
	if err := os.WriteFile(path, []byte("{nope"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(path, false); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("garbage file: %v", err)
	}
}

func TestSetPasswordNeedsAccountAndText(t *testing.T) {
	var out strings.Builder
	if err := setPassword(configFile{}, nil, strings.NewReader("pw\n"), &out); !errors.Is(err, errBadConfig) {
		t.Fatalf("no account: %v", err)
	}
	c := configFile{Account: &accountConfig{User: "1001", Domain: "pbx.example.com"}}
	if err := setPassword(c, nil, strings.NewReader("\n"), &out); !errors.Is(err, errEmptyPassword) {
		t.Fatalf("empty password: %v", err)
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"-version"}, strings.NewReader(""), &out); err != nil || !strings.HasPrefix(out.String(), "softphone ") {
		t.Fatalf("-version: %v %q", err, out.String())
	}
	if err := run([]string{"frobnicate"}, strings.NewReader(""), &out); err == nil || !strings.Contains(err.Error(), "unknown argument") {
		t.Fatalf("unknown argument: %v", err)
	}
	if err := run([]string{"call"}, strings.NewReader(""), &out); err == nil {
		t.Fatal("call without a number must fail")
	}
	if err := run([]string{"tel:not a number!"}, strings.NewReader(""), &out); err == nil {
		t.Fatal("a bad link must fail")
	}
}
