package control

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
)

// TestEventOfNamesEnumerations folds notifications into a mirror and checks
// that the JSON carries enumerations as their names, never their numbers,
// and that deltas are applied (a call that ended is gone).
func TestEventOfNamesEnumerations(t *testing.T) {
	var m agent.Mirror
	ev := EventOf(&m, agent.Notify{
		Seq: 1, Initial: true,
		Agent: &agent.AgentView{Agent: domain.AgentInfo{ID: "a1"}, Registration: domain.Registration{State: domain.RegRegistered}},
		Calls: []domain.Call{{ID: "c1", Direction: domain.DirectionOutbound, State: domain.CallStateActive, Remote: domain.Party{Number: "201"}}},
	})
	if !ev.Initial || ev.State.Agent.ID != "a1" || ev.State.Agent.Registration != "registered" {
		t.Fatalf("initial event %+v", ev)
	}
	if len(ev.State.Calls) != 1 || ev.State.Calls[0].Direction != "outbound" || ev.State.Calls[0].Remote.Number != "201" {
		t.Fatalf("calls %+v", ev.State.Calls)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"registration":"registered"`) || !strings.Contains(string(b), `"state":"active"`) {
		t.Fatalf("enumerations not named: %s", b)
	}
	ev = EventOf(&m, agent.Notify{Seq: 2, Ended: []domain.CallID{"c1"},
		Notices: []domain.Notice{{Kind: domain.NoticeError, Message: "Busy"}}})
	if ev.Initial || len(ev.State.Calls) != 0 || ev.State.Seq != 2 {
		t.Fatalf("delta not applied: %+v", ev)
	}
	if len(ev.Notices) != 1 || ev.Notices[0].Message != "Busy" || ev.Notices[0].Kind != domain.NoticeError.String() {
		t.Fatalf("notices %+v", ev.Notices)
	}
	if got := StateOf(&m); got.Agent.ID != "a1" || got.Calls == nil {
		t.Fatalf("StateOf %+v (calls must be [] not null)", got)
	}
}
