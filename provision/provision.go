package provision

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Key names one setting. The same name is the JSON key, the registry value
// name and the plist key.
type Key string

// The settings IT can provision.
const (
	// SIPServer is the SIP domain/registrar, host or host:port, no scheme.
	SIPServer Key = "sip.server"
	// SIPTransport is "udp", "tcp" or "tls".
	SIPTransport Key = "sip.transport"
	// SIPOutboundProxy is an optional outbound proxy, host or host:port.
	SIPOutboundProxy Key = "sip.outbound_proxy"
	// SIPUser is the user part of the agent's SIP address (the extension
	// or SIP user name). It may contain the placeholder AgentPlaceholder,
	// which ExpandAgent replaces with the ID the agent signs in with
	// ("${agent}" on hot desks where SIP users equal agent IDs); without
	// it, it names one fixed user (a PC bound to one extension).
	SIPUser Key = "sip.user"
	// SIPAuthUser is the digest authentication user when it differs from
	// the SIP user; AgentPlaceholder works as in SIPUser.
	SIPAuthUser Key = "sip.auth_user"
	// SIPEchoTestNumber is the PBX's echo test (for example "*43"), which
	// the pre-shift check calls and measures: digits, *, # and a leading +,
	// or a SIP user or URI.
	SIPEchoTestNumber Key = "sip.echo_test_number"
	// CRMType is "none", "local", "salesforce", "hubspot", "dynamics",
	// "servicenow" or "zendesk".
	CRMType Key = "crm.type"
	// CRMInstanceURL is the CRM's https URL (for example the Salesforce
	// My Domain URL).
	CRMInstanceURL Key = "crm.instance_url"
	// CRMClientID is the OAuth client IT registered for the desk at the
	// CRM (a public identifier, not a secret).
	CRMClientID Key = "crm.client_id"
	// SharedPC marks a hot-desk PC: signing out removes the agent's
	// secrets and personal data.
	SharedPC Key = "policy.shared_pc"
	// Autostart starts the app at every login.
	Autostart Key = "policy.autostart"
	// AllowedStatuses lists the break reasons an agent may pick.
	AllowedStatuses Key = "policy.allowed_statuses"
	// WrapUpSeconds is the after-call work time in seconds (0: manual).
	WrapUpSeconds Key = "policy.wrap_up_seconds"
	// OutcomeRequired makes an outcome mandatory before wrap-up ends.
	OutcomeRequired Key = "policy.outcome_required"
	// Recording is "off" (not allowed), "manual" or "auto".
	Recording Key = "policy.recording"
)

// lockedKey is the name under which a source lists its locked keys.
const lockedKey = "locked"

// versionKey is an optional format version in JSON files (only 1 exists).
const versionKey = "version"

type kind int

const (
	kindString kind = iota + 1
	kindBool
	kindInt
	kindList
)

type spec struct {
	kind  kind
	check func(v any) error
}

var specs = map[Key]spec{
	SIPServer:         {kindString, checkHostPort},
	SIPTransport:      {kindString, oneOf("udp", "tcp", "tls")},
	SIPOutboundProxy:  {kindString, checkHostPort},
	SIPUser:           {kindString, checkSIPUserTemplate},
	SIPAuthUser:       {kindString, checkSIPUserTemplate},
	SIPEchoTestNumber: {kindString, checkDialString},
	CRMType:           {kindString, oneOf("none", "local", "salesforce", "hubspot", "dynamics", "servicenow", "zendesk")},
	CRMInstanceURL:    {kindString, checkHTTPS},
	CRMClientID:       {kindString, checkClientID},
	SharedPC:          {kindBool, nil},
	Autostart:         {kindBool, nil},
	AllowedStatuses:   {kindList, checkStatuses},
	WrapUpSeconds:     {kindInt, checkRange(0, 3600)},
	OutcomeRequired:   {kindBool, nil},
	Recording:         {kindString, oneOf("off", "manual", "auto")},
}

