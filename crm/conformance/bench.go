package conformance

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm/outbox"
)

// Bench reports the connector's drain throughput (logs/s, through the real
// store, worker and connector against its emulator on loopback) in two
// sub-benchmarks: "batched" (the connector's MaxBatch per request) and
// "one-by-one". Each iteration delivers one log; the logs are queued
// before the timer starts, and the drain is checked to be exactly once.
func Bench(b *testing.B, h Harness) {
	for _, bc := range []struct {
		name  string
		batch int
	}{{"batched", 0}, {"one-by-one", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			s := &suite{h: h, c: defaults()}
			s.c.drain = 10 * time.Minute
			conn, _ := s.start(b, 30*time.Second)
			db := openStore(b, b.TempDir())
			keys := s.enqueue(b, db, logs(0, b.N))
			w := outbox.New(db, conn, outbox.WithLogger(quiet), outbox.WithBatchSize(bc.batch), outbox.WithPoll(5*time.Millisecond))
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			b.ResetTimer()
			wg.Go(func() { _ = w.Run(ctx) })
			s.waitDrainedEvery(b, db, w, time.Millisecond)
			b.StopTimer()
			cancel()
			wg.Wait()
			s.assertExactlyOnce(b, keys)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logs/s")
		})
	}
}
