package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/sip/demopbx"
)

// The pre-shift check the desk offers from its settings (and, when the
// agent asks for it, after sign-in): the microphone's level, a test tone in
// the headset measured back through the microphone (audio.Engine.Check),
// and an echo test call.

// PreShiftCheck runs the audio engine's pre-shift check for d (at least a
// second): the chosen microphone and headset are opened, a 1 kHz test tone
// plays in the headset and the microphone is measured. It blocks; call it
// off the UI goroutine. Without audio it returns an error wrapping
// ErrAudioOff.
func (a *App) PreShiftCheck(ctx context.Context, d time.Duration) (audio.CheckResult, error) {
	e, err := a.Audio()
	if err != nil {
		return audio.CheckResult{}, err
	}
	return e.Check(ctx, d)
}

// MicLevel is the microphone's peak level (0..1) since the last call, for
// the check's meter; 0 without audio or while the microphone is closed
// (the engine opens it for a call or a check; reading the level starts
// nothing).
func (a *App) MicLevel() float64 {
	if a.audio == nil {
		return 0
	}
	e := a.audio.started()
	if e == nil {
		return 0
	}
	return float64(e.Levels().Microphone)
}

// EchoTestNumber is the number of the PBX's echo test for the check's echo
// call: the demo PBX's, else Config.EchoTestNumber ("" when the PBX has
// none configured).
func (a *App) EchoTestNumber() string {
	if a.PBX != nil {
		return demopbx.ExtEcho
	}
	return a.echoNumber
}

// echoAttempts is how often EchoCheck asks the audio engine to measure a
// call whose audio has not reached the headset yet (each attempt waits
// about two seconds for it): the engine attaches a call's audio shortly
// after the core routes it.
const echoAttempts = 3

// EchoCheck measures the echo test call id (placed by the desk to
// EchoTestNumber through the core): it waits until the call is connected,
// then sends bursts test bursts into it and listens for them coming back
// (audio.Engine.EchoCheck). Heard == 0 in the result means one-way audio:
// the far end does not hear the agent. It returns an error wrapping
// ErrEchoCallEnded when the call ends (busy, failed, hung up) or is not in
// progress before it is measured, an error wrapping ErrAudioOff without
// audio, and ctx's error when ctx ends first. It blocks for the call set-up and about a second
// per burst: call it off the UI's and the agent's goroutines.
func (a *App) EchoCheck(ctx context.Context, id domain.CallID, bursts int) (audio.EchoResult, error) {
	e, err := a.Audio()
	if err != nil {
		return audio.EchoResult{}, err
	}
	if err := a.waitConnected(ctx, id); err != nil {
		return audio.EchoResult{}, err
	}
	for attempt := 1; ; attempt++ {
		res, err := e.EchoCheck(ctx, id, bursts)
		if err == nil {
			return res, nil
		}
		if res.Sent > 0 || errors.Is(err, audio.ErrEchoNoisy) || ctx.Err() != nil || attempt == echoAttempts || !a.callLive(id) {
			if !a.callLive(id) && ctx.Err() == nil {
				return res, fmt.Errorf("%w: %w", ErrEchoCallEnded, err)
			}
			return res, fmt.Errorf("echo check: %w", err)
		}
		// Connected, but its audio has not reached the headset yet.
	}
}

// callLive reports whether call id is live in the core.
func (a *App) callLive(id domain.CallID) bool {
	st := a.Agent.Snapshot()
	return st.Call(id) != nil
}

// waitConnected waits until call id is connected, or returns an error
// wrapping ErrEchoCallEnded (with the core's reason) when it ends first or
// is not in progress.
func (a *App) waitConnected(ctx context.Context, id domain.CallID) error {
	// Everything enqueued before (the desk's Dial) is in the core's state
	// before the watch's first snapshot.
	if err := a.Agent.Sync(ctx); err != nil {
		return err
	}
	res := make(chan error, 1)
	var once sync.Once
	done := func(err error) { once.Do(func() { res <- err }) }
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var cause domain.EndCause // the leg's end cause once the core says it (watch callbacks run one at a time)
	stop := a.Agent.Watch(wctx, func(n agent.Notify) {
		seen := false
		for _, c := range n.Calls {
			if c.ID != id {
				continue
			}
			seen = true
			if c.State == domain.CallStateActive || c.State == domain.CallStateHeld {
				done(nil)
			}
		}
		for _, no := range n.Notices {
			if no.CallID == id && no.Cause != domain.CauseUnknown {
				cause = no.Cause
			}
		}
		for _, ix := range n.Interactions {
			for _, l := range ix.Legs {
				if l.ID == id && l.Cause != domain.CauseUnknown {
					cause = l.Cause
				}
			}
		}
		ended := func(why string) {
			if m := cause.Message(); cause != domain.CauseUnknown && m != "" {
				why = strings.ToLower(m[:1]) + m[1:]
			}
			done(fmt.Errorf("%w: %s", ErrEchoCallEnded, why))
		}
		if n.Initial && !seen {
			// Ended before this watch began (a busy number fails at
			// once): the sign-in watcher noted why.
			if c, ok := a.ends.cause(id); ok {
				cause = c
			}
			ended("the call is not in progress")
		}
		if slices.Contains(n.Ended, id) {
			ended("it ended")
		}
	})
	defer stop()
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// endCauses remembers why the last few calls ended (from the core's
// notices and interaction legs), so that a check started after its call
// failed (a busy number fails within milliseconds) can still say why.
type endCauses struct {
	mu   sync.Mutex
	ids  []domain.CallID // oldest first
	byID map[domain.CallID]domain.EndCause
}

const maxEndCauses = 16

func (e *endCauses) note(n agent.Notify) {
	e.mu.Lock()
	defer e.mu.Unlock()
	put := func(id domain.CallID, c domain.EndCause) {
		if c == domain.CauseUnknown || id == "" {
			return
		}
		if e.byID == nil {
			e.byID = make(map[domain.CallID]domain.EndCause)
		}
		if _, ok := e.byID[id]; !ok {
			e.ids = append(e.ids, id)
			if len(e.ids) > maxEndCauses {
				delete(e.byID, e.ids[0])
				e.ids = e.ids[1:]
			}
		}
		e.byID[id] = c
	}
	for _, no := range n.Notices {
		put(no.CallID, no.Cause)
	}
	for _, ix := range n.Interactions {
		for _, l := range ix.Legs {
			put(l.ID, l.Cause)
		}
	}
}

func (e *endCauses) cause(id domain.CallID) (domain.EndCause, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, ok := e.byID[id]
	return c, ok
}
