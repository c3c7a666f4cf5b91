package domain

import (
	"slices"
	"strings"
	"time"
)

// Derived is what the adapters must reflect at all times, computed from the
// state alone. Step emits the difference between two Derived values as
// effects, so it never has to remember to stop a ringer or cancel a timer.
type Derived struct {
	Ringer   RingerMode
	Ringback CallID   // outbound call whose local ringback plays, or empty
	Route    []CallID // calls connected to the headset (several = conference mix)
	Muted    bool
	Timers   map[Timer]time.Time
}

// Derive computes the derived outputs of a state.
func Derive(s *State) Derived { return derive(s) }

func derive(s *State) Derived {
	d := Derived{Timers: map[Timer]time.Time{}}
	ringing, busy, talking := false, false, false
	for i := range s.Calls {
		c := &s.Calls[i]
		switch c.State {
		case CallStateOffered:
			if !c.Answering {
				ringing = true
				if !c.RingDeadline.IsZero() {
					d.Timers[Timer{Kind: TimerRing, Key: string(c.ID)}] = c.RingDeadline
				}
			} else {
				busy = true
			}
		case CallStateActive:
			d.Route = append(d.Route, c.ID)
			busy, talking = true, true
		case CallStateDialing, CallStateRinging, CallStateHeld:
			busy = true
		case CallStateUnknown, CallStateEnded:
		}
	}
	switch {
	case ringing && busy:
		d.Ringer = RingerWaiting
	case ringing:
		d.Ringer = RingerRing
	}
	if f := s.Call(s.Focus); f != nil && f.State == CallStateRinging && !f.EarlyMedia && !talking {
		d.Ringback = f.ID
	}
	d.Muted = s.Muted && len(s.Calls) > 0
	for i := range s.Interactions {
		ix := &s.Interactions[i]
		if ix.Phase == PhaseWrapUp && !ix.WrapDeadline.IsZero() && !ix.Overdue {
			d.Timers[Timer{Kind: TimerWrapUp, Key: ix.Key}] = ix.WrapDeadline
		}
	}
	for i := range s.PendingLogs {
		p := &s.PendingLogs[i]
		if !p.Saving && !p.RetryAt.IsZero() {
			d.Timers[Timer{Kind: TimerLogRetry, Key: p.Log.Key}] = p.RetryAt
		}
	}
	return d
}

func diff(a, b Derived) []Effect {
	var out []Effect
	if a.Ringer != b.Ringer {
		out = append(out, SetRinger{Mode: b.Ringer})
	}
	if a.Ringback != b.Ringback {
		out = append(out, SetRingback{ID: b.Ringback})
	}
	if !slices.Equal(a.Route, b.Route) {
		out = append(out, SetAudioRoute{Calls: slices.Clone(b.Route)})
	}
	if a.Muted != b.Muted {
		out = append(out, SetMute{On: b.Muted})
	}
	var timers []Effect
	for t := range a.Timers {
		if _, ok := b.Timers[t]; !ok {
			timers = append(timers, CancelTimer{Timer: t})
		}
	}
	for t, at := range b.Timers {
		if old, ok := a.Timers[t]; !ok || !old.Equal(at) {
			timers = append(timers, StartTimer{Timer: t, At: at})
		}
	}
	slices.SortFunc(timers, func(x, y Effect) int { return strings.Compare(Describe(x), Describe(y)) })
	return append(out, timers...)
}
