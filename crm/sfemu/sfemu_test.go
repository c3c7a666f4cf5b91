package sfemu_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm/sfemu"
)

const redirect = "http://localhost:1717/OauthRedirect"

var noRedirect = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

func start(t *testing.T) *sfemu.Server {
	t.Helper()
	s := sfemu.New(sfemu.Config{CallbackURLs: []string{redirect}})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func do(t *testing.T, method, u, ctype, body, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusFound {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

func challenge(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// login runs the PKCE flow by hand and returns the token response.
func login(t *testing.T, s *sfemu.Server) map[string]string {
	t.Helper()
	verifier := "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFy"
	q := url.Values{"response_type": {"code"}, "client_id": {sfemu.DefaultClientID}, "redirect_uri": {redirect},
		"state": {"st1"}, "code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"}, "prompt": {"login"}}
	st, loc := do(t, "GET", s.URL()+"/services/oauth2/authorize?"+q.Encode(), "", "", "")
	u, _ := url.Parse(loc)
	if st != 302 || !strings.HasPrefix(loc, redirect+"?") || u.Query().Get("state") != "st1" || u.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %s", st, loc)
	}
	code := u.Query().Get("code")
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {sfemu.DefaultClientID}, "redirect_uri": {redirect}}
	form.Set("code_verifier", verifier+"x")
	if st, body := do(t, "POST", s.URL()+"/services/oauth2/token", "application/x-www-form-urlencoded", form.Encode(), ""); st != 400 || !strings.Contains(body, `"error":"invalid_request"`) {
		t.Fatalf("wrong verifier: %d %s", st, body) // the code is consumed by this attempt
	}
	if st, loc = do(t, "GET", s.URL()+"/services/oauth2/authorize?"+q.Encode(), "", "", ""); st != 302 {
		t.Fatalf("second authorize: %d", st)
	}
	u, _ = url.Parse(loc)
	form.Set("code", u.Query().Get("code"))
	form.Set("code_verifier", verifier)
	st, body := do(t, "POST", s.URL()+"/services/oauth2/token", "application/x-www-form-urlencoded", form.Encode(), "")
	var tok map[string]string
	if st != 200 || json.Unmarshal([]byte(body), &tok) != nil {
		t.Fatalf("token: %d %s", st, body)
	}
	for _, k := range []string{"access_token", "refresh_token", "signature", "scope", "instance_url", "id", "token_type", "issued_at"} {
		if tok[k] == "" {
			t.Fatalf("token response without %s: %s", k, body)
		}
	}
	if _, ok := tok["expires_in"]; ok {
		t.Fatal("salesforce sends no expires_in")
	}
	if st, body := do(t, "POST", s.URL()+"/services/oauth2/token", "application/x-www-form-urlencoded", form.Encode(), ""); st != 400 || !strings.Contains(body, "invalid authorization code") {
		t.Fatalf("reused code: %d %s", st, body)
	}
	return tok
}

func TestOAuth(t *testing.T) {
	s := start(t)
	tok := login(t, s)
	if s.LastPrompt() != "login" {
		t.Fatal("prompt not recorded")
	}
	// PKCE is required; an unregistered callback gets an error page.
	q := url.Values{"response_type": {"code"}, "client_id": {sfemu.DefaultClientID}, "redirect_uri": {redirect}}
	if st, loc := do(t, "GET", s.URL()+"/services/oauth2/authorize?"+q.Encode(), "", "", ""); st != 302 || !strings.Contains(loc, "error=invalid_request") {
		t.Fatalf("missing challenge: %d %s", st, loc)
	}
	q.Set("redirect_uri", "http://localhost:9999/evil")
	if st, _ := do(t, "GET", s.URL()+"/services/oauth2/authorize?"+q.Encode(), "", "", ""); st != 400 {
		t.Fatalf("unregistered callback: %d", st)
	}
	rf := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"]}, "client_id": {sfemu.DefaultClientID}}.Encode()
	if st, body := do(t, "POST", s.URL()+"/services/oauth2/token", "application/x-www-form-urlencoded", rf, ""); st != 200 || strings.Contains(body, `"refresh_token":`) {
		t.Fatalf("refresh: %d %s", st, body)
	}
	if st, _ := do(t, "POST", s.URL()+"/services/oauth2/revoke", "application/x-www-form-urlencoded", "token="+url.QueryEscape(tok["refresh_token"]), ""); st != 200 {
		t.Fatalf("revoke: %d", st)
	}
	if st, body := do(t, "POST", s.URL()+"/services/oauth2/token", "application/x-www-form-urlencoded", rf, ""); st != 400 ||
		body != `{"error":"invalid_grant","error_description":"expired access/refresh token"}` {
		t.Fatalf("refresh after revoke: %d %s", st, body)
	}
	if st, body := do(t, "GET", s.URL()+"/services/data/v62.0/limits", "", "", tok["access_token"]); st != 401 ||
		body != `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]` {
		t.Fatalf("access token of a revoked refresh token: %d %s", st, body)
	}
}

func TestDataShapes(t *testing.T) {
	s := start(t)
	at := login(t, s)["access_token"]
	base := s.URL() + "/services/data/v62.0"
	task := `{"Subject":"Inbound call","TaskSubtype":"Call","CallType":"Inbound","CallDurationInSeconds":312,"Status":"Completed"}`
	st, body := do(t, "PATCH", base+"/sobjects/Task/CTI_Call_Id__c/6b1f", "application/json", task, at)
	if st != 201 || !strings.Contains(body, `"success":true,"errors":[],"created":true`) {
		t.Fatalf("upsert create: %d %s", st, body)
	}
	if st, body = do(t, "PATCH", base+"/sobjects/Task/CTI_Call_Id__c/6b1f", "application/json", task, at); st != 200 || !strings.Contains(body, `"created":false`) {
		t.Fatalf("upsert update: %d %s", st, body)
	}
	if st, body = do(t, "GET", base+"/sobjects/Task/CTI_Call_Id__c/6b1f?fields=Id", "", "", at); st != 200 || !strings.Contains(body, `"attributes":{"type":"Task"`) {
		t.Fatalf("get by external id: %d %s", st, body)
	}
	if st, body = do(t, "POST", base+"/sobjects/Task", "application/json", `{"CTI_Call_Id__c":"6b1f"}`, at); st != 400 ||
		!strings.Contains(body, `duplicates value on record with id: 00T`) || !strings.Contains(body, `"errorCode":"DUPLICATE_VALUE"`) {
		t.Fatalf("duplicate create: %d %s", st, body)
	}
	if st, body = do(t, "PATCH", base+"/sobjects/Task/Subject/x", "application/json", task, at); st != 404 || !strings.Contains(body, "NOT_FOUND") {
		t.Fatalf("not an external id: %d %s", st, body)
	}
	coll := `{"allOrNone":false,"records":[{"attributes":{"type":"Task"},"CTI_Call_Id__c":"a1","Subject":"x"},{"attributes":{"type":"Task"},"CTI_Call_Id__c":"a2","CallType":"Sideways"}]}`
	st, body = do(t, "PATCH", base+"/composite/sobjects/Task/CTI_Call_Id__c", "application/json", coll, at)
	if st != 200 || !strings.Contains(body, `{"success":false,"errors":[{"statusCode":"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST","message":"Call Type: bad value for restricted picklist field: Sideways","fields":["CallType"]}]}`) {
		t.Fatalf("collections: %d %s", st, body)
	}
	big := `{"records":[` + strings.Repeat(`{"attributes":{"type":"Task"}},`, 200) + `{"attributes":{"type":"Task"}}]}`
	if st, body = do(t, "PATCH", base+"/composite/sobjects/Task/CTI_Call_Id__c", "application/json", big, at); st != 400 || !strings.Contains(body, "EXCEEDED_ID_LIMIT") {
		t.Fatalf("201 records: %d %s", st, body)
	}
	if st, body = do(t, "PATCH", base+"/sobjects/Task/CTI_Call_Id__c/zz", "application/json", `{"Subject":`, at); st != 400 || !strings.Contains(body, "JSON_PARSER_ERROR") {
		t.Fatalf("bad json: %d %s", st, body)
	}
	if st, body = do(t, "GET", base+"/search/?q="+url.QueryEscape("FIND {+1415} RETURNING Contact"), "", "", at); st != 400 || !strings.Contains(body, "MALFORMED_SEARCH") {
		t.Fatalf("unescaped reserved character: %d %s", st, body)
	}
	if st, body = do(t, "GET", base+"/query?q="+url.QueryEscape("SELECT Id, CTI_Call_Id__c FROM Task WHERE CTI_Call_Id__c IN ('6b1f','a1','nope')"), "", "", at); st != 200 || !strings.Contains(body, `"totalSize":2`) {
		t.Fatalf("soql: %d %s", st, body)
	}
	if st, _ = do(t, "GET", s.URL()+"/services/data/v20.0/limits", "", "", at); st != 404 {
		t.Fatalf("unknown version: %d", st)
	}
	// Control plane over HTTP: arm a fault, read the records.
	if st, _ = do(t, "POST", s.URL()+"/__emu__/faults", "application/json", `{"match":{"method":"GET","path":"/limits"},"status":403,"errorCode":"REQUEST_LIMIT_EXCEEDED"}`, ""); st != 204 {
		t.Fatalf("arm fault: %d", st)
	}
	if st, body = do(t, "GET", base+"/limits", "", "", at); st != 403 || body != `[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]` {
		t.Fatalf("fault: %d %s", st, body)
	}
	if st, body = do(t, "GET", base+"/limits", "", "", at); st != 200 || !strings.Contains(body, "DailyApiRequests") {
		t.Fatalf("fault fired twice: %d %s", st, body)
	}
	if st, body = do(t, "GET", s.URL()+"/__emu__/records/Task", "", "", ""); st != 200 || strings.Count(body, `"CTI_Call_Id__c"`) != 2 {
		t.Fatalf("records: %d %s", st, body)
	}
	if w := s.TaskWrites(); len(w) != 2 {
		t.Fatalf("writes %v", w)
	}
}
