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

// BenchmarkOpusCallCPU is BenchmarkCallCPU for one 30 s Opus call (48 kHz
// mono both ways, our encoder at 28 kbit/s with FEC).
func BenchmarkOpusCallCPU(b *testing.B) {
	benchCodecCall(b, "opus", "opus", "opus/48000/2", "opus.so", 30*time.Second)
}

// BenchmarkG722CallCPU is the same for one 20 s G.722 call (16 kHz both
// ways).
func BenchmarkG722CallCPU(b *testing.B) {
	benchCodecCall(b, "g722", "G722", "G722/16000/1", "g722.so", 20*time.Second)
}

// benchCodecCall places calls offering only codec straight to baresip
// (baresipCodec, its module loaded) and reports CPU (percent of one core)
// and RSS of our whole test process against the baresip process in the
// same call, metrics named after tag.
func benchCodecCall(b *testing.B, tag, codec, baresipCodec, module string, callLen time.Duration) {
	pa := pulse.Start(b)
	alice := baresip.Start(b, baresip.Options{User: "alice", Codecs: baresipCodec, Modules: []string{module},
		Player: "alsa,default", Env: pa.Env()})
	e, s := startEngine(b, Account{User: "go1", Domain: "127.0.0.1", Codecs: []string{codec}}, "x")
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
		b.ReportMetric(100*ourCPU.Seconds()/wall.Seconds(), "cpu%-"+tag+"-ours")
		b.ReportMetric(100*theirCPU.Seconds()/wall.Seconds(), "cpu%-"+tag+"-baresip")
		b.ReportMetric(float64(ourRSS)/1024, "MiB-rss-ours")
		b.ReportMetric(float64(theirRSS)/1024, "MiB-rss-baresip")
	}
}
