package webhook_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/webhook"
)

// Records the receiver answers to a search or a lookup carry its
// "phones", as sent (trimmed, without blanks or repeats); a record without
// the field has none.
func TestSearchAndLookupCarryPhones(t *testing.T) {
	rcv := &bodies{got: map[string]map[string]any{}, lookup: `{"records":[` +
		`{"id":"c-1","type":"contact","name":"Ana Diaz","url":"https://crm.example/c/1","phones":[" +14155551212 ","","+447700900123","+14155551212"]},` +
		`{"id":"c-2","type":"contact","name":"Ana Nophone"},` +
		`{"id":"c-3","type":"contact","name":"Ana Null","phones":null}]}`}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	conn, err := webhook.New(webhook.Config{LogURL: srv.URL + "/calls", Secret: secret, Logger: quiet,
		LookupURL: srv.URL + "/lookup?phone={e164}", SearchURL: srv.URL + "/search?q={q}"})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := conn.Resume(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := map[string][]string{"c-1": {"+14155551212", "+447700900123"}, "c-2": nil, "c-3": nil}
	check := func(what string, recs []domain.CRMRecord, err error) {
		t.Helper()
		if err != nil || len(recs) != len(want) {
			t.Fatalf("%s: %+v %v", what, recs, err)
		}
		for _, r := range recs {
			if w, ok := want[r.ID]; !ok || !slices.Equal(r.Phones, w) {
				t.Errorf("%s: %s phones %q, want %q", what, r.ID, r.Phones, w)
			}
		}
	}
	recs, err := sess.Search(ctx, "ana", 10)
	check("search", recs, err)
	ph, _ := crm.NewNormalizer("US").Parse("(415) 555-1212")
	recs, err = sess.LookupPhone(ctx, ph)
	check("lookup", recs, err)
}
