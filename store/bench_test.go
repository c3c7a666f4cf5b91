package store

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/callcentre/softphone/agent/domain"
)

var quiet = WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))

// latencySink records when each key's result was posted.
type latencySink struct{ ch chan domain.Input }

func (s latencySink) Post(in domain.Input) error { s.ch <- in; return nil }

// BenchmarkCallLogCommit measures SaveCallLog -> CallLogSaved latency, one
// log at a time (each one its own fsync'd transaction), with two CRM
// targets.
func BenchmarkCallLogCommit(b *testing.B) {
	db, err := Open(b.TempDir(), quiet)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	sink := latencySink{ch: make(chan domain.Input, 1)}
	c := db.NewCallLogger("salesforce", "zendesk")
	c.Attach(sink)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		l := mkLog("a1", i, "in", t0)
		start := time.Now()
		if err := c.SaveCallLog(l); err != nil {
			b.Fatal(err)
		}
		if _, ok := (<-sink.ch).(domain.CallLogSaved); !ok {
			b.Fatal("not saved")
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// buildHistory writes n calls for agent directly in transactions of 5 000
// (the fixture, not the measured path).
func buildHistory(tb testing.TB, db *DB, agent string, n int, targets ...string) {
	tb.Helper()
	kinds := []string{"in", "out", "missed", "in", "out"}
	for start := 0; start < n; start += 5000 {
		err := db.update(func(tx *bolt.Tx) error {
			for i := start; i < min(start+5000, n); i++ {
				at := t0.Add(time.Duration(i) * time.Minute)
				if err := saveLog(tx, mkLog(agent, i, kinds[i%5], at), targets, at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkHistoryQuery100k queries each view of a 100 000-call history.
func BenchmarkHistoryQuery100k(b *testing.B) {
	// The fixture is built once here; the sub-benchmarks share it.
	db, err := Open(b.TempDir(), quiet)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	buildHistory(b, db, "a1", 100000)
	p, err := db.Profile("a1")
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []View{ViewAll, ViewMissed, ViewIncoming, ViewOutgoing} {
		b.Run(v.String(), func(b *testing.B) {
			want := map[View]int{ViewAll: DefaultAllLimit}[v]
			if want == 0 {
				want = DefaultViewLimit
			}
			b.ResetTimer()
			for range b.N {
				calls, err := p.History(v, 0)
				if err != nil || len(calls) != want {
					b.Fatalf("%d calls, %v", len(calls), err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/query")
		})
	}
}

// BenchmarkOutbox measures the enqueue rate (call logs with one CRM target
// through the call logger, queued as fast as it accepts them, so the writer
// groups commits) and the dequeue rate (Next, MarkInFlight, MarkDone per
// entry, each change its own durable transaction).
func BenchmarkOutbox(b *testing.B) {
	b.Run("enqueue", func(b *testing.B) {
		db, err := Open(b.TempDir(), quiet)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		sink := latencySink{ch: make(chan domain.Input, b.N)}
		c := db.NewCallLogger("crm")
		c.Attach(sink)
		b.ResetTimer()
		for i := range b.N {
			for c.SaveCallLog(mkLog("a1", i, "in", t0)) != nil {
				time.Sleep(50 * time.Microsecond)
			}
		}
		for range b.N {
			<-sink.ch
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "enqueue/s")
	})
	b.Run("dequeue", func(b *testing.B) {
		db, err := Open(b.TempDir(), quiet)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		buildHistory(b, db, "a1", b.N, "crm")
		p, _ := db.Profile("a1")
		now := t0.Add(time.Duration(b.N+1) * time.Minute)
		b.ResetTimer()
		for range b.N {
			e, ok, err := p.Next("crm", now)
			if err != nil || !ok {
				b.Fatalf("Next: %v %v", ok, err)
			}
			if err := p.MarkInFlight(e.ID); err != nil {
				b.Fatal(err)
			}
			if err := p.MarkDone(e.ID); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "dequeue/s")
	})
}

// BenchmarkDBSize reports the file size per 10 000 calls (history with
// indexes plus one outbox entry each; realistic notes and matches).
func BenchmarkDBSize(b *testing.B) {
	for range b.N {
		dir := b.TempDir()
		db, err := Open(dir, quiet)
		if err != nil {
			b.Fatal(err)
		}
		buildHistory(b, db, "a1", 10000, "crm")
		// The live data once compacted (what a fresh copy of the file needs).
		cpath := filepath.Join(b.TempDir(), "compact.db")
		cdb, err := bolt.Open(cpath, 0o600, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := bolt.Compact(cdb, db.bolt, 0); err != nil {
			b.Fatal(err)
		}
		cdb.Close()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(dir, FileName))
		if err != nil {
			b.Fatal(err)
		}
		ci, err := os.Stat(cpath)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(fi.Size()), "file-bytes/10k-calls")
		b.ReportMetric(float64(ci.Size()), "compacted-bytes/10k-calls")
	}
}

// TestBenchFixture keeps the benchmark helpers honest in normal test runs.
func TestBenchFixture(t *testing.T) {
	db, _ := openTest(t, quiet)
	buildHistory(t, db, "a1", 12, "crm")
	p, _ := db.Profile("a1")
	if n, _ := p.HistoryLen(); n != 12 {
		t.Fatalf("fixture has %d calls", n)
	}
	if c, _ := p.Counts(); c.Pending != 12 {
		t.Fatalf("fixture outbox %+v", c)
	}
	_ = fmt.Sprint()
}
