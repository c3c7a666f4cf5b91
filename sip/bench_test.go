package sip

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
	"github.com/callcentre/softphone/lab/pulse"
)

// BenchmarkCallSetup compares call setup through kamailio (407 proxy auth)
// to the same auto-answering baresip: ours is INVITE sent to 200 OK
// processed; baresip's is its dial command to its CALL_ESTABLISHED event
// (which includes the ctrl_tcp round trip, so it is slightly pessimistic).
func BenchmarkCallSetup(b *testing.B) {
	k := kamailio.Start(b, kamailio.Options{})
	alice := baresip.Start(b, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr})
	bob := baresip.Start(b, baresip.Options{User: "bob", Password: "bob-pw", Registrar: k.Addr})
	e, s := startEngine(b, Account{User: "go1", Domain: k.Addr}, "go1-pw")
	if err := e.Register(); err != nil {
		b.Fatal(err)
	}
	s.wait(b, "registered", 10*time.Second, isReg(domain.RegRegistered))
	var ours, theirs time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := domain.NewCallID()
		if err := e.Dial(id, "alice"); err != nil {
			b.Fatal(err)
		}
		s.wait(b, "answer", 15*time.Second, isAnswered(id))
		ours += e.LastSetupTime()
		if _, err := alice.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
			b.Fatal(err)
		}
		_ = e.Hangup(id)
		if _, err := alice.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			b.Fatal(err)
		}

		start := time.Now()
		if _, err := bob.Command("dial", "sip:alice@"+k.Addr); err != nil {
			b.Fatal(err)
		}
		if _, err := bob.WaitEvent("CALL_ESTABLISHED", 10*time.Second); err != nil {
			b.Fatal(err)
		}
		theirs += time.Since(start)
		if _, err := bob.Command("hangup", ""); err != nil {
			b.Fatal(err)
		}
		if _, err := alice.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			b.Fatal(err)
		}
		if _, err := bob.WaitEvent("CALL_CLOSED", 10*time.Second); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(ours.Microseconds())/float64(b.N)/1000, "ms-setup-ours")
	b.ReportMetric(float64(theirs.Microseconds())/float64(b.N)/1000, "ms-setup-baresip")
}

// BenchmarkCallCPU measures CPU (percent of one core) and RSS during one
// 30 s G.711 call with audio both ways: our engine (the whole test
// process, so an upper bound; it decodes and encodes PCM but plays to no
// device) against the baresip process in the same call. baresip plays to
// a private pulseaudio null sink through ALSA's pulse plugin (the
// pulseaudio daemon's own CPU is not counted): its default test player,
// ALSA's null device, busy-loops and made baresip look like 90 % of a core.
func BenchmarkCallCPU(b *testing.B) {
	const callLen = 30 * time.Second
	k := kamailio.Start(b, kamailio.Options{})
	pa := pulse.Start(b)
	alice := baresip.Start(b, baresip.Options{User: "alice", Password: "alice-pw", Registrar: k.Addr,
		Player: "alsa,default", Env: pa.Env()})
	e, s := startEngine(b, Account{User: "go1", Domain: k.Addr}, "go1-pw")
	if err := e.Register(); err != nil {
		b.Fatal(err)
	}
	s.wait(b, "registered", 10*time.Second, isReg(domain.RegRegistered))
	for i := 0; i < b.N; i++ {
		id := domain.NewCallID()
		if err := e.Dial(id, "alice"); err != nil {
			b.Fatal(err)
		}
		s.wait(b, "answer", 15*time.Second, isAnswered(id))
		ca, err := e.CallAudio(id)
		if err != nil {
			b.Fatal(err)
		}
		var stop atomic.Bool
		go sendTone(ca.Tx, 1000, &stop)
		go func() {
			buf := make([]byte, 320)
			for !stop.Load() {
				if _, err := ca.Rx.Read(buf); err != nil {
					return
				}
			}
		}()
		time.Sleep(time.Second) // settle
		ourStart, theirStart, t0 := selfCPU(), procCPU(alice.Pid()), time.Now()
		time.Sleep(callLen)
		wall := time.Since(t0)
		ourCPU, theirCPU := selfCPU()-ourStart, procCPU(alice.Pid())-theirStart
		ourRSS, theirRSS := rssKiB(os.Getpid()), rssKiB(alice.Pid())
		stop.Store(true)
		_ = e.Hangup(id)
		b.ReportMetric(100*ourCPU.Seconds()/wall.Seconds(), "cpu%-ours")
		b.ReportMetric(100*theirCPU.Seconds()/wall.Seconds(), "cpu%-baresip")
		b.ReportMetric(float64(ourRSS)/1024, "MiB-rss-ours")
		b.ReportMetric(float64(theirRSS)/1024, "MiB-rss-baresip")
	}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU reads utime+stime of pid from /proc (clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

func rssKiB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	return 0
}
