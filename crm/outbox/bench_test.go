package outbox_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm/outbox"
)

// BenchmarkDrain reports drain throughput (logs/s) against the emulator on
// loopback, with a real store: Collections batches of 200 versus one
// request per log. Each iteration delivers one log.
func BenchmarkDrain(b *testing.B) {
	for _, bc := range []struct {
		name  string
		batch int
	}{{"batched", 200}, {"one-by-one", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, 30*time.Second)
			e.signIn(b, "alice")
			db := openStore(b, b.TempDir())
			defer db.Close()
			logs := make([]domain.CallLog, b.N)
			for i := range logs {
				logs[i] = mkLog("alice", i)
			}
			enqueue(b, db, logs)
			w := outbox.New(db, e.conn, outbox.WithLogger(quiet), outbox.WithBatchSize(bc.batch), outbox.WithPoll(5*time.Millisecond))
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			b.ResetTimer()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = w.Run(ctx)
			}()
			for {
				agents, err := db.OutboxAgents()
				if err != nil {
					b.Fatal(err)
				}
				if len(agents) == 0 {
					break
				}
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			cancel()
			wg.Wait()
			if got := len(e.emu.Records("Task")); got != b.N {
				b.Fatalf("%d tasks for %d logs", got, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logs/s")
		})
	}
}
