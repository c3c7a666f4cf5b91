package sip

import (
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
)

func isDigit(id domain.CallID) func(domain.Input) bool {
	return func(in domain.Input) bool { d, ok := in.(domain.DTMFReceived); return ok && d.ID == id }
}

// waitDigits collects n DTMFReceived events for id, in order.
func waitDigits(t *testing.T, s *sink, id domain.CallID, n int, within time.Duration) string {
	t.Helper()
	var got strings.Builder
	for i := 0; i < n; i++ {
		got.WriteString(s.wait(t, "received digit", within, isDigit(id)).(domain.DTMFReceived).Digit)
	}
	return got.String()
}

// TestRFC4733DTMFReceivedFromBaresip: baresip calls go1 through kamailio
// and keys digits (RFC 4733 telephone-events); while the audio engine
// reads the call's PCM, each digit is posted once as DTMFReceived, in
// order, and never decoded as audio.
func TestRFC4733DTMFReceivedFromBaresip(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr})
	e, s := registeredEngine(t, k, "go1", "go1-pw")
	if _, err := alice.Command("dial", "sip:go1@"+k.Addr); err != nil {
		t.Fatal(err)
	}
	off := s.wait(t, "offer", 15*time.Second, isOffered).(domain.CallOffered)
	if err := e.Answer(off.ID); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answered", 10*time.Second, isAnswered(off.ID))
	if _, err := alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ca, err := e.CallAudio(off.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The audio engine's reader: RFC 4733 events are seen while Rx is read.
	var stop atomic.Bool
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		buf := make([]byte, 320)
		for !stop.Load() {
			if _, err := ca.Rx.Read(buf); err != nil {
				if err != io.EOF {
					t.Logf("rx: %v", err)
				}
				return
			}
		}
	}()
	// Each digit is awaited before the next is keyed: a digit reported twice
	// would come before the next one (the last, 7, is the sentinel for #).
	for _, d := range []string{"4", "2", "#", "7"} {
		if _, err := alice.Command("sndcode", d); err != nil {
			t.Fatal(err)
		}
		if got := waitDigits(t, s, off.ID, 1, 10*time.Second); got != d {
			t.Fatalf("received %q, want %q", got, d)
		}
	}
	if _, err := alice.Command("hangup", ""); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "ended", 10*time.Second, isEnded(off.ID))
	stop.Store(true)
	select {
	case <-readerDone:
	case <-time.After(10 * time.Second):
		t.Error("rx reader not released at the end of the call")
	}
}

// count returns how many pending events match.
func (s *sink) count(match func(domain.Input) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.events {
		if match(e) {
			n++
		}
	}
	return n
}
