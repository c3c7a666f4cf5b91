package servicenow_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/servicenowemu"
)

// BenchmarkLogCall measures one call log written as an interaction over
// HTTP to the emulator on loopback (one request per log: MaxBatch 1), and
// the replay path that reads first (MayExist).
func BenchmarkLogCall(b *testing.B) {
	for _, mayExist := range []bool{false, true} {
		b.Run(fmt.Sprintf("mayExist=%v", mayExist), func(b *testing.B) {
			f := newFixture(b, servicenowemu.Config{}, nil)
			s := f.signIn(b, "alice")
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				it := item("alice", fmt.Sprint("bench-", i))
				it.MayExist = mayExist
				res, err := s.LogCalls(b.Context(), []crm.LogItem{it})
				if err != nil || res[0].Err != nil {
					b.Fatal(err, res)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logs/s")
		})
	}
}

// BenchmarkLookupPhone measures a caller lookup (one Table API query and
// the client-side verification) against 1,000 contacts.
func BenchmarkLookupPhone(b *testing.B) {
	f := newFixture(b, servicenowemu.Config{}, nil)
	for i := range 1000 {
		f.emu.SeedContact(servicenowemu.Record{"name": fmt.Sprint("Contact ", i), "phone": fmt.Sprintf("+1212555%04d", i)})
	}
	f.emu.SeedContact(servicenowemu.Record{"name": "Ana", "phone": "+14155551212"})
	s := f.signIn(b, "alice")
	p, _ := crm.NewNormalizer("US").Parse("+14155551212")
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		recs, err := s.LookupPhone(b.Context(), p)
		if err != nil || len(recs) != 1 {
			b.Fatal(err, recs)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/lookup")
}
