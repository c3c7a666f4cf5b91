package dynamicsemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFilter(t *testing.T) {
	row := map[string]any{"fullname": "Ana O'Neil", "telephone1": "(415) 555-1212", "mobilephone": nil, "statecode": 0}
	columns := cols("fullname", "telephone1", "mobilephone", "statecode")
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{"telephone1 eq '(415) 555-1212'", true},
		{"telephone1 eq '+14155551212'", false},
		{"endswith(telephone1,'1212')", true},
		{"endswith(telephone1,'5551212')", false},
		{"startswith(fullname,'ana')", true},
		{"contains(fullname,'o''neil')", true},
		{"mobilephone eq null", true},
		{"mobilephone ne null or fullname eq 'x'", false},
		{"statecode eq 0 and (telephone1 eq 'x' or contains(fullname,'ana'))", true},
		{"not (statecode eq 0)", false},
		{"TELEPHONE1 EQ '(415) 555-1212'", true},
	} {
		n, err := parseFilter(tc.filter, "contact", columns)
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got := n.eval(row); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.filter, got, tc.want)
		}
	}
	for _, bad := range []string{"", "telephone1", "telephone1 gt '1'", "nosuch eq 'x'", "endswith(nosuch,'1')",
		"endswith(telephone1,1)", "telephone1 eq 'open", "(telephone1 eq 'x'", "telephone1 eq 'x')", "telephone1 eq 'x' or", "a ~ b"} {
		if _, err := parseFilter(bad, "contact", columns); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"telephone1 eq '+14155551212' or endswith(mobilephone,'5551212')",
		"not (a eq 1) and contains(fullname,'o''x')", "((", "'", "-1.5"} {
		f.Add(s)
	}
	columns := cols("telephone1", "mobilephone", "fullname", "a")
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseFilter(s, "contact", columns)
		if err == nil {
			n.eval(map[string]any{"telephone1": "x", "a": 1})
		}
	})
}

type client struct {
	t     *testing.T
	base  string
	token string
}

