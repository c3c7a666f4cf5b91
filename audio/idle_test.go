package audio

import (
	"errors"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

type noDevices struct{}

func (noDevices) Scan() ([]Device, error)           { return nil, nil }
func (noDevices) Open(StreamConfig) (Stream, error) { return nil, ErrNoDevice }
func (noDevices) Close() error                      { return nil }

type noCalls struct{}

func (noCalls) CallAudio(domain.CallID) (domain.CallAudio, error) {
	return domain.CallAudio{}, errors.New("no call")
}
func (noCalls) CallStats(domain.CallID) (domain.CallStats, error) {
	return domain.CallStats{}, errors.New("no call")
}

// TestIdleEngineSleeps: with nothing to do (no stream, call, tone or
// check) the loop sleeps until a command instead of waking 20 times a
// second for the rest of the day; a command still runs at once, and a
// microphone meter (which needs the loop's timer) still opens and retries.
func TestIdleEngineSleeps(t *testing.T) {
	e := New(noDevices{}, noCalls{})
	defer e.Close()
	deadline := time.Now().Add(20 * time.Second)
	for e.stats.wakes.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the loop never ran")
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	before := e.stats.wakes.Load()
	time.Sleep(500 * time.Millisecond)
	if n := e.stats.wakes.Load() - before; n > 1 {
		t.Fatalf("an idle engine woke %d times in half a second", n)
	}
	ran := make(chan struct{})
	e.do(func() { close(ran) })
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("a command to the sleeping engine did not run")
	}
	// A meter polled once keeps the loop on its timer while it is active
	// (the device cannot open here: it retries).
	e.MicMeter(DeviceID{})
	before = e.stats.wakes.Load()
	time.Sleep(time.Second)
	if n := e.stats.wakes.Load() - before; n < 3 {
		t.Fatalf("with a meter wanted the loop woke only %d times in a second", n)
	}
}
