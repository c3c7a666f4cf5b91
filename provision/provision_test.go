package provision

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func mustJSON(t *testing.T, origin, s string) Layer {
	t.Helper()
	l, err := ParseJSON(origin, []byte(s))
	if err != nil {
		t.Fatalf("ParseJSON(%s): %v", s, err)
	}
	return l
}

func TestExampleFile(t *testing.T) {
	l, ok, err := LoadFile(filepath.Join("testdata", "example.json"))
	if err != nil || !ok {
		t.Fatalf("LoadFile: ok=%v err=%v", ok, err)
	}
	s := Resolve(Layer{}, l)
	want := Settings{
		SIPServer: "pbx.example.com:5061", SIPTransport: "tls", CRMType: "salesforce",
		CRMInstanceURL: "https://example.my.salesforce.com", SharedPC: true, Autostart: true,
		AllowedStatuses: []string{"Break", "Lunch", "Meeting", "Training"},
		WrapUpTime:      45 * time.Second, OutcomeRequired: true, Recording: "manual",
	}
	if s.SIPServer != want.SIPServer || s.SIPTransport != want.SIPTransport || s.CRMType != want.CRMType ||
		s.CRMInstanceURL != want.CRMInstanceURL || s.SharedPC != want.SharedPC || s.Autostart != want.Autostart ||
		!slices.Equal(s.AllowedStatuses, want.AllowedStatuses) || s.WrapUpTime != want.WrapUpTime ||
		s.OutcomeRequired != want.OutcomeRequired || s.Recording != want.Recording {
		t.Fatalf("got %+v\nwant %+v", s, want)
	}
	if s.IsSet(SIPOutboundProxy) {
		t.Error(`"" must mean unset`)
	}
	for _, k := range []Key{SIPServer, SIPTransport, CRMType, CRMInstanceURL, SharedPC, Recording} {
		if !s.Locked(k) || s.LockedBy(k) != l.Origin {
			t.Errorf("%s: locked=%v by %q", k, s.Locked(k), s.LockedBy(k))
		}
	}
	if s.Locked(WrapUpSeconds) {
		t.Error("wrap-up must not be locked")
	}
}

func TestLayering(t *testing.T) {
	file := mustJSON(t, "file", `{"sip.server":"a.example.com","policy.wrap_up_seconds":30,"locked":["policy.shared_pc"]}`)
	msi, err := FromStrings(`HKLM\SOFTWARE\Callcentre\Softphone`, map[string]string{
		"sip.server": "b.example.com", "policy.shared_pc": "1", "crm.type": "", "policy.autostart": "0",
	})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := FromStrings("policy", map[string]string{"policy.recording": "off", "policy.shared_pc": "0"})
	if err != nil {
		t.Fatal(err)
	}
	policy = policy.LockAll()
	user := mustJSON(t, "user", `{"policy.shared_pc":true,"policy.recording":"auto","policy.wrap_up_seconds":120,"sip.transport":"tcp","locked":["sip.transport"]}`)

	s := Resolve(user, file, msi, policy)
	if s.SIPServer != "b.example.com" || s.Origin(SIPServer) != msi.Origin {
		t.Errorf("a later machine layer wins: %q from %q", s.SIPServer, s.Origin(SIPServer))
	}
	if s.SharedPC || s.Origin(SharedPC) != "policy" || s.LockedBy(SharedPC) != "file" {
		t.Errorf("shared pc = %v from %q locked by %q", s.SharedPC, s.Origin(SharedPC), s.LockedBy(SharedPC))
	}
	if s.Recording != "off" || !s.Locked(Recording) {
		t.Errorf("policy must lock recording: %q", s.Recording)
	}
	if s.WrapUpTime != 120*time.Second || s.Origin(WrapUpSeconds) != "user" {
		t.Errorf("the agent may change an unlocked setting: %v", s.WrapUpTime)
	}
	if s.SIPTransport != "tcp" || s.Locked(SIPTransport) {
		t.Errorf("the user layer cannot lock: %q locked=%v", s.SIPTransport, s.Locked(SIPTransport))
	}
	if s.IsSet(CRMType) {
		t.Error("an empty registry value is unset")
	}
	if s.Autostart || !s.IsSet(Autostart) {
		t.Error(`"0" is false and set`)
	}
	if got := s.Ignored(); !slices.Equal(got, []Key{Recording, SharedPC}) {
		t.Errorf("ignored = %v", got)
	}
}

