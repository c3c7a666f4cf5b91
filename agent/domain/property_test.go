package domain

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// driver feeds Step arbitrary input sequences, decoded from bytes, and checks
// after every step:
//   - CheckInvariants (never two un-held active calls outside a conference,
//     wrap-up only after the calls end, lines and conference limits, ...);
//   - the timers the effects started and did not cancel are exactly the
//     derived timers of the state (so a timer is always cancelled when its
//     state ends);
//   - every interaction that disappears yields exactly one SaveCallLog, or
//     none when "do not log" was set, and no key is ever logged twice except
//     as a retry of a failed save;
//   - nothing but Login leaves Offline.
type driver struct {
	t       testing.TB
	s       State
	now     time.Time
	timers  map[Timer]time.Time
	logged  map[string]bool
	ids     int
	last    []Effect
	history []string
}

func newDriver(t testing.TB) *driver {
	return &driver{t: t, s: NewState(), now: t0, timers: map[Timer]time.Time{}, logged: map[string]bool{}}
}

func (d *driver) fail(format string, args ...any) {
	d.t.Helper()
	tail := d.history
	if len(tail) > 25 {
		tail = tail[len(tail)-25:]
	}
	d.t.Fatalf("%s\nlast inputs:\n%s", fmt.Sprintf(format, args...), fmt.Sprint(tail))
}

func (d *driver) step(in Input) {
	d.t.Helper()
	d.history = append(d.history, fmt.Sprintf("%T%+v\n", in, in))
	prev := d.s
	next, eff := Step(prev, in, d.now)
	d.s, d.last = next, eff
	if err := CheckInvariants(&next); err != nil {
		d.fail("invariants: %v", err)
	}
	if _, login := in.(Login); !prev.SignedIn() && !login && next.SignedIn() {
		d.fail("%T left Offline", in)
	}
	saves := map[string]int{}
	for _, e := range eff {
		switch e := e.(type) {
		case StartTimer:
			d.timers[e.Timer] = e.At
		case CancelTimer:
			if _, ok := d.timers[e.Timer]; !ok {
				d.fail("cancelled timer %s that was not running", e.Timer)
			}
			delete(d.timers, e.Timer)
		case SaveCallLog:
			saves[e.Log.Key]++
		}
	}
	want := Derive(&next).Timers
	if len(want) != len(d.timers) {
		d.fail("running timers %v, derived %v", d.timers, want)
	}
	for tm, at := range want {
		if got, ok := d.timers[tm]; !ok || !got.Equal(at) {
			d.fail("timer %s running %v (%v), derived %v", tm, got, ok, at)
		}
	}
	for key, n := range saves {
		retry := slices.ContainsFunc(prev.PendingLogs, func(p PendingLog) bool { return p.Log.Key == key })
		if n != 1 || (!retry && d.logged[key]) {
			d.fail("call %s logged %d times in one step (retry %v, logged before %v)", key, n, retry, d.logged[key])
		}
		d.logged[key] = true
	}
	for _, ix := range prev.Interactions {
		if next.Interaction(ix.Key) != nil {
			continue
		}
		wantSaves := 1
		if ix.DoNotLog {
			wantSaves = 0
		}
		// The flag may have been changed by this very input.
		if in, ok := in.(SetDoNotLog); ok && in.Key == ix.Key {
			wantSaves = 1 - map[bool]int{false: 0, true: 1}[in.On]
		}
		if saves[ix.Key] != wantSaves {
			d.fail("interaction %s ended with %d logs, want %d", ix.Key, saves[ix.Key], wantSaves)
		}
	}
}

// pickCall chooses a live call (or, rarely, an unknown ID).
func (d *driver) pickCall(b byte) CallID {
	if len(d.s.Calls) == 0 || b%11 == 0 {
		return CallID(fmt.Sprintf("x%d", b%3))
	}
	return d.s.Calls[int(b)%len(d.s.Calls)].ID
}

func (d *driver) pickKey(b byte) string {
	if len(d.s.Interactions) == 0 || b%13 == 0 {
		return fmt.Sprintf("x%d", b%3)
	}
	return d.s.Interactions[int(b)%len(d.s.Interactions)].Key
}

func (d *driver) newID() CallID {
	d.ids++
	return CallID(fmt.Sprintf("n%d", d.ids))
}

var fuzzTargets = []string{"201", "+4930123456", "sip:bob@example.com", "", "bad input?", "tel:+1-212-555-0100", "*43"}

