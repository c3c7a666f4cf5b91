package hubspotemu_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm/emukit"
	"github.com/callcentre/softphone/crm/hubspotemu"
)

func start(t *testing.T, cfg hubspotemu.Config) (*hubspotemu.Server, string) {
	t.Helper()
	s := hubspotemu.New(cfg)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, s.PrivateAppToken()
}

func call(t *testing.T, s *hubspotemu.Server, token, method, path, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, resp.Header
}

func upsertBody(inputs ...string) string {
	return `{"inputs":[` + strings.Join(inputs, ",") + `]}`
}

func input(key string, props string) string {
	return fmt.Sprintf(`{"idProperty":"cti_call_id","id":%q,"properties":{"hs_timestamp":"2026-05-07T10:00:00Z"%s}}`, key, props)
}

func TestUpsertEnforcesUniqueKey(t *testing.T) {
	s, tok := start(t, hubspotemu.Config{})
	for i, wantNew := range []bool{true, false} {
		st, m, _ := call(t, s, tok, http.MethodPost, "/crm/v3/objects/calls/batch/upsert", upsertBody(input("k1", `,"hs_call_duration":"1000"`)))
		res := m["results"].([]any)[0].(map[string]any)
		if st != http.StatusOK || res["new"] != wantNew {
			t.Fatalf("upsert %d: %d %v", i, st, m)
		}
	}
	if s.CallCount() != 1 || s.Writes()["k1"] != 2 {
		t.Fatalf("calls %d writes %v", s.CallCount(), s.Writes())
	}
	// 207: one bad input, one good.
	st, m, _ := call(t, s, tok, http.MethodPost, "/crm/v3/objects/calls/batch/upsert",
		upsertBody(input("k2", ""), input("k3", `,"hs_call_recording_url":"http://x/rec.mp3"`), input("k4", `,"nope":"1"`)))
	errs, _ := m["errors"].([]any)
	if st != http.StatusMultiStatus || len(errs) != 2 || s.CallCount() != 2 {
		t.Fatalf("multi-status: %d %v", st, m)
	}
	e := errs[0].(map[string]any)
	if e["category"] != "VALIDATION_ERROR" || !strings.Contains(fmt.Sprint(e["context"]), "k3") {
		t.Fatalf("error %v", e)
	}
	// Batch read by the unique property.
	st, m, _ = call(t, s, tok, http.MethodPost, "/crm/v3/objects/calls/batch/read",
		`{"idProperty":"cti_call_id","properties":["cti_call_id"],"inputs":[{"id":"k1"},{"id":"missing"}]}`)
	if st != http.StatusMultiStatus || len(m["results"].([]any)) != 1 || !strings.Contains(fmt.Sprint(m["errors"]), "missing") {
		t.Fatalf("batch read: %d %v", st, m)
	}
	// Limits and a property without unique values.
	var many []string
	for i := range hubspotemu.MaxBatch + 1 {
		many = append(many, input(fmt.Sprint(i), ""))
	}
	if st, _, _ := call(t, s, tok, http.MethodPost, "/crm/v3/objects/calls/batch/upsert", upsertBody(many...)); st != http.StatusBadRequest {
		t.Fatalf("101 inputs: %d", st)
	}
	if st, _, _ := call(t, s, tok, http.MethodPost, "/crm/v3/objects/calls/batch/upsert", "{garbage"); st != http.StatusBadRequest {
		t.Fatalf("garbage: %d", st)
	}
	n, ntok := start(t, hubspotemu.Config{CallKeyNotUnique: true})
	if st, m, _ := call(t, n, ntok, http.MethodPost, "/crm/v3/objects/calls/batch/upsert", upsertBody(input("k1", ""))); st != http.StatusBadRequest || m["category"] != "VALIDATION_ERROR" {
		t.Fatalf("not unique: %d %v", st, m)
	}
}

func TestSearchSemantics(t *testing.T) {
	s, tok := start(t, hubspotemu.Config{})
	a := s.AddContact(map[string]string{"firstname": "Ann", "phone": "+1 415-555-1212"})
	s.AddContact(map[string]string{"firstname": "Bob", "mobilephone": "(415) 555-9999"})
	q := `{"filterGroups":[{"filters":[{"propertyName":"hs_searchable_calculated_phone_number","operator":"EQ","value":"4155551212"}]}],"properties":["firstname"]}`
	st, m, _ := call(t, s, tok, http.MethodPost, "/crm/v3/objects/contacts/search", q)
	res, _ := m["results"].([]any)
	if st != http.StatusOK || len(res) != 1 || res[0].(map[string]any)["id"] != a {
		t.Fatalf("calculated phone: %d %v", st, m)
	}
	// Groups are OR'ed, filters inside a group AND'ed.
	q = `{"filterGroups":[{"filters":[{"propertyName":"firstname","operator":"EQ","value":"ann"},{"propertyName":"phone","operator":"HAS_PROPERTY"}]},
	 {"filters":[{"propertyName":"hs_searchable_calculated_mobile_number","operator":"EQ","value":"4155559999"}]}]}`
	if _, m, _ := call(t, s, tok, http.MethodPost, "/crm/v3/objects/contacts/search", q); m["total"] != float64(2) {
		t.Fatalf("or of ands: %v", m)
	}
	six := `{"filterGroups":[` + strings.TrimSuffix(strings.Repeat(`{"filters":[{"propertyName":"phone","operator":"EQ","value":"1"}]},`, 6), ",") + `]}`
	if st, m, _ := call(t, s, tok, http.MethodPost, "/crm/v3/objects/contacts/search", six); st != http.StatusBadRequest || m["category"] != "VALIDATION_ERROR" {
		t.Fatalf("six groups: %d %v", st, m)
	}
	if st, _, _ := call(t, s, tok, http.MethodPost, "/crm/v3/objects/contacts/search", `{"filterGroups":[{"filters":[{"propertyName":"phone","operator":"SOUNDS_LIKE","value":"1"}]}]}`); st != http.StatusBadRequest {
		t.Fatalf("unknown operator: %d", st)
	}
	if _, m, _ := call(t, s, tok, http.MethodPost, "/crm/v3/objects/contacts/search", `{"query":"an"}`); m["total"] != float64(1) {
		t.Fatalf("query: %v", m)
	}
	if _, m, _ := call(t, s, tok, http.MethodPost, "/crm/v3/objects/contacts/search", `{"limit":1}`); m["paging"] == nil {
		t.Fatalf("paging: %v", m)
	}
}

