// Package agenttest provides recording fakes for every port of the core and
// a Recorder that tests assert on ("Answer c1", "Ringer ring", ...), in the
// style of tailscale's mockControl.assertCalls. The fakes succeed unless told
// to fail, and report nothing on their own: a test posts the events a real
// adapter would post (CallAnswered, CallLogSaved, ...), which keeps every
// step of a scenario visible in the test.
//
// The UI tests (package ui) build the real core on these fakes.
package agenttest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

// Recorder collects the calls made on the fakes, safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	calls []string
	fail  map[string]error // method name -> error to return
	logs  []domain.CallLog
	wake  chan struct{}
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{fail: map[string]error{}, wake: make(chan struct{}, 1)}
}

func (r *Recorder) add(method, line string) error {
	r.mu.Lock()
	r.calls = append(r.calls, line)
	err := r.fail[method]
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return err
}

// FailNext makes every later call of method ("Dial", "Register", ...) return
// err, until cleared with a nil err.
func (r *Recorder) FailNext(method string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		delete(r.fail, method)
		return
	}
	r.fail[method] = err
}

// Calls returns and clears the recorded calls.
func (r *Recorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.calls
	r.calls = nil
	return c
}

// Logs returns every call log handed to the CallLogger fake.
func (r *Recorder) Logs() []domain.CallLog {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.logs)
}

// WaitFor waits until a recorded call equals line (without clearing), for
// effects run asynchronously by the actor.
func (r *Recorder) WaitFor(t testing.TB, line string, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		found := slices.Contains(r.calls, line)
		got := slices.Clone(r.calls)
		r.mu.Unlock()
		if found {
			return
		}
		select {
		case <-r.wake:
		case <-deadline:
			t.Fatalf("no call %q within %v; got %q", line, timeout, got)
		}
	}
}

// AssertCalls checks that exactly these calls were made since the last
// Calls/AssertCalls, in order, and clears them.
func (r *Recorder) AssertCalls(t testing.TB, want ...string) {
	t.Helper()
	got := r.Calls()
	if !slices.Equal(got, want) {
		t.Fatalf("calls:\n  got  %q\n  want %q", got, want)
	}
}

// Ports returns the four fakes sharing this recorder.
func (r *Recorder) Ports() (domain.Telephony, domain.Media, domain.CallLogger, domain.Directory) {
	return Telephony{r}, Media{r}, CallLog{r}, Directory{r}
}

// Telephony is a recording fake of domain.Telephony.
type Telephony struct{ R *Recorder }

// Register records the call.
func (f Telephony) Register() error { return f.R.add("Register", "Register") }

// Unregister records the call.
func (f Telephony) Unregister() error { return f.R.add("Unregister", "Unregister") }

// Dial records the call.
func (f Telephony) Dial(id domain.CallID, target string) error {
	return f.R.add("Dial", fmt.Sprintf("Dial %s %s", id, target))
}

// Answer records the call.
func (f Telephony) Answer(id domain.CallID) error { return f.R.add("Answer", "Answer "+string(id)) }

// Reject records the call.
func (f Telephony) Reject(id domain.CallID, code int) error {
	return f.R.add("Reject", fmt.Sprintf("Reject %s %d", id, code))
}

// Redirect records the call.
func (f Telephony) Redirect(id domain.CallID, target string) error {
	return f.R.add("Redirect", fmt.Sprintf("Redirect %s %s", id, target))
}

// Hangup records the call.
func (f Telephony) Hangup(id domain.CallID) error { return f.R.add("Hangup", "Hangup "+string(id)) }

// Hold records the call.
func (f Telephony) Hold(id domain.CallID, on bool) error {
	if on {
		return f.R.add("Hold", "Hold "+string(id))
	}
	return f.R.add("Hold", "Unhold "+string(id))
}

// SendDTMF records the call.
func (f Telephony) SendDTMF(id domain.CallID, digits string) error {
	return f.R.add("SendDTMF", fmt.Sprintf("DTMF %s %s", id, digits))
}

// TransferBlind records the call.
func (f Telephony) TransferBlind(id domain.CallID, target string) error {
	return f.R.add("TransferBlind", fmt.Sprintf("Transfer %s %s", id, target))
}

// TransferAttended records the call.
func (f Telephony) TransferAttended(id, to domain.CallID) error {
	return f.R.add("TransferAttended", fmt.Sprintf("TransferTo %s %s", id, to))
}

// Media is a recording fake of domain.Media.
type Media struct{ R *Recorder }

// SetRinger records the call.
func (f Media) SetRinger(mode domain.RingerMode) { _ = f.R.add("SetRinger", "Ringer "+mode.String()) }

// SetRingback records the call.
func (f Media) SetRingback(id domain.CallID) {
	if id == "" {
		_ = f.R.add("SetRingback", "Ringback off")
		return
	}
	_ = f.R.add("SetRingback", "Ringback "+string(id))
}

// SetAudioRoute records the call.
func (f Media) SetAudioRoute(calls []domain.CallID) {
	ids := make([]string, len(calls))
	for i, c := range calls {
		ids[i] = string(c)
	}
	_ = f.R.add("SetAudioRoute", "Route ["+strings.Join(ids, " ")+"]")
}

// SetMute records the call.
func (f Media) SetMute(on bool) { _ = f.R.add("SetMute", fmt.Sprintf("Mute %t", on)) }

// Record records the call.
func (f Media) Record(key string, _ []domain.CallID, action domain.RecordAction) error {
	return f.R.add("Record", fmt.Sprintf("Record %s %s", key, action))
}

// PlayAnnouncement records the call.
func (f Media) PlayAnnouncement(id domain.CallID, name string) error {
	return f.R.add("PlayAnnouncement", fmt.Sprintf("Announce %s %s", id, name))
}

// CallLog is a recording fake of domain.CallLogger.
type CallLog struct{ R *Recorder }

// SaveCallLog records the log.
func (f CallLog) SaveCallLog(l domain.CallLog) error {
	f.R.mu.Lock()
	f.R.logs = append(f.R.logs, l.Clone())
	f.R.mu.Unlock()
	return f.R.add("SaveCallLog", "SaveLog "+l.Key)
}

// Directory is a recording fake of domain.Directory.
type Directory struct{ R *Recorder }

// Lookup records the call.
func (f Directory) Lookup(key, _ string) error { return f.R.add("Lookup", "Lookup "+key) }

// ScreenPop records the call.
func (f Directory) ScreenPop(key string, rec domain.CRMRecord) error {
	return f.R.add("ScreenPop", fmt.Sprintf("Pop %s %s", key, rec.ID))
}

// ScreenPopNew records the call.
func (f Directory) ScreenPopNew(key, _ string) error { return f.R.add("ScreenPopNew", "PopNew "+key) }
