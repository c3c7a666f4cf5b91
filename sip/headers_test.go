package sip

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/emiago/sipgo/sip"
)

// TestTargetURI: every sane dial input becomes a request URI in the
// account's domain; a '#' is escaped (RFC 3261 25.1: not allowed in the
// user part, and it would start a fragment); garbage is ErrBadTarget.
func TestTargetURI(t *testing.T) {
	cases := []struct{ in, want string }{
		{"1001", "sip:1001@pbx.example:5070"},
		{"+49 (30) 1234-567", "sip:+49301234567@pbx.example:5070"},
		{"tel:+4930123;phone-context=example.com", "sip:+4930123@pbx.example:5070"},
		{"callto://555-0100", "sip:5550100@pbx.example:5070"},
		{"sip:alice@other.example", "sip:alice@other.example"},
		{"sips:bob@other.example:5061", "sips:bob@other.example:5061"},
		{"alice", "sip:alice@pbx.example:5070"},
		{"*43", "sip:*43@pbx.example:5070"},
		{"12#", "sip:12%23@pbx.example:5070"},
		{"*72#1001", "sip:*72%231001@pbx.example:5070"},
	}
	for _, c := range cases {
		u, err := targetURI(c.in, "pbx.example:5070")
		if err != nil {
			t.Errorf("targetURI(%q): %v", c.in, err)
			continue
		}
		if got := u.String(); got != c.want {
			t.Errorf("targetURI(%q) = %s, want %s", c.in, got, c.want)
			continue
		}
		// What we send must parse back as a URI with the same user.
		var back sip.Uri
		if err := sip.ParseUri(u.String(), &back); err != nil || back.User != u.User || back.Host != u.Host {
			t.Errorf("targetURI(%q) = %s does not parse back: %+v %v", c.in, u.String(), back, err)
		}
	}
	for _, bad := range []string{"", "   ", "sip:", "sip:@host", "not a number!", "+", strings.Repeat("9", 300)} {
		if _, err := targetURI(bad, "pbx.example"); !errors.Is(err, ErrBadTarget) {
			t.Errorf("targetURI(%q) = %v, want ErrBadTarget", bad, err)
		}
	}
}

// invite builds an INVITE to go1 with the given extra headers.
func invite(t *testing.T, headers ...[2]string) *sip.Request {
	t.Helper()
	req := sip.NewRequest(sip.INVITE, sip.Uri{Scheme: "sip", User: "go1", Host: "pbx.example"})
	from := &sip.FromHeader{DisplayName: "From Name", Address: sip.Uri{Scheme: "sip", User: "5551234", Host: "pbx.example"}, Params: sip.NewParams()}
	from.Params.Add("tag", "abc")
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: "go1", Host: "pbx.example"}, Params: sip.NewParams()})
	for _, h := range headers {
		req.AppendHeader(sip.NewHeader(h[0], h[1]))
	}
	return req
}

// TestInboundIdentityHeaders: the caller comes from P-Asserted-Identity,
// Remote-Party-ID, then From; the dialled number from Diversion,
// History-Info (the first entry is the original target), then To.
// Oversized or broken headers fall through to the next source.
func TestInboundIdentityHeaders(t *testing.T) {
	cases := []struct {
		name    string
		headers [][2]string
		caller  domain.Party
		dialed  string
	}{
		{"from and to", nil, domain.Party{Number: "5551234", Name: "From Name"}, "go1"},
		{"pai", [][2]string{{"P-Asserted-Identity", `"Jane Roe" <sip:+15557654321@pbx.example;user=phone>`}},
			domain.Party{Number: "+15557654321", Name: "Jane Roe"}, "go1"},
		{"pai tel without name", [][2]string{{"P-Asserted-Identity", `<tel:+15550001111>`}},
			domain.Party{Number: "+15550001111", Name: "From Name"}, "go1"},
		{"rpid", [][2]string{{"Remote-Party-ID", `"Rob" <sip:2002@pbx.example>;party=calling;privacy=off`}},
			domain.Party{Number: "2002", Name: "Rob"}, "go1"},
		{"pai before rpid", [][2]string{
			{"Remote-Party-ID", `"Rob" <sip:2002@pbx.example>;party=calling`},
			{"P-Asserted-Identity", `"Jane" <sip:3003@pbx.example>`}},
			domain.Party{Number: "3003", Name: "Jane"}, "go1"},
		{"pai with quoted-pairs", [][2]string{{"P-Asserted-Identity", `"Desk \"B\", \\ 12" <sip:3003@pbx.example>, <tel:+15550003003>`}},
			domain.Party{Number: "3003", Name: `Desk "B", \ 12`}, "go1"},
		{"anonymous", [][2]string{{"P-Asserted-Identity", `"Anonymous" <sip:anonymous@anonymous.invalid>`}},
			domain.Party{Number: "", Name: "Anonymous"}, "go1"},
		{"oversized pai", [][2]string{{"P-Asserted-Identity", `"X" <sip:` + strings.Repeat("1", 2000) + `@h>`}},
			domain.Party{Number: "5551234", Name: "From Name"}, "go1"},
		{"garbage rpid", [][2]string{{"Remote-Party-ID", `<<<>>>`}},
			domain.Party{Number: "5551234", Name: "From Name"}, "go1"},
		{"diversion", [][2]string{{"Diversion", `<sip:sales-queue@pbx.example>;reason=unconditional`}},
			domain.Party{Number: "5551234", Name: "From Name"}, "sales-queue"},
		{"history-info", [][2]string{{"History-Info",
			`<sip:support@pbx.example>;index=1, <sip:go1@pbx.example?Reason=SIP%3Bcause%3D302>;index=1.1`}},
			domain.Party{Number: "5551234", Name: "From Name"}, "support"},
		{"history-info tel", [][2]string{{"History-Info", `<tel:+498001234>;index=1`}},
			domain.Party{Number: "5551234", Name: "From Name"}, "+498001234"},
		{"diversion before history-info", [][2]string{
			{"History-Info", `<sip:support@pbx.example>;index=1`},
			{"Diversion", `<sip:billing@pbx.example>;reason=no-answer`}},
			domain.Party{Number: "5551234", Name: "From Name"}, "billing"},
		{"broken diversion", [][2]string{{"Diversion", `nonsense`}},
			domain.Party{Number: "5551234", Name: "From Name"}, "go1"},
	}
	for _, c := range cases {
		req := invite(t, c.headers...)
		if got := callerOf(req); got != c.caller {
			t.Errorf("%s: caller %+v, want %+v", c.name, got, c.caller)
		}
		if got := dialedOf(req); got != c.dialed {
			t.Errorf("%s: dialled %q, want %q", c.name, got, c.dialed)
		}
	}
}