func TestAuthAndErrorEnvelopes(t *testing.T) {
	s, tok := start(t, hubspotemu.Config{})
	st, m, _ := call(t, s, "", http.MethodGet, "/account-info/v3/details", "")
	if st != http.StatusUnauthorized || m["category"] != "INVALID_AUTHENTICATION" || m["status"] != "error" || m["correlationId"] == "" {
		t.Fatalf("401: %d %v", st, m)
	}
	st, m, _ = call(t, s, tok, http.MethodGet, "/account-info/v3/details", "")
	if st != http.StatusOK || m["portalId"] != float64(hubspotemu.DefaultPortalID) || m["uiDomain"] != hubspotemu.DefaultUIDomain {
		t.Fatalf("account-info: %v", m)
	}
	s.AddFault(emukit.Fault{Match: emukit.Match{Path: "/crm/v3/owners/*"}, Status: http.StatusTooManyRequests, Code: "DAILY",
		Header: map[string]string{"Retry-After": "30"}})
	st, m, h := call(t, s, tok, http.MethodGet, "/crm/v3/owners/?email=agent1@emu.test", "")
	if st != http.StatusTooManyRequests || m["errorType"] != "RATE_LIMIT" || m["policyName"] != "DAILY" || h.Get("Retry-After") != "30" {
		t.Fatalf("429: %d %v %v", st, m, h)
	}
	st, m, _ = call(t, s, tok, http.MethodGet, "/crm/v3/owners/?email=AGENT1@emu.test", "")
	res, _ := m["results"].([]any)
	if st != http.StatusOK || len(res) != 1 || res[0].(map[string]any)["id"] != "70001" {
		t.Fatalf("owners: %d %v", st, m)
	}
	// Introspection needs the client secret; a refresh token deleted by
	// the v1 endpoint stops working.
	_, rt := s.IssueTokens("u0001")
	form := url.Values{"client_id": {hubspotemu.DefaultClientID}, "client_secret": {"wrong"}, "token": {rt}}.Encode()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/oauth/2026-03/token/introspect", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("introspect with a wrong secret: %d", resp.StatusCode)
	}
	if st, _, _ := call(t, s, "", http.MethodDelete, "/oauth/v1/refresh-tokens/"+rt, ""); st != http.StatusNoContent {
		t.Fatalf("delete refresh token: %d", st)
	}
	if st, _, _ := call(t, s, "", http.MethodDelete, "/oauth/v1/refresh-tokens/"+rt, ""); st != http.StatusNotFound {
		t.Fatalf("delete again: %d", st)
	}
	if s.LiveRefreshTokens() != 0 {
		t.Fatal("refresh token still live")
	}
	// The control plane seeds records for demo mode.
	if st, m, _ := call(t, s, "", http.MethodPost, "/__emu__/contacts", `{"firstname":"Zed","phone":"+14155550000"}`); st != http.StatusCreated || m["id"] == "" {
		t.Fatalf("seed: %d %v", st, m)
	}
}

func TestAssociations(t *testing.T) {
	s, tok := start(t, hubspotemu.Config{})
	c := s.AddContact(map[string]string{"firstname": "Ann"})
	_, m, _ := call(t, s, tok, http.MethodPost, "/crm/v3/objects/calls/batch/upsert", upsertBody(input("k1", "")))
	callID := m["results"].([]any)[0].(map[string]any)["id"].(string)
	body := func(to string, typ int) string {
		return fmt.Sprintf(`{"inputs":[{"from":{"id":%q},"to":{"id":%q},"types":[{"associationCategory":"HUBSPOT_DEFINED","associationTypeId":%d}]}]}`, callID, to, typ)
	}
	for range 2 { // creating it again is harmless
		if st, m, _ := call(t, s, tok, http.MethodPost, "/crm/v4/associations/calls/contacts/batch/create", body(c, 194)); st != http.StatusCreated {
			t.Fatalf("associate: %d %v", st, m)
		}
	}
	if _, as, _ := s.CallByKey("k1"); len(as) != 1 {
		t.Fatalf("associations %v", as)
	}
	if st, _, _ := call(t, s, tok, http.MethodPost, "/crm/v4/associations/calls/contacts/batch/create", body(c, 182)); st != http.StatusBadRequest {
		t.Fatalf("wrong type id: %d", st)
	}
	if st, m, _ := call(t, s, tok, http.MethodPost, "/crm/v4/associations/calls/companies/batch/create", body("999", 182)); st != http.StatusMultiStatus || !strings.Contains(fmt.Sprint(m["errors"]), "toIds") {
		t.Fatalf("missing company: %d %v", st, m)
	}
}
