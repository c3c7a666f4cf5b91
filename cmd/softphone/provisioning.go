package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/provision"
)

// machineLayers reads IT's machine-wide provisioning: the OS's sources
// (provision.Machine) or, with -provisioning FILE, that one JSON file
// (which must exist: it was named).
func machineLayers(path string) ([]provision.Layer, error) {
	if path == "" {
		return provision.Machine()
	}
	l, ok, err := provision.LoadFile(path)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: provisioning file %s does not exist", errBadConfig, path)
	}
	return []provision.Layer{l}, nil
}

// applyProvisioning lays the user's configuration file (origin names it)
// over the machine's provisioning layers, lowest first, with
// provision.Resolve: the file's sip server, user, authentication user,
// transport, outbound proxy, echo test number and shared_pc win unless IT
// locked them.
// When the file has no account but IT provisions sip.server and sip.user,
// the account is IT's alone (no per-user file is needed). A sip.user or
// sip.auth_user naming the agent ("${agent}") is expanded with agentID
// (-agent); without one it is an error that says so. It returns the
// configuration with the resolved values and the core configuration
// agents sign in with (the provisioned wrap-up time, mandatory outcome,
// recording policy and break reasons over the defaults).
func applyProvisioning(cfg configFile, origin string, machine []provision.Layer, agentID string) (configFile, domain.Config, error) {
	m := map[string]any{}
	if a := cfg.Account; a != nil {
		for k, v := range map[provision.Key]string{
			provision.SIPServer: a.Domain, provision.SIPTransport: strings.ToLower(strings.TrimSpace(a.Transport)),
			provision.SIPOutboundProxy: a.OutboundProxy, provision.SIPUser: a.User, provision.SIPAuthUser: a.AuthUser,
			provision.SIPEchoTestNumber: a.EchoTestNumber,
		} {
			if strings.TrimSpace(v) != "" {
				m[string(k)] = v
			}
		}
	}
	if c := cfg.CRM; c != nil {
		for k, v := range map[provision.Key]string{
			provision.CRMType: c.kind(), provision.CRMInstanceURL: c.InstanceURL, provision.CRMClientID: c.ClientID,
		} {
			if v != "" && !(k == provision.CRMType && v == "webhook") { // IT provisions CRMs, not webhooks
				m[string(k)] = v
			}
		}
	}
	if cfg.SharedPC != nil {
		m[string(provision.SharedPC)] = *cfg.SharedPC
	}
	user, err := provision.FromMap(origin, m)
	if err != nil {
		return configFile{}, domain.Config{}, fmt.Errorf("%w: %w", errBadConfig, err)
	}
	s := provision.Resolve(user, machine...)

	if cfg.Account == nil && s.IsSet(provision.SIPServer) && s.IsSet(provision.SIPUser) {
		cfg.Account = &accountConfig{} // IT's account: every value below
	}
	if cfg.Account != nil {
		a := *cfg.Account
		if s.IsSet(provision.SIPServer) {
			a.Domain = s.SIPServer
		}
		for _, f := range []struct {
			key   provision.Key
			value string
			dst   *string
		}{{provision.SIPUser, s.SIPUser, &a.User}, {provision.SIPAuthUser, s.SIPAuthUser, &a.AuthUser}} {
			if !s.IsSet(f.key) {
				continue
			}
			v, err := provision.ExpandAgent(f.value, agentID)
			if errors.Is(err, provision.ErrNeedsAgent) {
				return configFile{}, domain.Config{}, fmt.Errorf("%w: %s from %s is %q, the ID the agent signs in with: start softphone with -agent ID (the login screen does not switch SIP accounts)",
					errBadConfig, f.key, s.Origin(f.key), f.value)
			}
			if err != nil {
				return configFile{}, domain.Config{}, fmt.Errorf("%w: %s from %s: %w", errBadConfig, f.key, s.Origin(f.key), err)
			}
			*f.dst = v
		}
		if s.IsSet(provision.SIPTransport) {
			a.Transport = s.SIPTransport
		}
		if s.IsSet(provision.SIPOutboundProxy) {
			a.OutboundProxy = s.SIPOutboundProxy
		}
		if s.IsSet(provision.SIPEchoTestNumber) {
			a.EchoTestNumber = s.SIPEchoTestNumber
		}
		if _, err := a.sipAccount(); err != nil {
			return configFile{}, domain.Config{}, fmt.Errorf("with the provisioned settings: %w", err)
		}
		cfg.Account = &a
	}
	if s.IsSet(provision.SharedPC) {
		shared := s.SharedPC
		cfg.SharedPC = &shared
	}
	if s.IsSet(provision.Autostart) {
		on := s.Autostart
		cfg.autostart, cfg.autostartLocked = &on, s.Locked(provision.Autostart)
	}
	if s.IsSet(provision.CRMType) || s.IsSet(provision.CRMInstanceURL) || s.IsSet(provision.CRMClientID) {
		c := crmConfig{}
		if cfg.CRM != nil {
			c = *cfg.CRM
		}
		if s.IsSet(provision.CRMType) && (c.kind() != "webhook" || s.Locked(provision.CRMType)) {
			if s.CRMType != c.kind() {
				// Another CRM: the file's settings were for the old one.
				c = crmConfig{Region: c.Region}
			}
			c.Type = s.CRMType
		}
		if s.IsSet(provision.CRMInstanceURL) {
			c.InstanceURL = s.CRMInstanceURL
		}
		if s.IsSet(provision.CRMClientID) {
			c.ClientID = s.CRMClientID
		}
		if err := c.check(); err != nil {
			return configFile{}, domain.Config{}, fmt.Errorf("with the provisioned settings: %w", err)
		}
		cfg.CRM = &c
	}

	ac := domain.DefaultConfig()
	if s.IsSet(provision.WrapUpSeconds) {
		ac.WrapUpTime = s.WrapUpTime
	}
	if s.IsSet(provision.OutcomeRequired) {
		ac.OutcomeRequired = s.OutcomeRequired
	}
	if s.IsSet(provision.Recording) {
		switch s.Recording {
		case "off":
			ac.Recording = domain.RecordPolicyNotAllowed
		case "manual":
			ac.Recording = domain.RecordPolicyManual
		case "auto":
			ac.Recording = domain.RecordPolicyAuto
		default:
			return configFile{}, domain.Config{}, fmt.Errorf("%w: %s: recording %q", errBadConfig, s.Origin(provision.Recording), s.Recording)
		}
	}
	if s.IsSet(provision.AllowedStatuses) {
		ac.BreakReasons = slices.Clone(s.AllowedStatuses)
	}
	return cfg, ac.Normalize(), nil
}