// TestGrantedExpiry: the registrar's grant for our contact wins (a
// registrar may list other devices' contacts), then the Expires header,
// then what we asked for.
func TestGrantedExpiry(t *testing.T) {
	ours := sip.Uri{Scheme: "sip", User: "go1", Host: "10.0.0.5", Port: 5070}
	res := func(headers ...[2]string) *sip.Response {
		r := sip.NewResponse(200, "OK")
		for _, h := range headers {
			r.AppendHeader(sip.NewHeader(h[0], h[1]))
		}
		return r
	}
	asked := 300 * time.Second
	cases := []struct {
		name string
		res  *sip.Response
		want time.Duration
	}{
		{"nothing", res(), asked},
		{"expires header", res([2]string{"Expires", "120"}), 120 * time.Second},
		{"our contact", res([2]string{"Contact", `<sip:go1@10.0.0.5:5070;transport=udp>;expires=90`}, [2]string{"Expires", "3600"}), 90 * time.Second},
		{"other device first", res([2]string{"Contact", `<sip:go1@10.0.0.9:5060>;expires=3600, <sip:go1@10.0.0.5:5070>;expires=60`}), 60 * time.Second},
		{"only other devices", res([2]string{"Contact", `<sip:go1@10.0.0.9:5060>;expires=3600`}, [2]string{"Expires", "200"}), 200 * time.Second},
		{"garbage", res([2]string{"Contact", `<sip:go1@10.0.0.5:5070>;expires=soon`}, [2]string{"Expires", "-5"}), asked},
	}
	for _, c := range cases {
		if got := grantedExpiry(c.res, ours, asked); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestNotifyReason: a transfer that fails at the target says how, with
// the standard reason phrase of every failure the core maps (RFC 3261).
func TestNotifyReason(t *testing.T) {
	if r := notifyReason(200); r != "" {
		t.Errorf("success has reason %q", r)
	}
	for code, phrase := range map[int]string{
		403: "Forbidden", 404: "Not Found", 408: "Request Timeout", 410: "Gone",
		480: "Temporarily Unavailable", 484: "Address Incomplete", 485: "Ambiguous",
		486: "Busy Here", 487: "Request Terminated", 488: "Not Acceptable Here",
		500: "Server Internal Error", 502: "Bad Gateway", 503: "Service Unavailable",
		504: "Server Time-out", 600: "Busy Everywhere", 603: "Decline", 604: "Does Not Exist Anywhere",
	} {
		want := "the transfer target answered " + strconv.Itoa(code) + " " + phrase
		if got := notifyReason(code); got != want {
			t.Errorf("notifyReason(%d) = %q, want %q", code, got, want)
		}
	}
}

// TestDisplayNameQuoting: a display name survives quoting for the From
// header and reading back; an account's display name with a control
// character (a CR LF would start a new header) is refused.
func TestDisplayNameQuoting(t *testing.T) {
	for _, name := range []string{"Agent Zoë", `Desk "B" \ 12`, `\"`, ""} {
		if got := unquoteDisplayName(`"` + quoteDisplayName(name) + `"`); got != name {
			t.Errorf("round trip of %q: %q", name, got)
		}
	}
	if got := quoteDisplayName(`a"b\c`); got != `a\"b\\c` {
		t.Errorf("quoted: %s", got)
	}
	for _, bad := range []string{"Agent\r\nX-Evil: 1", "tab\tname", "bad\xffutf8"} {
		if _, err := New(Account{User: "a", Domain: "pbx", DisplayName: bad}, pw("x")); !errors.Is(err, ErrInvalidAccount) {
			t.Errorf("display name %q: %v, want ErrInvalidAccount", bad, err)
		}
	}
}
