package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/secrets"
	"github.com/callcentre/softphone/sip"
)

// configFile is the account configuration (-config, default
// <user config dir>/softphone.json). It holds no secret: the SIP password
// lives only in the OS keyring (softphone -set-password stores it there).
//
//	{
//	  "account": {
//	    "display_name": "Alice Smith",
//	    "user": "1001",
//	    "auth_user": "",
//	    "domain": "pbx.example.com",
//	    "registrar": "",
//	    "secondary_registrar": "",
//	    "outbound_proxy": "",
//	    "stun_server": "",
//	    "transport": "udp",
//	    "ca_file": "",
//	    "srtp": "off",
//	    "codecs": ["PCMU", "PCMA"],
//	    "dtmf": "rfc4733",
//	    "expiry_seconds": 300,
//	    "allow_direct_calls": false,
//	    "echo_test_number": "*43"
//	  },
//	  "crm": {"type": "hubspot", ...},   (see crmConfig)
//	  "shared_pc": true,
//	  "data_dir": "",
//	  "control_addr": "",
//	  "allowed_origins": ["https://example.my.salesforce.com"]
//	}
type configFile struct {
	Account        *accountConfig `json:"account"`
	CRM            *crmConfig     `json:"crm"`
	SharedPC       *bool          `json:"shared_pc"`
	DataDir        string         `json:"data_dir"`
	ControlAddr    string         `json:"control_addr"`
	AllowedOrigins []string       `json:"allowed_origins"`

	// autostart is IT's policy.autostart (nil: not provisioned) and
	// autostartLocked whether IT locked it; never read from the file.
	autostart       *bool
	autostartLocked bool
}

// accountConfig is the JSON form of sip.Account.
type accountConfig struct {
	DisplayName        string   `json:"display_name"`
	User               string   `json:"user"`
	AuthUser           string   `json:"auth_user"`
	Domain             string   `json:"domain"`
	Registrar          string   `json:"registrar"`
	SecondaryRegistrar string   `json:"secondary_registrar"`
	OutboundProxy      string   `json:"outbound_proxy"`
	STUNServer         string   `json:"stun_server"`
	Transport          string   `json:"transport"`
	CAFile             string   `json:"ca_file"` // extra PEM CA for TLS
	SRTP               string   `json:"srtp"`    // off (default), optional, required; needs tls
	Codecs             []string `json:"codecs"`
	DTMF               string   `json:"dtmf"` // rfc4733 (default) or info
	ExpirySeconds      int      `json:"expiry_seconds"`
	AllowDirectCalls   bool     `json:"allow_direct_calls"`
	// EchoTestNumber is the PBX's echo test, which the pre-shift check
	// calls and measures (app.Config.EchoTestNumber); "" offers no echo
	// test call. Demo mode uses the demo PBX's own.
	EchoTestNumber string `json:"echo_test_number"`
}

// configFileName is the file's name in the user's configuration directory.
const configFileName = "softphone.json"

// machineAgent is the keyring "agent" under which machine-wide secrets (the
// SIP password of the configured account) are kept.
const machineAgent = "machine"

// defaultConfigPath is <user config dir>/softphone.json.
func defaultConfigPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("config directory: %w", err)
	}
	return filepath.Join(dir, configFileName), nil
}

// loadConfig reads the configuration. A missing file at the default path
// is no error (demo mode); a missing file named explicitly is.
func loadConfig(path string, explicit bool) (configFile, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return configFile{}, nil
	}
	if err != nil {
		return configFile{}, fmt.Errorf("read config: %w", err)
	}
	c, err := parseConfig(raw)
	if err != nil {
		return configFile{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// parseConfig decodes and checks a configuration file.
func parseConfig(raw []byte) (configFile, error) {
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return configFile{}, fmt.Errorf("%w: %w", errBadConfig, err)
	}
	if k := secretKey(generic); k != "" {
		return configFile{}, fmt.Errorf("%w: field %q: passwords are never read from the file; store the SIP password in the keyring with: softphone -set-password", errBadConfig, k)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c configFile
	if err := dec.Decode(&c); err != nil {
		return configFile{}, fmt.Errorf("%w: %w", errBadConfig, err)
	}
	if c.Account != nil {
		if _, err := c.Account.sipAccount(); err != nil {
			return configFile{}, err
		}
	}
	if c.CRM != nil {
		if err := c.CRM.check(); err != nil {
			return configFile{}, err
		}
	}
	return c, nil
}

// secretKey returns the first key that names a secret, "" for none.
func secretKey(v any) string {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			l := strings.ToLower(k)
			for _, s := range []string{"password", "secret", "token"} {
				if strings.Contains(l, s) {
					return k
				}
			}
			if k := secretKey(val); k != "" {
				return k
			}
		}
	case []any:
		for _, val := range x {
			if k := secretKey(val); k != "" {
				return k
			}
		}
	}
	return ""
}

