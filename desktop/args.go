package desktop

import (
	"fmt"
	"strings"

	"github.com/callcentre/softphone/agent/domain"
)

// Verbs of a Request.
const (
	VerbDial   = "dial"
	VerbAnswer = "answer"
	VerbHangup = "hangup"
	VerbStatus = "status"
	// VerbShow is a plain second launch: the running instance raises its
	// window (see Instance.OnShow); an instance without a window answers
	// with its status.
	VerbShow = "show"
)

// Request is what a second launch (or a verb on the command line) asks the
// running instance to do.
type Request struct {
	Verb   string `json:"verb"`
	Target string `json:"target,omitempty"` // dial: the normalised target
	Link   bool   `json:"link,omitempty"`   // dial: came from a clicked link (may need confirmation)
}

// Response is the running instance's answer.
type Response struct {
	OK      bool   `json:"ok"`
	Message string `json:"message"`
}

// IsLink reports whether arg is a tel:, sip:, sips: or callto: link.
func IsLink(arg string) bool {
	l := strings.ToLower(strings.TrimSpace(arg))
	for _, p := range []string{"tel:", "sip:", "sips:", "callto:"} {
		if strings.HasPrefix(l, p) {
			return true
		}
	}
	return false
}

// ParseArgs reads the command line (without the program name). ok is
// false when the arguments are not a verb or link, so the app starts
// normally. A link or "call NUMBER" is normalised with
// domain.NormalizeDialString; a bad number is an error.
func ParseArgs(args []string) (req Request, ok bool, err error) {
	if len(args) == 0 {
		return Request{}, false, nil
	}
	switch args[0] {
	case "call":
		if len(args) != 2 {
			return Request{}, true, ErrUsage
		}
		t, err := domain.NormalizeDialString(args[1])
		if err != nil {
			return Request{}, true, fmt.Errorf("call %q: %w", args[1], err)
		}
		return Request{Verb: VerbDial, Target: t}, true, nil
	case "answer", "hangup", "status":
		if len(args) != 1 {
			return Request{}, true, ErrUsage
		}
		return Request{Verb: args[0]}, true, nil
	}
	if len(args) == 1 && IsLink(args[0]) {
		t, err := domain.NormalizeDialString(args[0])
		if err != nil {
			return Request{}, true, fmt.Errorf("link: %w", err)
		}
		return Request{Verb: VerbDial, Target: t, Link: true}, true, nil
	}
	return Request{}, false, nil
}
