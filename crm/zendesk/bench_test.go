package zendesk_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/zendeskemu"
)

// BenchmarkLogCall measures one call log delivered as a ticket (POST with
// an Idempotency-Key) against the emulator on loopback.
func BenchmarkLogCall(b *testing.B) {
	f := newFixture(b, zendeskemu.Config{}, nil)
	s := f.signIn(b, "alice")
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		key := fmt.Sprintf("bench-%d", i)
		res, err := s.LogCalls(b.Context(), []crm.LogItem{item("alice", key, false, callLog("alice", key))})
		if err != nil || res[0].Err != nil {
			b.Fatal(err, res)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logs/s")
}

// BenchmarkLookupPhone measures a caller lookup (two user searches and
// client-side verification) against 1,000 users.
func BenchmarkLookupPhone(b *testing.B) {
	f := newFixture(b, zendeskemu.Config{}, nil)
	for i := range 1000 {
		f.emu.AddContact(fmt.Sprintf("User %d", i), fmt.Sprintf("+1415555%04d", i), "")
	}
	s := f.signIn(b, "alice")
	p, err := crm.NewNormalizer("US").Parse("+14155550042")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		recs, err := s.LookupPhone(b.Context(), p)
		if err != nil || len(recs) != 1 {
			b.Fatal(err, recs)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(b.N)/1000, "ms/lookup")
}
