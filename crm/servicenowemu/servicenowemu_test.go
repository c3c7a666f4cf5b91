package servicenowemu_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm/servicenowemu"
)

type client struct {
	t     *testing.T
	emu   *servicenowemu.Server
	token string
}

func start(t *testing.T, cfg servicenowemu.Config) *client {
	t.Helper()
	emu := servicenowemu.New(cfg)
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Close() })
	at, _ := emu.IssueTokens("u0001")
	return &client{t: t, emu: emu, token: at}
}

type envelope struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
		Detail  any    `json:"detail"`
	} `json:"error"`
	Status string `json:"status"`
}

func (c *client) do(method, path string, q url.Values, body string) (int, http.Header, envelope) {
	c.t.Helper()
	u := c.emu.URL() + path
	if q != nil {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var env envelope
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		c.t.Fatalf("%s %s: undecodable answer: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, env
}

func (c *client) names(q string) []string {
	c.t.Helper()
	st, _, env := c.do(http.MethodGet, "/api/now/v2/table/customer_contact", url.Values{"sysparm_query": {q}, "sysparm_fields": {"name"}}, "")
	if st != http.StatusOK {
		c.t.Fatalf("query %q: status %d", q, st)
	}
	var rows []map[string]string
	if err := json.Unmarshal(env.Result, &rows); err != nil {
		c.t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r["name"])
	}
	slices.Sort(out)
	return out
}

func TestEncodedQueries(t *testing.T) {
	c := start(t, servicenowemu.Config{})
	c.emu.SeedContact(servicenowemu.Record{"name": "Ana", "phone": "+14155551212", "email": "ana@x.test"})
	c.emu.SeedContact(servicenowemu.Record{"name": "Bo", "mobile_phone": "4155551212"})
	c.emu.SeedContact(servicenowemu.Record{"name": "Cy", "phone": "+14155550000", "active": "false"})
	c.emu.SeedContact(servicenowemu.Record{"name": "Di", "phone": "+442079460018"})
	tests := []struct{ q, want string }{
		{"", "Ana Bo Cy Di"},
		{"active=true", "Ana Bo Di"},
		// ^OR binds tighter than ^.
		{"active=true^phoneENDSWITH1212^ORmobile_phoneENDSWITH1212", "Ana Bo"},
		{"phoneSTARTSWITH+1^NQnameLIKEd", "Ana Cy Di"},
		{"nameINBo,Di", "Bo Di"},
		{"phoneISEMPTY", "Bo"},
		{"name!=Ana^active=true", "Bo Di"},
		// A condition on an unknown field is dropped silently.
		{"u_typoENDSWITH1212", "Ana Bo Cy Di"},
		{"active=false^u_typo=1", "Cy"},
	}
	for _, tt := range tests {
		if got := strings.Join(c.names(tt.q), " "); got != tt.want {
			t.Errorf("query %q: %q, want %q", tt.q, got, tt.want)
		}
	}
	strict := start(t, servicenowemu.Config{InvalidQueryReturnsNoRows: true})
	strict.emu.SeedContact(servicenowemu.Record{"name": "Ana"})
	if got := strict.names("u_typo=1"); len(got) != 0 {
		t.Fatalf("glide.invalid_query.returns_no_rows: %v", got)
	}
}

func TestTableAPIShapes(t *testing.T) {
	c := start(t, servicenowemu.Config{})
	acct := c.emu.Seed(servicenowemu.TableCustomerAccount, servicenowemu.Record{"name": "Acme"})
	c.emu.SeedContact(servicenowemu.Record{"name": "Ana", "account": acct})
	for range 3 {
		c.emu.SeedContact(servicenowemu.Record{"name": "Other"})
	}
	// v1 answers no rows with 404, v2 with an empty list.
	st, _, env := c.do(http.MethodGet, "/api/now/table/customer_contact", url.Values{"sysparm_query": {"name=Nobody"}}, "")
	if st != http.StatusNotFound || env.Status != "failure" || env.Error == nil || env.Error.Message != "No Record found" {
		t.Fatalf("v1 empty: %d %+v", st, env)
	}
	st, _, env = c.do(http.MethodGet, "/api/now/v2/table/customer_contact", url.Values{"sysparm_query": {"name=Nobody"}}, "")
	if st != http.StatusOK || string(env.Result) != "[]" {
		t.Fatalf("v2 empty: %d %s", st, env.Result)
	}
	// Reference fields carry a link unless excluded; limit, count, paging.
	st, h, env := c.do(http.MethodGet, "/api/now/v2/table/customer_contact", url.Values{"sysparm_limit": {"2"}, "sysparm_fields": {"name,account"}}, "")
	var rows []map[string]any
	_ = json.Unmarshal(env.Result, &rows)
	ref, _ := rows[0]["account"].(map[string]any)
	if st != http.StatusOK || len(rows) != 2 || ref["value"] != acct || !strings.Contains(ref["link"].(string), "/customer_account/"+acct) ||
		h.Get("X-Total-Count") != "4" || !strings.Contains(h.Get("Link"), "sysparm_offset=2") {
		t.Fatalf("list: %d %v %v", st, rows, h)
	}
	_, _, env = c.do(http.MethodGet, "/api/now/v2/table/customer_contact", url.Values{"sysparm_limit": {"1"}, "sysparm_exclude_reference_link": {"true"}}, "")
	rows = nil
	_ = json.Unmarshal(env.Result, &rows)
	if rows[0]["account"] != acct {
		t.Fatalf("excluded links: %v", rows)
	}
	// The current user through gs.getUserName().
	_, _, env = c.do(http.MethodGet, "/api/now/v2/table/sys_user", url.Values{"sysparm_query": {"user_name=javascript:gs.getUserName()"}}, "")
	rows = nil
	_ = json.Unmarshal(env.Result, &rows)
	if len(rows) != 1 || rows[0]["sys_id"] != c.emu.SysID("u0001") || rows[0]["user_name"] != "agent1@emu.test" {
		t.Fatalf("current user: %v", rows)
	}
	st, _, env = c.do(http.MethodGet, "/api/now/v2/table/nope", nil, "")
	if st != http.StatusBadRequest || env.Error == nil || env.Error.Message != "Invalid table nope" {
		t.Fatalf("unknown table: %d %+v", st, env)
	}
}

func TestInteractionUniqueKey(t *testing.T) {
	c := start(t, servicenowemu.Config{})
	body := `{"u_cti_call_id":"k1","type":"phone","u_not_a_field":"x","u_duration":312}`
	st, _, env := c.do(http.MethodPost, "/api/now/v2/table/interaction", nil, body)
	var row map[string]any
	_ = json.Unmarshal(env.Result, &row)
	if st != http.StatusCreated || row["u_cti_call_id"] != "k1" || !strings.HasPrefix(row["number"].(string), "IMS") ||
		row["u_duration"] != "312" || row["u_not_a_field"] != nil {
		t.Fatalf("insert: %d %v", st, row)
	}
	st, _, env = c.do(http.MethodPost, "/api/now/v2/table/interaction", nil, body)
	if st != http.StatusForbidden || env.Error == nil || env.Error.Message != "Operation Failed" ||
		!strings.HasPrefix(env.Error.Detail.(string), "Error during insert of interaction") {
		t.Fatalf("duplicate key: %d %+v", st, env)
	}
	if got := c.emu.Logs(); got["k1"] != 1 || c.emu.Writes()["k1"] != 1 {
		t.Fatalf("logs %v", got)
	}
	st, _, env = c.do(http.MethodPost, "/api/now/v2/table/interaction", nil, `{"u_cti_call_id":`)
	if st != http.StatusBadRequest || env.Error == nil {
		t.Fatalf("garbage body: %d %+v", st, env)
	}
	// An instance without the field keeps no key and nothing is unique.
	lax := start(t, servicenowemu.Config{NoCallKeyField: true})
	for range 2 {
		if st, _, _ := lax.do(http.MethodPost, "/api/now/v2/table/interaction", nil, body); st != http.StatusCreated {
			t.Fatalf("insert without the key field: %d", st)
		}
	}
	if n := len(lax.emu.Interactions()); n != 2 {
		t.Fatalf("interactions %d", n)
	}
}

func TestErrorsAndRateLimit(t *testing.T) {
	c := start(t, servicenowemu.Config{RateLimit: servicenowemu.RateLimit{Requests: 2}})
	c.token = "bogus"
	st, _, env := c.do(http.MethodGet, "/api/now/v2/table/sys_user", nil, "")
	if st != http.StatusUnauthorized || env.Error == nil || env.Error.Message != "User Not Authenticated" || env.Status != "failure" {
		t.Fatalf("bad token: %d %+v", st, env)
	}
	c.token, _ = c.emu.IssueTokens("u0001")
	for i := range 3 {
		st, h, env := c.do(http.MethodGet, "/api/now/v2/table/sys_user", nil, "")
		if h.Get("X-RateLimit-Limit") != "2" || h.Get("X-RateLimit-Reset") == "" || h.Get("X-RateLimit-Rule") == "" {
			t.Fatalf("request %d: rate-limit headers %v", i, h)
		}
		if i < 2 && st != http.StatusOK {
			t.Fatalf("request %d: %d", i, st)
		}
		if i == 2 && (st != http.StatusTooManyRequests || h.Get("Retry-After") == "" || env.Error.Message != "Rate limit exceeded") {
			t.Fatalf("over the rule: %d %v %+v", st, h, env)
		}
	}
}

func TestControlPlaneRecords(t *testing.T) {
	c := start(t, servicenowemu.Config{})
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Post(c.emu.URL()+"/__emu__/records/customer_contact", "application/json", strings.NewReader(`{"name":"Ana","phone":"+14155551212"}`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("seed: %d", resp.StatusCode)
	}
	resp, err = hc.Post(c.emu.URL()+"/__emu__/records/customer_contact", "application/json", strings.NewReader(`{"name":`))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("garbage seed: %d", resp.StatusCode)
	}
	resp, err = hc.Get(c.emu.URL() + "/__emu__/records/customer_contact")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out struct{ Result []map[string]string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Result) != 1 || out.Result[0]["name"] != "Ana" || out.Result[0]["active"] != "true" {
		t.Fatalf("records: %+v %v", out, err)
	}
}
