package sip

import (
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/pulse"
)

// BenchmarkG722CallCPU is BenchmarkOpusCallCPU for one 20 s G.722 call
// (16 kHz both ways), placed straight to baresip: CPU (percent of one
// core) and RSS of our whole test process against the baresip process
// in the same call.
func BenchmarkG722CallCPU(b *testing.B) {
	const callLen = 20 * time.Second
	pa := pulse.Start(b)
	alice := baresip.Start(b, baresip.Options{User: "alice", Codecs: "G722/16000/1", Modules: []string{"g722.so"},
		Player: "alsa,default", Env: pa.Env()})
	e, s := startEngine(b, Account{User: "go1", Domain: "127.0.0.1", Codecs: []string{"G722"}}, "x")
	for i := 0; i < b.N; i++ {
		id := domain.NewCallID()
		if err := e.Dial(id, alice.URI); err != nil {
			b.Fatal(err)
		}
		s.wait(b, "answer", 15*time.Second, isAnswered(id))
		ca, err := e.CallAudio(id)
		if err != nil {
			b.Fatal(err)
		}
		var stop atomic.Bool
		go sendToneAt(ca.Tx, ca.SampleRate, 1000, &stop)
		go func() {
			buf := make([]byte, 2*ca.FrameSize)
			for !stop.Load() {
				if _, err := ca.Rx.Read(buf); err != nil {
					return
				}
			}
		}()
		time.Sleep(time.Second) // settle: a measurement window, not synchronisation
		ourStart, theirStart, t0 := selfCPU(), procCPU(alice.Pid()), time.Now()
		time.Sleep(callLen)
		wall := time.Since(t0)
		ourCPU, theirCPU := selfCPU()-ourStart, procCPU(alice.Pid())-theirStart
		ourRSS, theirRSS := rssKiB(os.Getpid()), rssKiB(alice.Pid())
		stop.Store(true)
		_ = e.Hangup(id)
		if _, err := alice.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(100*ourCPU.Seconds()/wall.Seconds(), "cpu%-g722-ours")
		b.ReportMetric(100*theirCPU.Seconds()/wall.Seconds(), "cpu%-g722-baresip")
		b.ReportMetric(float64(ourRSS)/1024, "MiB-rss-ours")
		b.ReportMetric(float64(theirRSS)/1024, "MiB-rss-baresip")
	}
}