// Keys returns every setting's name, sorted.
func Keys() []Key {
	ks := make([]Key, 0, len(specs))
	for k := range specs {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Layer is the checked content of one source.
type Layer struct {
	// Origin names the source in messages: a path or a registry key.
	Origin string
	values map[Key]any
	locked map[Key]bool
}

// Set reports whether the layer sets k.
func (l Layer) Set(k Key) bool {
	_, ok := l.values[k]
	return ok
}

// LockAll returns the layer with every key it sets locked (Group Policy,
// MDM configuration profiles).
func (l Layer) LockAll() Layer {
	out := Layer{Origin: l.Origin, values: l.values, locked: map[Key]bool{}}
	for k := range l.locked {
		out.locked[k] = true
	}
	for k := range l.values {
		out.locked[k] = true
	}
	return out
}

// FromMap builds a layer from decoded values: strings, bools, numbers
// (float64 or int), lists of strings, as JSON or plist decoding yields
// them. Strings are accepted for every kind ("1", "true", "60",
// "Break,Lunch"), as the registry holds them; an empty string means
// unset. The "locked" entry lists locked keys (a list or a comma-separated
// string).
func FromMap(origin string, m map[string]any) (Layer, error) {
	l := Layer{Origin: origin, values: map[Key]any{}, locked: map[Key]bool{}}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		raw := m[name]
		if isSecretName(name) {
			return Layer{}, fmt.Errorf("%w: %s: %q: store secrets in the OS keyring", ErrSecret, origin, name)
		}
		switch name {
		case versionKey:
			if n, ok := toInt(raw); !ok || n != 1 {
				return Layer{}, fmt.Errorf("%w: %s: %q: only version 1 exists", ErrBadValue, origin, name)
			}
			continue
		case lockedKey:
			list, err := toList(raw)
			if err != nil {
				return Layer{}, fmt.Errorf("%w: %s: %q: %w", ErrBadValue, origin, name, err)
			}
			for _, n := range list {
				if _, ok := specs[Key(n)]; !ok {
					return Layer{}, fmt.Errorf("%w: %s: %q lists %q", ErrUnknownKey, origin, name, n)
				}
				l.locked[Key(n)] = true
			}
			continue
		}
		k := Key(name)
		sp, ok := specs[k]
		if !ok {
			return Layer{}, fmt.Errorf("%w: %s: %q (known: %s)", ErrUnknownKey, origin, name, knownList())
		}
		if s, isStr := raw.(string); isStr && strings.TrimSpace(s) == "" {
			continue // unset (the MSI writes "" for a property not given)
		}
		v, err := convert(sp.kind, raw)
		if err == nil && sp.check != nil {
			err = sp.check(v)
		}
		if err != nil {
			return Layer{}, fmt.Errorf("%w: %s: %q: %w", ErrBadValue, origin, name, err)
		}
		l.values[k] = v
	}
	return l, nil
}

// FromStrings builds a layer from string values (registry REG_SZ values).
func FromStrings(origin string, kv map[string]string) (Layer, error) {
	m := make(map[string]any, len(kv))
	for k, v := range kv {
		m[k] = v
	}
	return FromMap(origin, m)
}

// Settings is the result of Resolve: typed values plus, per key, whether
// it is set, where it came from and whether it is locked.
type Settings struct {
	SIPServer        string
	SIPTransport     string
	SIPOutboundProxy string
	// SIPUser and SIPAuthUser are templates: ExpandAgent turns them into
	// the agent's SIP user and authentication user.
	SIPUser     string
	SIPAuthUser string
	// SIPEchoTestNumber is the echo test the pre-shift check calls.
	SIPEchoTestNumber string
	CRMType           string
	CRMInstanceURL    string
	CRMClientID       string
	SharedPC          bool
	Autostart         bool
	AllowedStatuses   []string
	WrapUpTime        time.Duration
	OutcomeRequired   bool
	Recording         string

	origin  map[Key]string
	locked  map[Key]string
	ignored []Key
}

// IsSet reports whether any layer sets k; when not, the app uses its own
// default.
func (s Settings) IsSet(k Key) bool {
	_, ok := s.origin[k]
	return ok
}

// Origin names the source of k's value ("" when unset).
func (s Settings) Origin(k Key) string { return s.origin[k] }

// Locked reports whether the agent may not change k; the UI shows such a
// setting read-only ("set by your IT department").
func (s Settings) Locked(k Key) bool {
	_, ok := s.locked[k]
	return ok
}

// LockedBy names the source that locked k ("" when not locked).
func (s Settings) LockedBy(k Key) string { return s.locked[k] }

// Ignored lists the keys the agent's layer set but could not change
// because they are locked, sorted.
func (s Settings) Ignored() []Key { return slices.Clone(s.ignored) }

// Resolve lays the machine layers over each other, lowest precedence
// first (a later layer's value wins; a lock is never lifted), then the
// agent's own layer on top for the keys that are not locked. The user
// layer's own "locked" list means nothing and is ignored.
func Resolve(user Layer, machine ...Layer) Settings {
	s := Settings{origin: map[Key]string{}, locked: map[Key]string{}}
	vals := map[Key]any{}
	for _, l := range machine {
		for k, v := range l.values {
			vals[k] = v
			s.origin[k] = l.Origin
		}
		for k := range l.locked {
			if _, ok := s.locked[k]; !ok {
				s.locked[k] = l.Origin
			}
		}
	}
	for _, k := range Keys() {
		v, ok := user.values[k]
		if !ok {
			continue
		}
		if s.Locked(k) {
			s.ignored = append(s.ignored, k)
			continue
		}
		vals[k] = v
		s.origin[k] = user.Origin
	}
	for k, v := range vals {
		switch k {
		case SIPServer:
			s.SIPServer = v.(string)
		case SIPTransport:
			s.SIPTransport = v.(string)
		case SIPOutboundProxy:
			s.SIPOutboundProxy = v.(string)
		case SIPUser:
			s.SIPUser = v.(string)
		case SIPAuthUser:
			s.SIPAuthUser = v.(string)
		case SIPEchoTestNumber:
			s.SIPEchoTestNumber = v.(string)
		case CRMType:
			s.CRMType = v.(string)
		case CRMInstanceURL:
			s.CRMInstanceURL = v.(string)
		case CRMClientID:
			s.CRMClientID = v.(string)
		case SharedPC:
			s.SharedPC = v.(bool)
		case Autostart:
			s.Autostart = v.(bool)
		case AllowedStatuses:
			s.AllowedStatuses = slices.Clone(v.([]string))
		case WrapUpSeconds:
			s.WrapUpTime = time.Duration(v.(int)) * time.Second
		case OutcomeRequired:
			s.OutcomeRequired = v.(bool)
		case Recording:
			s.Recording = v.(string)
		}
	}
	return s
}

func knownList() string {
	ks := Keys()
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = string(k)
	}
	return strings.Join(parts, ", ")
}