func TestPlist(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "managed.plist"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ParsePlist("managed", raw)
	if err != nil {
		t.Fatal(err)
	}
	s := Resolve(mustJSON(t, "user", `{"sip.server":"mine.example.com"}`), l.LockAll())
	if s.SIPServer != "pbx2.example.com" || s.WrapUpTime != 90*time.Second || s.OutcomeRequired ||
		!s.IsSet(OutcomeRequired) || !slices.Equal(s.AllowedStatuses, []string{"Break", "Lunch"}) {
		t.Fatalf("got %+v", s)
	}
	if !s.Locked(SIPServer) || !slices.Equal(s.Ignored(), []Key{SIPServer}) {
		t.Errorf("managed preferences are locked: %v", s.Ignored())
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     error
		mention  string
	}{
		{"syntax", `{"sip.server":`, ErrSyntax, ""},
		{"not an object", `["sip.server"]`, ErrSyntax, ""},
		{"null", `null`, ErrSyntax, ""},
		{"trailing", `{} {}`, ErrSyntax, ""},
		{"unknown", `{"sip.sever":"x"}`, ErrUnknownKey, "sip.sever"},
		{"unknown locked", `{"locked":["sip.sever"]}`, ErrUnknownKey, "sip.sever"},
		{"password", `{"sip.password":"hunter2"}`, ErrSecret, "sip.password"},
		{"token", `{"crm.token":"x"}`, ErrSecret, "crm.token"},
		{"transport", `{"sip.transport":"sctp"}`, ErrBadValue, "sctp"},
		{"scheme", `{"sip.server":"sip:pbx.example.com"}`, ErrBadValue, "sip.server"},
		{"port", `{"sip.server":"pbx.example.com:99999"}`, ErrBadValue, "port"},
		{"http", `{"crm.instance_url":"http://crm.example.com"}`, ErrBadValue, "https"},
		{"relative", `{"crm.instance_url":"crm.example.com"}`, ErrBadValue, "absolute"},
		{"creds", `{"crm.instance_url":"https://u:p@crm.example.com"}`, ErrBadValue, "credentials"},
		{"crm", `{"crm.type":"sap"}`, ErrBadValue, "sap"},
		{"client id", `{"crm.client_id":"my client"}`, ErrBadValue, "client id"},
		{"bool", `{"policy.shared_pc":"maybe"}`, ErrBadValue, "maybe"},
		{"bool number", `{"policy.shared_pc":2}`, ErrBadValue, ""},
		{"int", `{"policy.wrap_up_seconds":1.5}`, ErrBadValue, ""},
		{"range", `{"policy.wrap_up_seconds":-1}`, ErrBadValue, "outside"},
		{"list type", `{"policy.allowed_statuses":[1]}`, ErrBadValue, ""},
		{"empty list", `{"policy.allowed_statuses":[]}`, ErrBadValue, "empty"},
		{"duplicate", `{"policy.allowed_statuses":["Break","break"]}`, ErrBadValue, "twice"},
		{"version", `{"version":2}`, ErrBadValue, "version"},
		{"string type", `{"sip.server":true}`, ErrBadValue, "string"},
		{"sip user at", `{"sip.user":"1001@pbx.example.com"}`, ErrBadValue, "sip.user"},
		{"sip user space", `{"sip.user":"agent 7"}`, ErrBadValue, "not allowed"},
		{"sip user placeholder", `{"sip.user":"${user}"}`, ErrBadValue, "${agent}"},
		{"auth user colon", `{"sip.auth_user":"a:b"}`, ErrBadValue, "sip.auth_user"},
		{"sip user long", `{"sip.user":"` + strings.Repeat("1", 129) + `"}`, ErrBadValue, "128"},
		{"echo test space", `{"sip.echo_test_number":"sip:echo @pbx"}`, ErrBadValue, "sip.echo_test_number"},
		{"echo test control", `{"sip.echo_test_number":"*4\u00073"}`, ErrBadValue, "not allowed"},
		{"echo test quote", `{"sip.echo_test_number":"<sip:echo@pbx>"}`, ErrBadValue, "not allowed"},
		{"echo test uri", `{"sip.echo_test_number":"sip:"}`, ErrBadValue, "no user"},
		{"echo test type", `{"sip.echo_test_number":43}`, ErrBadValue, "string"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseJSON("f.json", []byte(c.in))
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), "f.json") || !strings.Contains(err.Error(), c.mention) {
				t.Errorf("%q must name the source and %q", err, c.mention)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error leaks the secret: %v", err)
			}
		})
	}
}

