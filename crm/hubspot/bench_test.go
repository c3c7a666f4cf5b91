package hubspot_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/hubspotemu"
)

// BenchmarkLogCalls measures logs written per second over loopback HTTP
// to the emulator, batched (100 a request) and one by one.
func BenchmarkLogCalls(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			t := b
			f := newFixture(t, hubspotemu.Config{}, nil)
			s, err := f.conn.SignIn(ctx(t), agent, crm.SignInOptions{})
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			start := time.Now()
			b.ResetTimer()
			for b.Loop() {
				items := make([]crm.LogItem, batch)
				for i := range items {
					items[i] = item(callLog(fmt.Sprintf("bench-%d", n)))
					n++
				}
				res, err := s.LogCalls(ctx(t), items)
				if err != nil || res[0].Err != nil {
					b.Fatal(err, res[0].Err)
				}
			}
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "logs/s")
		})
	}
}

// BenchmarkLookupPhone measures a caller lookup (two searches, client-side
// verification) against the emulator holding 2,000 contacts.
func BenchmarkLookupPhone(b *testing.B) {
	t := b
	f := newFixture(t, hubspotemu.Config{}, nil)
	for i := range 2000 {
		f.emu.AddContact(map[string]string{"firstname": fmt.Sprint("C", i), "phone": fmt.Sprintf("+1415555%04d", i)})
	}
	s, err := f.conn.SignIn(ctx(t), agent, crm.SignInOptions{})
	if err != nil {
		b.Fatal(err)
	}
	p := phone(t, "+14155551234")
	start, n := time.Now(), 0
	b.ResetTimer()
	for b.Loop() {
		recs, err := s.LookupPhone(ctx(t), p)
		if err != nil || len(recs) != 1 {
			b.Fatal(err, recs)
		}
		n++
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/float64(n)/1000, "ms/lookup")
}