func isSecretName(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"password", "passwd", "secret", "token", "apikey", "api_key"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func convert(k kind, raw any) (any, error) {
	switch k {
	case kindString:
		s, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("want a string, got %T", raw)
		}
		return strings.TrimSpace(s), nil
	case kindBool:
		switch x := raw.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "1", "true", "yes", "on":
				return true, nil
			case "0", "false", "no", "off":
				return false, nil
			}
			return nil, fmt.Errorf("want true/false or 1/0, got %q", x)
		}
		if n, ok := toInt(raw); ok && (n == 0 || n == 1) {
			return n == 1, nil
		}
		return nil, fmt.Errorf("want true/false or 1/0, got %v", raw)
	case kindInt:
		n, ok := toInt(raw)
		if !ok {
			return nil, fmt.Errorf("want a whole number, got %v", raw)
		}
		return n, nil
	case kindList:
		return toList(raw)
	}
	return nil, fmt.Errorf("internal: unknown kind %d", k)
}

func toInt(raw any) (int, bool) {
	switch x := raw.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		if x != float64(int(x)) {
			return 0, false
		}
		return int(x), true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(x))
		return n, err == nil
	}
	return 0, false
}

// toList accepts a list of strings or one string of comma- or
// newline-separated items (REG_SZ, REG_MULTI_SZ joined with newlines).
func toList(raw any) ([]string, error) {
	var items []string
	switch x := raw.(type) {
	case string:
		items = strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == '\n' || r == ';' })
	case []string:
		items = x
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("want a list of strings, got a %T item", e)
			}
			items = append(items, s)
		}
	default:
		return nil, fmt.Errorf("want a list of strings, got %T", raw)
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			out = append(out, it)
		}
	}
	return out, nil
}

func oneOf(allowed ...string) func(any) error {
	return func(v any) error {
		s := v.(string)
		if !slices.Contains(allowed, s) {
			return fmt.Errorf("%q is not one of %s", s, strings.Join(allowed, ", "))
		}
		return nil
	}
}

func checkRange(lo, hi int) func(any) error {
	return func(v any) error {
		if n := v.(int); n < lo || n > hi {
			return fmt.Errorf("%d is outside %d..%d", n, lo, hi)
		}
		return nil
	}
}

func checkClientID(v any) error {
	s := v.(string)
	if s == "" || len(s) > 256 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return fmt.Errorf("%q: want the OAuth client id, printable ASCII without spaces", s)
	}
	return nil
}

