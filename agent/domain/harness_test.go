package domain

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// harness drives Step like the actor does and checks the invariants after
// every step.
type harness struct {
	t     *testing.T
	s     State
	now   time.Time
	last  []Effect
	saved []CallLog
}

func testConfig(mods ...func(*Config)) Config {
	c := DefaultConfig()
	c.AutoPauseAfter = 0
	c.Outcomes = []string{"Sale", "No sale", "Callback"}
	c.QuickNotes = []QuickNote{{Name: "cb", Text: "Customer wants a callback"}, {Name: "vm", Text: "Left voicemail"}}
	for _, m := range mods {
		m(&c)
	}
	return c
}

// newHarness returns an agent signed in, registered and Available.
func newHarness(t *testing.T, mods ...func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, s: NewState(), now: t0}
	h.do(Login{Agent: AgentInfo{ID: "a1", Name: "Ann"}, Config: testConfig(mods...)})
	h.do(RegistrationChanged{State: RegRegistered})
	h.do(SetStatus{Status: Status{Presence: PresenceAvailable}})
	return h
}

func (h *harness) do(in Input) []string {
	h.t.Helper()
	s, eff := Step(h.s, in, h.now)
	if err := CheckInvariants(&s); err != nil {
		h.t.Fatalf("after %T%+v: invariants broken: %v", in, in, err)
	}
	h.s, h.last = s, eff
	for _, e := range eff {
		if l, ok := e.(SaveCallLog); ok {
			h.saved = append(h.saved, l.Log)
		}
	}
	return describe(eff)
}

func describe(eff []Effect) []string {
	out := make([]string, len(eff))
	for i, e := range eff {
		out[i] = Describe(e)
	}
	return out
}

func (h *harness) tick(d time.Duration) { h.now = h.now.Add(d) }

// fire advances to the timer's deadline and fires it; the timer must be
// running.
func (h *harness) fire(kind TimerKind, key string) []string {
	h.t.Helper()
	tm := Timer{Kind: kind, Key: key}
	at, ok := Derive(&h.s).Timers[tm]
	if !ok {
		h.t.Fatalf("timer %s is not running", tm)
	}
	if at.After(h.now) {
		h.now = at
	}
	return h.do(TimerFired{Timer: tm})
}

func (h *harness) call(id CallID) *Call {
	h.t.Helper()
	c := h.s.Call(id)
	if c == nil {
		h.t.Fatalf("no live call %s", id)
	}
	return c
}

func (h *harness) ix(key string) *Interaction {
	h.t.Helper()
	ix := h.s.Interaction(key)
	if ix == nil {
		h.t.Fatalf("no interaction %s", key)
	}
	return ix
}

func (h *harness) log(key string) CallLog {
	h.t.Helper()
	var found []CallLog
	for _, l := range h.saved {
		if l.Key == key {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		h.t.Fatalf("call %s logged %d times, want once", key, len(found))
	}
	return found[0]
}

func (h *harness) notLogged(key string) {
	h.t.Helper()
	for _, l := range h.saved {
		if l.Key == key {
			h.t.Fatalf("call %s was logged", key)
		}
	}
}

// inbound offers a call and answers it.
func (h *harness) inbound(id CallID, number string) {
	h.t.Helper()
	h.do(CallOffered{ID: id, Remote: Party{Number: number}})
	h.do(Answer{ID: id})
	h.do(CallAnswered{ID: id})
}

// outbound dials and gets an answer.
func (h *harness) outbound(id CallID, number string) {
	h.t.Helper()
	h.do(Dial{ID: id, Target: number})
	h.do(CallProgress{ID: id})
	h.do(CallAnswered{ID: id})
}

func (h *harness) status() AgentStatus { return h.s.Status() }

func (h *harness) notices() []string {
	var out []string
	for _, e := range h.last {
		if n, ok := e.(Notice); ok {
			out = append(out, n.Message)
		}
	}
	return out
}

// want checks that every line appears in the last effects, in this order.
func want(t *testing.T, got []string, lines ...string) {
	t.Helper()
	i := 0
	for _, g := range got {
		if i < len(lines) && g == lines[i] {
			i++
		}
	}
	if i < len(lines) {
		t.Fatalf("effects %q\nwant in order %q (missing %q)", got, lines, lines[i])
	}
}

// wantNot checks that no effect starts with any of the prefixes.
func wantNot(t *testing.T, got []string, prefixes ...string) {
	t.Helper()
	for _, g := range got {
		for _, p := range prefixes {
			if strings.HasPrefix(g, p) {
				t.Fatalf("unexpected effect %q in %q", g, got)
			}
		}
	}
}

func wantNotice(t *testing.T, h *harness, substr string) {
	t.Helper()
	if !slices.ContainsFunc(h.notices(), func(n string) bool { return strings.Contains(n, substr) }) {
		t.Fatalf("notices %q: none contains %q", h.notices(), substr)
	}
}
