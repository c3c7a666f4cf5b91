package sip

import (
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
)

// TestDisplayNameReachesFarEnd: the account's display name (non-ASCII,
// or with quotes and a backslash, sent as quoted-pairs) is what the
// called phone shows, through kamailio.
func TestDisplayNameReachesFarEnd(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	alice := baresip.Start(t, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr, ToneHz: 440})
	for _, name := range []string{"Agent Zoë 7", `Desk "B" \ 12`} {
		t.Run(name, func(t *testing.T) {
			e, s := startEngine(t, Account{User: "go1", Domain: k.Addr, DisplayName: name}, "go1-pw")
			if err := e.Register(); err != nil {
				t.Fatal(err)
			}
			s.wait(t, "registered", 15*time.Second, isReg(domain.RegRegistered))
			id := domain.NewCallID()
			if err := e.Dial(id, "alice"); err != nil {
				t.Fatal(err)
			}
			s.wait(t, "answer", 15*time.Second, isAnswered(id))
			ev, err := alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			// baresip shows the quoted-string's inside as received
			// (quoted-pairs not undone); before quoting, the second name
			// made the registrar refuse our REGISTER (400 Invalid From).
			if got := unquoteDisplayName(ev.PeerName); got != name {
				t.Errorf("the phone shows %q, want %q", ev.PeerName, name)
			}
			if err := e.Hangup(id); err != nil {
				t.Fatal(err)
			}
			if _, err := alice.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
				t.Fatal(err)
			}
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
