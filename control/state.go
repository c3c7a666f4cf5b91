package control

import (
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
)

// State is the JSON form of the agent's state served by GET /v1/state and
// carried by every event of the stream. Enumerations are their lowercase
// names, so the API does not change when internal numbers would.
type State struct {
	Seq          uint64        `json:"seq"`
	Agent        AgentState    `json:"agent"`
	Calls        []CallState   `json:"calls"`
	Interactions []Interaction `json:"interactions"`
	PendingLogs  int           `json:"pending_logs"`
}

// AgentState is the agent part of State.
type AgentState struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Status       string `json:"status"`   // effective: available, on-call, wrap-up, ...
	Presence     string `json:"presence"` // chosen: available, break, dnd, offline, ...
	Reason       string `json:"reason,omitempty"`
	Registration string `json:"registration"`
	Muted        bool   `json:"muted"`
}

// Party is the other end of a call.
type Party struct {
	Number string `json:"number"`
	Name   string `json:"name,omitempty"`
}

// CallState is one live call leg.
type CallState struct {
	ID          string    `json:"id"`
	Interaction string    `json:"interaction"`
	Direction   string    `json:"direction"`
	State       string    `json:"state"`
	Role        string    `json:"role"`
	ConsultFor  string    `json:"consult_for,omitempty"`
	Conference  bool      `json:"conference"`
	Remote      Party     `json:"remote"`
	Target      string    `json:"target,omitempty"`
	RemoteHeld  bool      `json:"remote_held"`
	Transfer    string    `json:"transfer,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	AnsweredAt  time.Time `json:"answered_at,omitzero"`
}

// Interaction is one customer interaction (live or in wrap-up).
type Interaction struct {
	Key        string    `json:"key"`
	Direction  string    `json:"direction"`
	Remote     Party     `json:"remote"`
	Phase      string    `json:"phase"`
	Live       []string  `json:"live"`
	Conference bool      `json:"conference"`
	Outcome    string    `json:"outcome"`
	Notes      string    `json:"notes"`
	DoNotLog   bool      `json:"do_not_log"`
	RecordID   string    `json:"record_id,omitempty"`
	StartedAt  time.Time `json:"started_at"`
}

// Notice is a one-off message from the core (a failure in plain words).
type Notice struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	CallID  string `json:"call_id,omitempty"`
	Key     string `json:"key,omitempty"`
}

// StateOf is the JSON form of the state m holds (what GET /v1/state serves
// and every event carries). Enumerations become their lowercase names.
func StateOf(m *agent.Mirror) State {
	a := m.Agent
	st := State{
		Seq: m.Seq,
		Agent: AgentState{
			ID: a.Agent.ID, Name: a.Agent.Name, Status: a.Status.String(), Presence: a.Presence.Presence.String(),
			Reason: a.Presence.Reason, Registration: a.Registration.State.String(), Muted: a.Muted,
		},
		Calls:        make([]CallState, 0, len(m.Calls)),
		Interactions: make([]Interaction, 0, len(m.Interactions)),
		PendingLogs:  m.Logs.Pending,
	}
	for _, c := range m.Calls {
		cs := CallState{
			ID: string(c.ID), Interaction: c.Interaction, Direction: c.Direction.String(), State: c.State.String(),
			Role: c.Role.String(), ConsultFor: string(c.ConsultFor), Conference: c.Conference,
			Remote: Party(c.Remote), Target: c.Target, RemoteHeld: c.RemoteHeld,
			CreatedAt: c.CreatedAt, AnsweredAt: c.AnsweredAt,
		}
		if c.Transfer != domain.TransferNone {
			cs.Transfer = c.Transfer.String()
		}
		st.Calls = append(st.Calls, cs)
	}
	for _, ix := range m.Interactions {
		live := make([]string, len(ix.Live))
		for i, id := range ix.Live {
			live[i] = string(id)
		}
		st.Interactions = append(st.Interactions, Interaction{
			Key: ix.Key, Direction: ix.Direction.String(), Remote: Party(ix.Remote), Phase: ix.Phase.String(),
			Live: live, Conference: ix.Conference, Outcome: ix.Outcome, Notes: ix.Notes, DoNotLog: ix.DoNotLog,
			RecordID: ix.RecordID, StartedAt: ix.StartedAt,
		})
	}
	return st
}

// NoticesOf is the JSON form of the core's notices (never nil).
func NoticesOf(ns []domain.Notice) []Notice {
	out := make([]Notice, 0, len(ns))
	for _, n := range ns {
		out = append(out, Notice{Kind: n.Kind.String(), Message: n.Message, CallID: string(n.CallID), Key: n.Key})
	}
	return out
}

// EventOf folds n into m and returns the event the stream sends for it:
// the full state after n and n's notices. Callers keep one Mirror per
// stream of notifications (agent.Watch), as GET /v1/events does.
func EventOf(m *agent.Mirror, n agent.Notify) Event {
	m.Apply(n)
	return Event{Initial: n.Initial, State: StateOf(m), Notices: NoticesOf(n.Notices)}
}
