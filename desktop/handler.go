package desktop

import (
	"fmt"
	"strings"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
)

// Confirm asks the agent whether a clicked link may dial target; it
// returns false to cancel. It may block (the UI shows a dialog).
type Confirm func(target string) bool

// AgentHandler carries out requests against the core: dial (after confirm
// for links, when confirm is set), answer the ringing call, hang up the
// focused call, report the status.
func AgentHandler(a *agent.Agent, confirm Confirm) Handler {
	return func(req Request) Response {
		switch req.Verb {
		case VerbDial:
			t, err := domain.NormalizeDialString(req.Target)
			if err != nil {
				return Response{Message: err.Error()}
			}
			if req.Link && confirm != nil && !confirm(t) {
				return Response{Message: "call cancelled"}
			}
			if _, err := a.Dial(t); err != nil {
				return Response{Message: err.Error()}
			}
			return Response{OK: true, Message: "calling " + t}
		case VerbAnswer:
			s := a.Snapshot()
			for _, c := range s.Calls {
				if c.State == domain.CallStateOffered {
					if err := a.Answer(c.ID); err != nil {
						return Response{Message: err.Error()}
					}
					return Response{OK: true, Message: "answering " + c.Remote.Label()}
				}
			}
			return Response{Message: "no ringing call"}
		case VerbHangup:
			s := a.Snapshot()
			id := s.Focus
			if s.Call(id) == nil {
				id = ""
				for _, c := range s.Calls {
					if c.State != domain.CallStateHeld {
						id = c.ID
					}
				}
			}
			if id == "" {
				return Response{Message: "no call to hang up"}
			}
			if err := a.Hangup(id); err != nil {
				return Response{Message: err.Error()}
			}
			return Response{OK: true, Message: "hanging up"}
		case VerbStatus, VerbShow:
			// VerbShow reaches the handler only when no window is there to
			// raise (Instance.OnShow unset, e.g. -headless).
			return Response{OK: true, Message: statusLine(a.Snapshot())}
		}
		return Response{Message: fmt.Sprintf("unknown request %q", req.Verb)}
	}
}

func statusLine(s domain.State) string {
	var b strings.Builder
	if s.SignedIn() {
		fmt.Fprintf(&b, "%s: %s", s.Agent.ID, s.Status())
	} else {
		b.WriteString(s.Status().String())
	}
	fmt.Fprintf(&b, ", registration %s", s.Registration.State)
	for _, c := range s.Calls {
		fmt.Fprintf(&b, "\n%s %s %s", c.Direction, c.State, c.Remote.Label())
	}
	return b.String()
}