// input decodes one input from op and arg bytes.
func (d *driver) input(op, a, b byte) Input {
	key := d.pickKey(a)
	id := d.pickCall(a)
	target := fuzzTargets[int(b)%len(fuzzTargets)]
	causes := []EndCause{CauseUnknown, CauseRemoteHangup, CauseBusy, CauseNoAnswer, CauseMissed, CauseNetwork, CauseDeclined}
	switch op % 50 {
	case 0:
		cfg := testConfig(func(c *Config) {
			c.MaxLines = 1 + int(a%5)
			c.AutoPauseAfter = int(b % 3)
			c.WrapUpTime = time.Duration(b%3) * 20 * time.Second
			c.OutcomeRequired = a%2 == 0
			c.DoNotLogDefault = b%5 == 0
			c.Recording = RecordingPolicy(1 + a%3)
			c.ScreenPop = ScreenPopPolicy(1 + b%3)
			if b%4 == 0 {
				c.DefaultOutcome = "Sale"
			}
		})
		if d.s.SignedIn() && a%3 == 0 {
			// A settings change during the shift.
			outs := [][]string{nil, {"Sale"}, {"Sale", "No sale"}}
			return Reconfigure{Outcomes: outs[int(b)%3], QuickNotes: cfg.QuickNotes[:int(a)%2], ScreenPop: cfg.ScreenPop, CallSubject: target}
		}
		return Login{Agent: AgentInfo{ID: "a1"}, Config: cfg}
	case 1:
		return Logout{}
	case 2:
		ps := []Status{{Presence: PresenceAvailable}, {Presence: PresenceBreak, Reason: "Lunch"}, {Presence: PresenceDND},
			{Presence: PresenceOffline}, {Presence: PresenceAutoPaused}, {Presence: PresenceBreak, Reason: "?"}}
		return SetStatus{Status: ps[int(b)%len(ps)]}
	case 3:
		return Dial{ID: d.newID(), Target: target}
	case 4:
		return Answer{ID: id}
	case 5:
		return Reject{ID: id, Decline: b%2 == 0}
	case 6:
		return Redirect{ID: id, Target: target}
	case 7:
		return Hangup{ID: id}
	case 8:
		return Hold{ID: id}
	case 9:
		return Resume{ID: id}
	case 10:
		return Mute{On: b%2 == 0}
	case 11:
		return SendDTMF{ID: id, Digits: []string{"1", "12#", "x"}[b%3]}
	case 12:
		return BlindTransfer{ID: id, Target: target}
	case 13:
		return ConsultStart{ID: id, NewID: d.newID(), Target: target}
	case 14:
		return ConsultComplete{ID: id}
	case 15:
		return ConsultMerge{ID: id}
	case 16:
		return ConsultCancel{ID: id}
	case 17:
		return ConferenceLeave{Key: key}
	case 18:
		return ConferenceTerminate{Key: key}
	case 19:
		return SetDoNotLog{Key: key, On: b%2 == 0}
	case 20:
		return SetOutcome{Key: key, Outcome: []string{"Sale", "", "Nope"}[b%3]}
	case 21:
		return SetNotes{Key: key, Notes: "n"}
	case 22:
		return AddQuickNote{Key: key, Name: []string{"cb", "zz"}[b%2]}
	case 23:
		return ExtendWrapUp{Key: key}
	case 24, 25:
		return CompleteWrapUp{Key: key}
	case 26:
		return SetRecording{Key: key, Action: RecordAction(b % 5)}
	case 27:
		return AddBookmark{Key: key, Label: "b"}
	case 28:
		return PlayAnnouncement{ID: id, Name: "a"}
	case 29:
		return ChooseRecord{Key: key, RecordID: []string{"r1", "r2", "zz"}[b%3]}
	case 30:
		return CreateContact{Key: key}
	case 31:
		return RegistrationChanged{State: RegState(1 + b%4), Reason: "r"}
	case 32, 33:
		return CallOffered{ID: d.newID(), Remote: Party{Number: "+4930" + fmt.Sprint(b)}}
	case 34:
		return CallProgress{ID: id, EarlyMedia: b%2 == 0}
	case 35, 36:
		return CallAnswered{ID: id}
	case 37:
		return CallFailed{ID: id, Cause: causes[int(b)%len(causes)]}
	case 38:
		return CallEnded{ID: id, Cause: causes[int(b)%len(causes)]}
	case 39:
		return RemoteHold{ID: id, On: b%2 == 0}
	case 40:
		return HoldFailed{ID: id, On: b%2 == 0}
	case 41:
		// Transfer results usually name the leg the REFER went out on.
		for _, c := range d.s.Calls {
			if c.Transfer != TransferNone && b%4 != 0 {
				return TransferResult{ID: c.ID, OK: b%3 != 0}
			}
		}
		return TransferResult{ID: id, OK: b%2 == 0}
	case 42:
		if b%2 == 0 {
			return RecordingStarted{Key: key, Ref: "f.wav"}
		}
		return RecordingFailed{Key: key, Reason: "x"}
	case 43:
		return AnnouncementDone{ID: id}
	case 44:
		recs := [][]CRMRecord{nil, {{ID: "r1"}}, {{ID: "r1"}, {ID: "r2"}}}
		if b%7 == 0 {
			return CallerMatched{Key: key, Err: "down"}
		}
		return CallerMatched{Key: key, Records: recs[int(b)%3]}
	case 45:
		if len(d.s.PendingLogs) > 0 {
			k := d.s.PendingLogs[int(a)%len(d.s.PendingLogs)].Log.Key
			if b%3 == 0 {
				return CallLogFailed{Key: k, Reason: "disk full"}
			}
			return CallLogSaved{Key: k}
		}
		return CallLogSaved{Key: key}
	case 46:
		// Fire a running timer at (or after) its deadline, or a stale one.
		ts := make([]Timer, 0, len(d.timers))
		for tm := range d.timers {
			ts = append(ts, tm)
		}
		slices.SortFunc(ts, func(x, y Timer) int { return compareStrings(x.String(), y.String()) })
		if len(ts) > 0 && b%5 != 0 {
			tm := ts[int(a)%len(ts)]
			if at := d.timers[tm]; at.After(d.now) {
				d.now = at
			}
			return TimerFired{Timer: tm}
		}
		return TimerFired{Timer: Timer{Kind: TimerKind(b % 4), Key: key}}
	case 47:
		return DTMFReceived{ID: id, Digit: []string{"1", "#", "d", "", "12", "x"}[b%6]}
	case 48:
		ps := []Party{{Number: "+4930999", Name: "Transferred"}, {Number: "+4930" + fmt.Sprint(b)}, {Name: "Only a name"}, {}}
		return RemotePartyChanged{ID: id, Party: ps[int(b)%len(ps)]}
	default:
		if len(d.last) > 0 && b%2 == 0 {
			return EffectFailed{Effect: d.last[int(a)%len(d.last)], Reason: "refused"}
		}
		d.now = d.now.Add(time.Duration(b) * time.Second)
		return nil
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (d *driver) run(data []byte) {
	d.t.Helper()
	// Start signed in and registered most of the time: that is where the
	// interesting transitions are.
	if len(data) > 0 && data[0]%4 != 0 {
		d.step(Login{Agent: AgentInfo{ID: "a1"}, Config: testConfig(func(c *Config) { c.AutoPauseAfter = 2 })})
		d.step(RegistrationChanged{State: RegRegistered})
		d.step(SetStatus{Status: Status{Presence: PresenceAvailable}})
	}
	for i := 1; i+2 < len(data); i += 3 {
		d.step(d.input(data[i], data[i+1], data[i+2]))
	}
}

// TestRandomSequences is the property test run by `make test`: thousands of
// random input sequences, checked after every step.
func TestRandomSequences(t *testing.T) {
	t.Parallel()
	n := 2000
	if testing.Short() {
		n = 300
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i++ {
		data := make([]byte, 3*(50+rng.IntN(250)))
		for j := range data {
			data[j] = byte(rng.UintN(256))
		}
		newDriver(t).run(data)
	}
}

// FuzzStep explores further with `go test -fuzz FuzzStep ./agent/domain`.
func FuzzStep(f *testing.F) {
	f.Add([]byte{1, 32, 0, 0, 4, 0, 0, 35, 0, 0, 7, 0, 0, 24, 0, 0})
	f.Add([]byte{1, 32, 0, 0, 4, 0, 0, 35, 0, 0, 13, 0, 0, 35, 1, 0, 15, 1, 0, 17, 0, 0})
	f.Add([]byte{1, 3, 0, 0, 32, 1, 1, 4, 1, 1, 35, 1, 1, 35, 0, 0, 46, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		newDriver(t).run(data)
	})
}