// TestSIPUserTemplate: IT provisions the SIP user as a template naming the
// agent (hot desks), a fixed user (a PC bound to one extension), and an
// authentication user; the agent's own file cannot override a locked one.
func TestSIPUserTemplate(t *testing.T) {
	machine := mustJSON(t, "machine", `{"sip.server":"pbx.example.com","sip.user":"${agent}","sip.auth_user":"auth-${agent}.desk",
		"locked":["sip.user"]}`)
	s := Resolve(mustJSON(t, "user", `{"sip.user":"9999","sip.auth_user":"mine"}`), machine)
	if s.SIPUser != "${agent}" || s.SIPAuthUser != "mine" || !s.Locked(SIPUser) || s.Locked(SIPAuthUser) {
		t.Fatalf("user %q auth %q locked %v/%v", s.SIPUser, s.SIPAuthUser, s.Locked(SIPUser), s.Locked(SIPAuthUser))
	}
	if !slices.Equal(s.Ignored(), []Key{SIPUser}) {
		t.Errorf("ignored %v", s.Ignored())
	}
	for _, c := range []struct {
		template, agent, want string
		err                   error
	}{
		{"${agent}", "4711", "4711", nil},
		{"${agent}", " agent7 ", "agent7", nil},
		{"auth-${agent}.desk", "a.b", "auth-a.b.desk", nil},
		{"${agent}-${agent}", "x", "x-x", nil},
		{"1001", "", "1001", nil},
		{"1001", "whoever", "1001", nil},
		{"${agent}", "", "", ErrNeedsAgent},
		{"${agent}", "   ", "", ErrNeedsAgent},
		{"${agent}", "alice smith", "", ErrBadValue},
		{"${agent}", "alice@corp", "", ErrBadValue},
	} {
		got, err := ExpandAgent(c.template, c.agent)
		if got != c.want || !errors.Is(err, c.err) || (err == nil) != (c.err == nil) {
			t.Errorf("ExpandAgent(%q, %q) = %q, %v; want %q, %v", c.template, c.agent, got, err, c.want, c.err)
		}
		if err != nil && !strings.Contains(err.Error(), c.template) {
			t.Errorf("%v does not name the template %q", err, c.template)
		}
	}
	if !NeedsAgent("x${agent}") || NeedsAgent("1001") {
		t.Error("NeedsAgent")
	}
	// The registry holds it as a plain string; "" is unset.
	l, err := FromStrings("HKLM", map[string]string{"sip.user": "${agent}", "sip.auth_user": ""})
	if err != nil || !l.Set(SIPUser) || l.Set(SIPAuthUser) {
		t.Fatalf("registry layer: %v set %v/%v", err, l.Set(SIPUser), l.Set(SIPAuthUser))
	}
}

func TestBadPlist(t *testing.T) {
	for _, in := range []string{
		``, `<plist><array/></plist>`, `<plist><dict><key>a</key></dict></plist>`,
		`<plist><dict><string>x</string></dict></plist>`, `<plist><dict><key>sip.server</key><integer>x</integer></dict></plist>`,
		`<plist><dict><key>sip.server</key><date>2020</date></dict></plist>`, `<plist><dict>`,
	} {
		if _, err := ParsePlist("p", []byte(in)); !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrBadValue) {
			t.Errorf("%q: err = %v", in, err)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := LoadFile(filepath.Join(dir, "none.json")); ok || err != nil {
		t.Fatalf("a missing file: ok=%v err=%v", ok, err)
	}
	p := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(p, []byte(`{"sip.transport":"x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadFile(p); !errors.Is(err, ErrBadValue) || !strings.Contains(err.Error(), p) {
		t.Fatalf("err = %v", err)
	}
	if _, _, err := LoadFile(dir); err == nil {
		t.Fatal("a directory must be an error")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{}`, `{"locked":"sip.server","sip.server":"a"}`, `<plist><dict><key>x</key><true/></dict></plist>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if l, err := ParseJSON("f", raw); err == nil {
			_ = Resolve(l, l)
		}
		if l, err := ParsePlist("p", raw); err == nil {
			_ = Resolve(Layer{}, l)
		}
	})
}

// TestEchoTestNumber: IT provisions the PBX's echo test; a lock keeps the
// agent's own from replacing it.
func TestEchoTestNumber(t *testing.T) {
	for _, ok := range []string{"*43", "+49 30 1234-56", "echo", "sip:echo@pbx.example.com", "sips:9196@pbx.example.com:5061"} {
		if _, err := FromMap("f", map[string]any{string(SIPEchoTestNumber): ok}); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	machine, err := ParseJSON("machine.json", []byte(`{"sip.echo_test_number": "*43"}`))
	if err != nil {
		t.Fatal(err)
	}
	user, err := FromMap("user", map[string]any{string(SIPEchoTestNumber): "9999"})
	if err != nil {
		t.Fatal(err)
	}
	if s := Resolve(Layer{}, machine); !s.IsSet(SIPEchoTestNumber) || s.SIPEchoTestNumber != "*43" || s.Origin(SIPEchoTestNumber) != "machine.json" {
		t.Fatalf("provisioned: %q from %q", s.SIPEchoTestNumber, s.Origin(SIPEchoTestNumber))
	}
	if s := Resolve(user, machine); s.SIPEchoTestNumber != "9999" {
		t.Fatalf("unlocked: the agent's %q must win, got %q", "9999", s.SIPEchoTestNumber)
	}
	locked, err := ParseJSON("machine.json", []byte(`{"sip.echo_test_number": "*43", "locked": ["sip.echo_test_number"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if s := Resolve(user, locked); s.SIPEchoTestNumber != "*43" || !s.Locked(SIPEchoTestNumber) {
		t.Fatalf("locked: %q", s.SIPEchoTestNumber)
	}
}