func (c *client) do(method, path string, hdr map[string]string, body string) (int, http.Header, []byte) {
	c.t.Helper()
	u := c.base + path
	if strings.HasPrefix(path, "/") {
		u = c.base[:strings.Index(c.base, APIPrefix)] + path
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	cl := &http.Client{Timeout: 30 * time.Second}
	resp, err := cl.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func errCode(t *testing.T, b []byte) string {
	t.Helper()
	var env struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(b, &env); err != nil || env.Error.Message == "" {
		t.Fatalf("not an OData error envelope: %s", b)
	}
	return env.Error.Code
}

func start(t *testing.T, cfg Config) (*Server, *client) {
	t.Helper()
	s := New(cfg)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	at, _ := s.IssueTokens(s.Users()[0].ID)
	return s, &client{t: t, base: s.URL() + APIPrefix + "v9.2/", token: at}
}

func TestPhoneCallUpsertRules(t *testing.T) {
	s, c := start(t, Config{})
	contact := s.AddContact(Contact{FullName: "Ana", Telephone1: "+14155551212"})
	id := "2f0c0000-0000-5000-8000-000000000001"
	create := map[string]string{"If-None-Match": "*", "Content-Type": "application/json"}
	update := map[string]string{"If-Match": "*", "Content-Type": "application/json"}
	body := `{"subject":"Inbound call","directioncode":false,"actualdurationminutes":6,
		"regardingobjectid_contact_phonecall@odata.bind":"/contacts(` + contact + `)",
		"phonecall_activity_parties":[{"partyid_contact@odata.bind":"/contacts(` + contact + `)","participationtypemask":1},
		{"addressused":"+14155551212","participationtypemask":2}]}`

	if st, _, b := c.do(http.MethodPatch, "phonecalls("+id+")", update, body); st != 404 || errCode(t, b) != CodeDoesNotExist {
		t.Fatalf("update of a missing row: %d %s", st, b)
	}
	if st, _, b := c.do(http.MethodPatch, "phonecalls("+id+")", create, `{"subject":"x","statecode":1}`); st != 400 {
		t.Fatalf("statecode on create: %d %s", st, b)
	}
	if st, _, b := c.do(http.MethodPatch, "phonecalls("+id+")", create, `{"subject":"x","colour":"red"}`); st != 400 || !strings.Contains(string(b), "colour") {
		t.Fatalf("unknown column: %d %s", st, b)
	}
	if st, _, b := c.do(http.MethodPatch, "phonecalls("+id+")", create, `{"subject":"x","description":"`+strings.Repeat("é", 2001)+`"}`); st != 400 || errCode(t, b) != CodeValidation {
		t.Fatalf("long description: %d %s", st, b)
	}
	if st, _, b := c.do(http.MethodPatch, "phonecalls("+id+")", create, `{"subject":"x","regardingobjectid_contact_phonecall@odata.bind":"/contacts(0a1b0000-0000-4000-8000-000000000009)"}`); st != 404 || errCode(t, b) != CodeDoesNotExist {
		t.Fatalf("bind to a missing contact: %d %s", st, b)
	}
	if st, _, b := c.do(http.MethodPatch, "phonecalls("+id+")", create, `{not json`); st != 400 || errCode(t, b) != CodeBadPayload {
		t.Fatalf("garbage body: %d %s", st, b)
	}
	if st, _, b := c.do(http.MethodPatch, "phonecalls("+id+")", create, `{"description":"no subject"}`); st != 400 {
		t.Fatalf("create without subject: %d %s", st, b)
	}
	if s.PhoneCallCount() != 0 {
		t.Fatal("a refused request created a row")
	}
	st, h, b := c.do(http.MethodPatch, "phonecalls("+id+")", create, body)
	if st != 204 || !strings.HasSuffix(h.Get("OData-EntityId"), "phonecalls("+id+")") {
		t.Fatalf("create: %d %v %s", st, h, b)
	}
	if st, _, b := c.do(http.MethodPatch, "phonecalls("+id+")", create, body); st != 412 || errCode(t, b) != CodeDuplicateKey {
		t.Fatalf("second create: %d %s", st, b)
	}
	if st, _, b := c.do(http.MethodPatch, "phonecalls("+id+")", update, `{"statecode":1,"statuscode":3}`); st != 400 {
		t.Fatalf("status 3 with state 1: %d %s", st, b)
	}
	if st, _, b := c.do(http.MethodPatch, "phonecalls("+id+")", update, `{"statecode":1,"statuscode":4}`); st != 204 {
		t.Fatalf("close: %d %s", st, b)
	}
	for _, again := range []string{`{"statecode":1,"statuscode":4}`, `{"subject":"changed"}`} {
		if st, _, b := c.do(http.MethodPatch, "phonecalls("+id+")", update, again); st != 400 || errCode(t, b) != CodeReadOnly {
			t.Fatalf("write to a completed call %s: %d %s", again, st, b)
		}
	}
	st, _, b = c.do(http.MethodGet, "phonecalls("+id+")?$select=statecode,statuscode", nil, "")
	var row map[string]any
	if st != 200 || json.Unmarshal(b, &row) != nil || row["statecode"] != 1.0 || row["statuscode"] != 4.0 || row["subject"] != nil || row["@odata.etag"] != `W/"2"` {
		t.Fatalf("read back: %d %s", st, b)
	}
	pc, _ := s.PhoneCall(id)
	if pc.RegardingID != contact || len(pc.Parties) != 2 || pc.Parties[1].Address != "+14155551212" || pc.Subject != "Inbound call" {
		t.Fatalf("stored %+v", pc)
	}
	// A reopen is allowed.
	if st, _, b := c.do(http.MethodPatch, "phonecalls("+id+")", update, `{"statecode":0}`); st != 204 {
		t.Fatalf("reopen: %d %s", st, b)
	}
}

func TestQueriesAndErrors(t *testing.T) {
	s, c := start(t, Config{})
	s.AddContact(Contact{FullName: "Ana", Telephone1: "+14155551212"})
	s.AddContact(Contact{FullName: "Bo", MobilePhone: "(415) 555-1212"})
	q := url.Values{"$select": {"fullname"}, "$filter": {"telephone1 eq '+14155551212' or endswith(mobilephone,'1212')"}, "$top": {"5"}}
	st, _, b := c.do(http.MethodGet, "contacts?"+q.Encode(), nil, "")
	var res struct {
		Value []map[string]any `json:"value"`
	}
	if st != 200 || json.Unmarshal(b, &res) != nil || len(res.Value) != 2 || res.Value[0]["telephone1"] != nil {
		t.Fatalf("query: %d %s", st, b)
	}
	q.Set("$filter", "nosuch eq 'x'")
	if st, _, b := c.do(http.MethodGet, "contacts?"+q.Encode(), nil, ""); st != 400 || !strings.Contains(string(b), "nosuch") {
		t.Fatalf("unknown column: %d %s", st, b)
	}
	if st, _, b := c.do(http.MethodGet, "opportunities", nil, ""); st != 404 || errCode(t, b) != codeNoSegment {
		t.Fatalf("unknown entity set: %d %s", st, b)
	}
	if st, _, _ := c.do(http.MethodGet, APIPrefix+"v8.0/WhoAmI", nil, ""); st != 404 {
		t.Fatalf("unknown version: %d", st)
	}
	st, _, b = c.do(http.MethodGet, "WhoAmI", nil, "")
	var who struct{ UserId string }
	if st != 200 || json.Unmarshal(b, &who) != nil || who.UserId != SystemUserID(s.Users()[0].ID) {
		t.Fatalf("whoami: %d %s", st, b)
	}
	st, _, b = c.do(http.MethodGet, "systemusers("+who.UserId+")?$select=fullname", nil, "")
	if st != 200 || !bytes.Contains(b, []byte(`"fullname":"Agent One"`)) {
		t.Fatalf("systemuser: %d %s", st, b)
	}
	c.token = "nope"
	st, h, b := c.do(http.MethodGet, "WhoAmI", nil, "")
	if st != 401 || len(b) != 0 || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("bad token: %d %v %s", st, h, b)
	}
}

func TestServiceProtection(t *testing.T) {
	_, c := start(t, Config{RequestLimit: 2, Window: time.Minute})
	for range 2 {
		if st, _, _ := c.do(http.MethodGet, "WhoAmI", nil, ""); st != 200 {
			t.Fatal(st)
		}
	}
	st, h, b := c.do(http.MethodGet, "WhoAmI", nil, "")
	if st != 429 || errCode(t, b) != CodeRequestsExceeded || h.Get("Retry-After") == "" || h.Get("Retry-After") == "0" {
		t.Fatalf("over the limit: %d %v %s", st, h, b)
	}
}
