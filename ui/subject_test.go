package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// TestDefaultSubjectReachesTheCallLog: the subject saved in the settings
// is the subject of the call log the core hands to the store (and from
// there to the CRM), for a call wrapped up on the screen.
func TestDefaultSubjectReachesTheCallLog(t *testing.T) {
	r := newRig(t)
	r.settings.s.DefaultSubject = "Hotline support"
	r.d.loadSettings()
	r.settle()
	r.signIn()
	r.answerCall("c1", domain.Party{Number: "+4930111"})
	r.tap(r.d.call.hangup)
	r.rec.WaitFor(t, "Hangup c1", effectWait)
	r.post(domain.CallEnded{ID: "c1", Cause: domain.CauseLocalHangup})
	r.wantScreen(viewmodel.ScreenWrapUp)
	r.d.wrap.outcome.SetSelected("Resolved")
	r.settle()
	test.Tap(r.d.wrap.done)
	r.rec.WaitFor(t, "SaveLog c1", effectWait)
	logs := r.rec.Logs()
	if len(logs) != 1 || logs[0].Subject != "Hotline support" {
		t.Fatalf("call log %+v", logs)
	}
}
