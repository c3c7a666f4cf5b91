package dynamics_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/dynamicsemu"
)

// BenchmarkLogCall measures one call log end to end over loopback HTTP:
// the create (PATCH If-None-Match) and the close.
func BenchmarkLogCall(b *testing.B) {
	f := newFixture(b, dynamicsemu.Config{}, nil)
	s := f.signIn(b, "alice")
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		key := fmt.Sprintf("bench-%d", i)
		res, err := s.LogCalls(ctx(b), []crm.LogItem{{Key: key, AgentID: "alice", Log: callLog("alice", key)}})
		if err != nil || res[0].Err != nil {
			b.Fatal(err, res)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "logs/s")
}

// BenchmarkLookupPhone measures a caller lookup (contacts, accounts and
// leads, precise and broad queries, concurrently) against 2,000 contacts.
func BenchmarkLookupPhone(b *testing.B) {
	f := newFixture(b, dynamicsemu.Config{}, nil)
	for i := range 2000 {
		f.emu.AddContact(dynamicsemu.Contact{FullName: fmt.Sprintf("Contact %d", i), Telephone1: fmt.Sprintf("+1 (212) 555-%04d", i)})
	}
	f.emu.AddContact(dynamicsemu.Contact{FullName: "Ana Diaz", Telephone1: "+14155551212"})
	s := f.signIn(b, "alice")
	p := phone(b, "+14155551212")
	b.ResetTimer()
	for b.Loop() {
		recs, err := s.LookupPhone(ctx(b), p)
		if err != nil || len(recs) != 1 {
			b.Fatal(err, recs)
		}
	}
}