func checkHostPort(v any) error {
	s := v.(string)
	if strings.Contains(s, "://") || strings.ContainsAny(s, " /@") {
		return fmt.Errorf("%q: want host or host:port, without scheme, user or path", s)
	}
	host := s
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: bad port", s)
		}
		host = h
	}
	if host == "" {
		return fmt.Errorf("%q: empty host", s)
	}
	return nil
}

// AgentPlaceholder in sip.user or sip.auth_user stands for the ID the
// agent signs in with.
const AgentPlaceholder = "${agent}"

// NeedsAgent reports whether template contains AgentPlaceholder.
func NeedsAgent(template string) bool { return strings.Contains(template, AgentPlaceholder) }

// ExpandAgent returns the SIP user that template (a sip.user or
// sip.auth_user value) names for agentID: every AgentPlaceholder replaced
// by the agent's ID. A template without the placeholder is returned as it
// is. A template that needs an agent when agentID is empty is
// ErrNeedsAgent; an agent ID that makes no valid SIP user (a space, an
// '@') is ErrBadValue.
func ExpandAgent(template, agentID string) (string, error) {
	if !NeedsAgent(template) {
		return template, nil
	}
	id := strings.TrimSpace(agentID)
	if id == "" {
		return "", fmt.Errorf("%w: %q", ErrNeedsAgent, template)
	}
	user := strings.ReplaceAll(template, AgentPlaceholder, id)
	if err := checkSIPUser(user); err != nil {
		return "", fmt.Errorf("%w: agent %q in %q: %w", ErrBadValue, id, template, err)
	}
	return user, nil
}

// sipUserChars are the characters RFC 3261 allows unescaped in the user
// part of a SIP URI besides letters and digits (unreserved and
// user-unreserved), plus '%' of an escape.
const sipUserChars = "-_.!~*'()&=+$,;?/%"

func checkSIPUser(s string) error {
	if s == "" || len(s) > 128 {
		return fmt.Errorf("%q: want 1 to 128 characters", s)
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(sipUserChars, r)) {
			return fmt.Errorf("%q: %q is not allowed in a SIP user (letters, digits and %s)", s, r, sipUserChars)
		}
	}
	return nil
}

// checkSIPUserTemplate checks a sip.user or sip.auth_user value: a SIP
// user in which AgentPlaceholder may stand for the agent's ID; any other
// "${...}" is a mistake.
func checkSIPUserTemplate(v any) error {
	s := v.(string)
	rest := strings.ReplaceAll(s, AgentPlaceholder, "agent")
	if strings.Contains(rest, "${") {
		return fmt.Errorf("%q: the only placeholder is %s", s, AgentPlaceholder)
	}
	return checkSIPUser(rest)
}

// checkDialString accepts what the desk can dial as a fixed number: a
// number (digits, *, #, a leading +, the usual separators), a SIP user,
// or a sip:/sips: URI; the app checks it again with the core's dial-string
// rules when it applies it.
func checkDialString(v any) error {
	s := strings.TrimSpace(v.(string))
	switch {
	case s == "":
		return errors.New("is empty")
	case len(s) > 128:
		return errors.New("is longer than 128 characters")
	}
	rest, uri := s, false
	if l := strings.ToLower(s); strings.HasPrefix(l, "sip:") || strings.HasPrefix(l, "sips:") {
		_, rest, _ = strings.Cut(s, ":")
		uri = true
		if rest == "" {
			return fmt.Errorf("%q has no user or host", s)
		}
	}
	for _, r := range rest {
		// A number may be written with spaces ("+49 30 1234-56"); a URI not.
		if r < ' ' || r == 0x7f || (r == ' ' && uri) || strings.ContainsRune("\"<>\\`", r) {
			return fmt.Errorf("%q: the character %q is not allowed in a number", s, r)
		}
	}
	return nil
}

func checkHTTPS(v any) error {
	s := v.(string)
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%q: only https URLs", s)
	}
	if u.User != nil {
		return errors.New("credentials in the URL are refused")
	}
	return nil
}

func checkStatuses(v any) error {
	l := v.([]string)
	if len(l) == 0 {
		return errors.New("the list is empty")
	}
	seen := map[string]bool{}
	for _, s := range l {
		if len(s) > 40 {
			return fmt.Errorf("%q is longer than 40 characters", s)
		}
		if seen[strings.ToLower(s)] {
			return fmt.Errorf("%q is listed twice", s)
		}
		seen[strings.ToLower(s)] = true
	}
	return nil
}
