package linphone_test

import (
	"testing"
	"time"

	"github.com/callcentre/softphone/lab/kamailio"
	"github.com/callcentre/softphone/lab/linphone"
	"github.com/callcentre/softphone/lab/pulse"
)

// TestCallBetweenLinphones: two linphonec registered at kamailio; carol
// calls bob, who answers automatically; carol hangs up.
func TestCallBetweenLinphones(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	pa := pulse.Start(t)
	bob := linphone.Start(t, linphone.Options{User: "bob", Password: "bob-pw", Registrar: k.Addr, AutoAnswer: true, Env: pa.Env()})
	carol := linphone.Start(t, linphone.Options{User: "carol", Password: "carol-pw", Registrar: k.Addr, Env: pa.Env()})
	if err := carol.Command("call sip:bob@" + k.Addr); err != nil {
		t.Fatal(err)
	}
	if err := carol.WaitOutput("to LinphoneCallStreamsRunning", 20*time.Second); err != nil {
		t.Fatalf("%v\ncarol: %s", err, carol.Log()[max(0, len(carol.Log())-6000):])
	}
	if err := carol.Command("terminate"); err != nil {
		t.Fatal(err)
	}
	if err := bob.WaitOutput("to LinphoneCallEnd", 15*time.Second); err != nil {
		t.Fatalf("%v", err)
	}
	if err := carol.Command("bad\ncommand"); err == nil {
		t.Error("a two-line command was accepted")
	}
}
