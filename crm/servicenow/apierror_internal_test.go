package servicenow

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm"
)

func TestAPIErrorEnvelope(t *testing.T) {
	reset := strconv.FormatInt(time.Now().Add(10*time.Minute).Unix(), 10)
	tests := []struct {
		name    string
		status  int
		header  http.Header
		body    string
		write   bool
		kind    crm.Kind
		message string
		retry   bool
	}{
		{"detail null", 403, nil, `{"error":{"message":"User Not Authorized","detail":null},"status":"failure"}`, true,
			crm.KindPermanent, "User Not Authorized: Forbidden", false},
		{"429 reset header only", 429, http.Header{"X-Ratelimit-Reset": {reset}},
			`{"error":{"message":"Rate limit exceeded","detail":"Rate limit of 10 requests per hour for Table API exceeded"},"status":"failure"}`,
			false, crm.KindRateLimited, "Rate limit exceeded: Rate limit of 10 requests per hour for Table API exceeded", true},
		{"401", 401, nil, `{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`,
			false, crm.KindAuthExpired, "User Not Authenticated: Required to provide Auth information", false},
		{"html 502 read", 502, nil, `<html>bad gateway</html>`, false, crm.KindTransient, "Bad Gateway", false},
		{"garbage 400", 400, nil, `{"error":`, true, crm.KindPermanent, "Bad Request", false},
		{"error not an object", 400, nil, `{"error":"x"}`, true, crm.KindPermanent, "Bad Request", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = http.Header{}
			}
			e := apiError(tt.status, h, []byte(tt.body), tt.write)
			if e.Kind != tt.kind || crm.MessageOf(e) != tt.message {
				t.Fatalf("got %v %q, want %v %q", e.Kind, crm.MessageOf(e), tt.kind, tt.message)
			}
			if tt.retry != (e.RetryAfter > 9*time.Minute) {
				t.Fatalf("retry after %v", e.RetryAfter)
			}
		})
	}
}

// FuzzAPIError: whatever an instance or a proxy answers, classification
// never panics and always names a kind.
func FuzzAPIError(f *testing.F) {
	f.Add(403, []byte(`{"error":{"message":"Operation Failed","detail":"Error during insert of interaction (IMS0001001)"},"status":"failure"}`))
	f.Add(429, []byte(`{"error":{"message":"Rate limit exceeded","detail":null},"status":"failure"}`))
	f.Add(500, []byte(`<html>`))
	f.Add(400, []byte(`{"error":[1,2]}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 300 || status > 599 {
			return
		}
		e := apiError(status, http.Header{"Retry-After": {string(body[:min(len(body), 8)])}}, body, status%2 == 0)
		if e.Kind == crm.KindUnknown || e.CRM != Name || e.Status != status {
			t.Fatalf("classified %+v", e)
		}
	})
}
