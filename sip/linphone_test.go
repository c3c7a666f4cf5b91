package sip

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
	"github.com/callcentre/softphone/lab/linphone"
	"github.com/callcentre/softphone/lab/pulse"
)

// TestCallToLinphone: linphonec (liblinphone, a second SIP stack) as the
// remote phone through kamailio: its microphone (the private pulseaudio's
// 700 Hz source) reaches our received audio, and our 1000 Hz tone reaches
// its speaker (recorded from the pulseaudio sink monitor).
func TestCallToLinphone(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	pa := pulse.Start(t)
	carol := linphone.Start(t, linphone.Options{User: "carol", Password: "carol-pw", Registrar: k.Addr,
		AutoAnswer: true, Env: pa.Env()})
	e, s := registeredEngine(t, k, "go1", "go1-pw")
	id := domain.NewCallID()
	if err := e.Dial(id, "carol"); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answer", 20*time.Second, isAnswered(id))
	if err := carol.WaitOutput("to LinphoneCallStreamsRunning", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ca, err := e.CallAudio(id)
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	defer stop.Store(true)
	go sendTone(ca.Tx, 1000, &stop)
	readPCM(t, ca.Rx, 500*time.Millisecond) // linphone's jitter buffer settles
	pcm := readPCM(t, ca.Rx, 1500*time.Millisecond)
	if sh := baresip.ToneShare(pcm, 8000, 700); sh < 0.5 {
		t.Errorf("700 Hz share in our received audio = %.2f", sh)
	}
	rec, err := pa.Record(context.Background(), "headset.monitor", 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	in := make([]int16, len(rec))
	for i, v := range rec {
		in[i] = int16(v * 32767)
	}
	if sh := baresip.ToneShare(in, pulse.Rate, 1000); sh < 0.5 {
		t.Errorf("1000 Hz share at linphone's speaker = %.2f", sh)
	}
	stop.Store(true)
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if err := carol.WaitOutput("to LinphoneCallEnd", 10*time.Second); err != nil {
		t.Error(err)
	}
}
