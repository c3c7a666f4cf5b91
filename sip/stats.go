package sip

import (
	"sync"
	"time"
)

// durations records call setup times (INVITE sent to 200 OK processed)
// for the benchmarks and diagnostics.
type durations struct {
	mu sync.Mutex
	d  []time.Duration
}

func (d *durations) record(x time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.d) >= 1024 {
		d.d = d.d[1:]
	}
	d.d = append(d.d, x)
}

// LastSetupTime is the setup time of the latest answered outbound call
// (INVITE sent to 200 OK processed), 0 before any.
func (e *Engine) LastSetupTime() time.Duration {
	e.setupTime.mu.Lock()
	defer e.setupTime.mu.Unlock()
	if len(e.setupTime.d) == 0 {
		return 0
	}
	return e.setupTime.d[len(e.setupTime.d)-1]
}
