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
	if keyringAccount(acct) != "1001@pbx.example.com:5070" {
		t.Fatalf("keyring name %q", keyringAccount(acct))
	}
	for name, tc := range map[string]struct{ raw, want string }{
		"garbage":       {`{"account": `, "bad configuration"},
		"not an object": {`[1, 2]`, "bad configuration"},
		"unknown field": {`{"acount": {}}`, "unknown field"},
		"password":      {`{"account": {"user": "1", "domain": "d", "password": "x"}}`, "passwords are never read from the file"},
		"nested token":  {`{"allowed_origins": [], "x": {"api_token": "t"}}`, "api_token"},
		"no user":       {`{"account": {"domain": "d"}}`, "user and domain are required"},
		"bad transport": {`{"account": {"user": "1", "domain": "d", "transport": "sctp"}}`, `transport "sctp"`},
		"negative exp":  {`{"account": {"user": "1", "domain": "d", "expiry_seconds": -1}}`, "negative"},
		"wrong type":    {`{"shared_pc": "yes"}`, "bad configuration"},
	} {
		_, err := parseConfig([]byte(tc.raw))
		if err == nil || !errors.Is(err, errBadConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
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
