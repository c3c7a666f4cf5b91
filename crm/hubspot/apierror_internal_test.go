package hubspot

import (
	"net/http"
	"testing"

	"github.com/callcentre/softphone/crm"
)

// FuzzAPIError feeds any status and body to the error classification: it
// never panics and always yields a kind the outbox acts on.
func FuzzAPIError(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
	}{
		{429, `{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}`},
		{400, `{"status":"error","message":"Property values were not valid","category":"VALIDATION_ERROR","errors":[{"message":"x"}]}`},
		{409, `{"status":"error","message":"Existing ID: 123","category":"CONFLICT"}`},
		{403, `{"status":"error","category":"MISSING_SCOPES"}`},
		{502, `<html>bad gateway</html>`},
		{500, `{"category":5}`},
		{401, ``},
	} {
		f.Add(s.status, []byte(s.body), true)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte, write bool) {
		if status < 300 || status > 599 {
			return
		}
		h := http.Header{"Retry-After": {"3"}}
		e := apiError(status, h, body, write)
		if e == nil || e.Kind == crm.KindUnknown || e.CRM != Name {
			t.Fatalf("status %d body %q: %+v", status, body, e)
		}
		if status == http.StatusTooManyRequests && e.Kind != crm.KindRateLimited {
			t.Fatalf("429 classified %v", e.Kind)
		}
		if status >= 500 && e.Kind != crm.KindTransient && e.Kind != crm.KindAmbiguous {
			t.Fatalf("%d classified %v", status, e.Kind)
		}
		_ = e.Error()
	})
}

func TestClassifyConflictAndPolicies(t *testing.T) {
	e := classify(http.StatusConflict, nil, true, apiEnvelope{Category: "CONFLICT", Message: "A call with that value already exists. Existing ID: 98765"})
	if e.Kind != crm.KindAlreadyExists || e.ExistingID != "98765" {
		t.Fatalf("conflict: %+v", e)
	}
	for policy, want := range map[string]int{"SECONDLY": 1, "TEN_SECONDLY_ROLLING": 10, "DAILY": 3600} {
		e := classify(http.StatusTooManyRequests, http.Header{}, false, apiEnvelope{PolicyName: policy, ErrorType: "RATE_LIMIT"})
		if e.Kind != crm.KindRateLimited || int(e.RetryAfter.Seconds()) != want || e.Code != policy {
			t.Fatalf("%s: %+v", policy, e)
		}
	}
}
