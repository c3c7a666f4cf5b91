package zendesk

import (
	"net/http"
	"testing"

	"github.com/callcentre/softphone/crm"
)

// FuzzAPIError feeds arbitrary error answers to the classifier: never a
// panic, always a known kind, the status kept, and the taxonomy's fixed
// points hold whatever the body says.
func FuzzAPIError(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
	}{
		{401, `{"error":"invalid_token","error_description":"The access token provided is expired"}`},
		{422, `{"error":"RecordInvalid","description":"Record validation errors","details":{"requester":[{"description":"Requester: is invalid"}]}}`},
		{422, `{"error":"RecordInvalid","details":{"base":[{"description":"x","error":"InvalidValue"}]}}`},
		{404, `{"error":"RecordNotFound","description":"Not found"}`},
		{400, `{"error":{"title":"Invalid attribute","message":"You passed an invalid value"}}`},
		{429, `Rate limit exceeded`},
		{503, `<html>maintenance</html>`},
		{409, `{"error":"Conflict"}`},
		{422, `{"details":{"requester":"not a list"}}`},
		{500, ``},
	} {
		f.Add(s.status, []byte(s.body), false)
		f.Add(s.status, []byte(s.body), true)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte, write bool) {
		if status < 300 || status > 599 {
			return
		}
		h := http.Header{}
		h.Set("Retry-After", "3")
		e := apiError(status, h, body, write)
		if e == nil || e.Status != status || e.CRM != Name || e.Kind == crm.KindUnknown || e.Message == "" {
			t.Fatalf("%d %q: %+v", status, body, e)
		}
		switch {
		case status == http.StatusUnauthorized && e.Kind != crm.KindAuthExpired,
			status == http.StatusTooManyRequests && (e.Kind != crm.KindRateLimited || e.RetryAfter == 0),
			status == http.StatusConflict && e.Kind != crm.KindTransient,
			status >= 500 && write && e.Kind != crm.KindAmbiguous,
			status >= 500 && !write && e.Kind != crm.KindTransient:
			t.Fatalf("%d write=%v classified %v", status, write, e.Kind)
		}
	})
}
