package domain

import (
	"testing"
	"time"
)

// BenchmarkStepCallCycle measures one whole inbound call through Step:
// offer, answer, hold, resume, hang up, wrap-up, log saved (8 steps).
func BenchmarkStepCallCycle(b *testing.B) {
	s := NewState()
	now := t0
	step := func(in Input) {
		var eff []Effect
		s, eff = Step(s, in, now)
		_ = eff
	}
	step(Login{Agent: AgentInfo{ID: "a1"}, Config: DefaultConfig()})
	step(RegistrationChanged{State: RegRegistered})
	step(SetStatus{Status: Status{Presence: PresenceAvailable}})
	ids := make([]CallID, 1024)
	for i := range ids {
		ids[i] = NewCallID()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := ids[i%len(ids)]
		now = now.Add(time.Minute)
		step(CallOffered{ID: id, Remote: Party{Number: "+4930111"}})
		step(Answer{ID: id})
		step(CallAnswered{ID: id})
		step(Hold{ID: id})
		step(Resume{ID: id})
		step(Hangup{ID: id})
		step(CompleteWrapUp{Key: string(id)})
		step(CallLogSaved{Key: string(id)})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*8), "ns/step")
}