// sipAccount converts and checks the account.
func (a accountConfig) sipAccount() (sip.Account, error) {
	if strings.TrimSpace(a.User) == "" || strings.TrimSpace(a.Domain) == "" {
		return sip.Account{}, fmt.Errorf("%w: account: user and domain are required", errBadConfig)
	}
	acct := sip.Account{
		DisplayName: a.DisplayName, User: a.User, AuthUser: a.AuthUser, Domain: a.Domain,
		Registrar: a.Registrar, SecondaryRegistrar: a.SecondaryRegistrar, OutboundProxy: a.OutboundProxy,
		STUNServer: a.STUNServer, CAFile: a.CAFile, Codecs: a.Codecs, AllowDirectCalls: a.AllowDirectCalls,
	}
	switch strings.ToLower(strings.TrimSpace(a.Transport)) {
	case "", "udp":
		acct.Transport = sip.TransportUDP
	case "tcp":
		acct.Transport = sip.TransportTCP
	case "tls":
		acct.Transport = sip.TransportTLS
	default:
		return sip.Account{}, fmt.Errorf("%w: account: transport %q (use udp, tcp or tls)", errBadConfig, a.Transport)
	}
	switch strings.ToLower(strings.TrimSpace(a.SRTP)) {
	case "", "off":
		acct.SRTP = sip.SRTPOff
	case "optional":
		acct.SRTP = sip.SRTPOptional
	case "required":
		acct.SRTP = sip.SRTPRequired
	default:
		return sip.Account{}, fmt.Errorf("%w: account: srtp %q (use off, optional or required)", errBadConfig, a.SRTP)
	}
	if acct.SRTP != sip.SRTPOff && acct.Transport != sip.TransportTLS {
		return sip.Account{}, fmt.Errorf("%w: account: srtp %q needs transport tls (the keys travel in the signalling)", errBadConfig, a.SRTP)
	}
	if a.CAFile != "" && acct.Transport != sip.TransportTLS {
		return sip.Account{}, fmt.Errorf("%w: account: ca_file is only used with transport tls", errBadConfig)
	}
	switch strings.ToLower(strings.TrimSpace(a.DTMF)) {
	case "", "rfc4733", "rfc2833":
		acct.DTMF = sip.DTMFRFC4733
	case "info":
		acct.DTMF = sip.DTMFInfo
	default:
		return sip.Account{}, fmt.Errorf("%w: account: dtmf %q (use rfc4733 or info)", errBadConfig, a.DTMF)
	}
	if _, err := a.echoTestNumber(); err != nil {
		return sip.Account{}, err
	}
	if a.ExpirySeconds < 0 {
		return sip.Account{}, fmt.Errorf("%w: account: expiry_seconds %d is negative", errBadConfig, a.ExpirySeconds)
	}
	acct.Expiry = time.Duration(a.ExpirySeconds) * time.Second
	return acct, nil
}

// echoTestNumber is the account's echo test number as the core dials it
// ("" for none), or an error saying why it cannot be dialled.
func (a accountConfig) echoTestNumber() (string, error) {
	if strings.TrimSpace(a.EchoTestNumber) == "" {
		return "", nil
	}
	n, err := domain.NormalizeDialString(a.EchoTestNumber)
	if err != nil {
		return "", fmt.Errorf("%w: account: echo_test_number %q: %w", errBadConfig, a.EchoTestNumber, err)
	}
	return n, nil
}

// keyringAccount names the account's SIP password in the keyring.
func keyringAccount(a sip.Account) string { return a.User + "@" + a.Domain }

// passwordFromKeyring reads the SIP password of the account when the
// engine needs it.
func passwordFromKeyring(sec *secrets.Store, a sip.Account) func() (string, error) {
	name := keyringAccount(a)
	return func() (string, error) {
		pw, err := sec.Get(machineAgent, name, secrets.KindSIPPassword)
		if errors.Is(err, secrets.ErrNotFound) {
			return "", fmt.Errorf("no sip password in the keyring for %s: store it with softphone -set-password: %w", name, err)
		}
		return pw, err
	}
}

// readSecretLine asks for what on w and reads it from the first line of r,
// without its line end (spaces are kept: they may belong to a password).
// An empty line is errEmptyPassword: nothing is stored.
func readSecretLine(r io.Reader, w io.Writer, what string) (string, error) {
	fmt.Fprintf(w, "%s (one line on standard input): ", what)
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read secret: %w", err)
	}
	v := strings.TrimRight(line, "\r\n")
	if v == "" {
		return "", errEmptyPassword
	}
	return v, nil
}

// setPassword reads the SIP password from the first line of r and stores
// it in the keyring for the configured account.
func setPassword(cfg configFile, sec *secrets.Store, r io.Reader, w io.Writer) error {
	if cfg.Account == nil {
		return fmt.Errorf("%w: no account in the configuration file", errBadConfig)
	}
	acct, err := cfg.Account.sipAccount()
	if err != nil {
		return err
	}
	pw, err := readSecretLine(r, w, "SIP password for "+keyringAccount(acct))
	if err != nil {
		return err
	}
	if err := sec.Set(machineAgent, keyringAccount(acct), secrets.KindSIPPassword, pw); err != nil {
		return fmt.Errorf("store password: %w", err)
	}
	fmt.Fprintln(w, "\nstored in the keyring")
	return nil
}
