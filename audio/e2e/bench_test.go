//go:build cgo && !noportaudio

package e2e_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/lab/kamailio"
	"github.com/callcentre/softphone/lab/pulse"
)

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// selfSwitches counts the context switches of this process's threads: its
// wake-ups, a figure the machine's speed does not move.
func selfSwitches() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Nvcsw + ru.Nivcsw
}

// procSwitches counts the context switches of process pid's threads.
func procSwitches(pid int) int64 {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/status")
	var n int64
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.HasSuffix(k, "voluntary_ctxt_switches") {
				c, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				n += c
			}
		}
	}
	return n
}

// procCPU is the user+system CPU time of process pid (Linux /proc).
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
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func freeUDPPair(t testing.TB) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port
		_ = c.Close()
		ok := true
		for _, q := range []int{p, p + 1} {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(q))
			if err != nil {
				ok = false
				break
			}
			_ = l.Close()
		}
		if ok && p < 65000 {
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

// baresipPulse starts a baresip "bob" that auto-answers and uses ALSA
// "default" -> pulse plugin -> the private pulseaudio (microphone
// mic.monitor, speaker the ringer sink): baresip's "pulse" profile in
// lab/peers, the same path our PortAudio streams take.
func baresipPulse(t testing.TB, k *kamailio.Server, srv *pulse.Server) *exec.Cmd {
	t.Helper()
	dir := t.TempDir()
	port := freeUDPPair(t)
	mods := "/usr/lib/baresip/modules"
	if m, _ := filepath.Glob("/usr/lib/*/baresip/modules"); len(m) > 0 {
		mods = m[0]
	}
	rtp := 30000 + (port%300)*100
	cfg := fmt.Sprintf("poll_method epoll\nsip_listen 127.0.0.1:%d\nnet_interface 127.0.0.1\n"+
		"audio_player alsa,default\naudio_source alsa,default\naudio_alert alsa,default\n"+
		"ausrc_srate 48000\nauplay_srate 48000\nausrc_channels 1\nauplay_channels 1\n"+
		"rtp_ports %d-%d\nmodule_path %s\nmodule g711.so\nmodule alsa.so\nmodule_tmp account.so\n"+
		"statmode_default off\n", port, rtp, rtp+99, mods)
	acc := fmt.Sprintf("<sip:bob@%s>;auth_pass=bob-pw;answermode=auto;regint=600;outbound=\"sip:%s\";audio_codecs=PCMU/8000/1\n", k.Addr, k.Addr)
	for name, body := range map[string]string{"config": cfg, "accounts": acc, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("baresip", "-f", dir)
	cmd.Env = append(srv.Env(), "HOME="+dir, "PULSE_SOURCE=mic.monitor", "PULSE_SINK=ringer")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	k.WaitRegistered(t, "bob", 15*time.Second)
	return cmd
}

// BenchmarkCallCPUWithAudio measures one 10 s G.711 call from our full media
// stack (sip engine + audio engine, PortAudio -> ALSA -> pulse plugin ->
// private pulseaudio; the whole test process) to a baresip using the same
// ALSA -> pulse path, side by side: "processing" with the echo canceller and
// AGC on (the lab microphone is a steady sine, so noise suppression is off
// in stackK), "no-processing" with all three off, the processing baresip's
// configuration runs (none).
func BenchmarkCallCPUWithAudio(b *testing.B) {
	srv, k, _, tel, media, events := stackK(b)
	bob := baresipPulse(b, k, srv)
	withProc := media.Settings()
	noProc := withProc
	noProc.EchoCancel, noProc.NoiseSuppress, noProc.AutoGain = false, false, false
	for _, c := range []struct {
		name string
		set  audio.Settings
	}{{"processing", withProc}, {"no-processing", noProc}} {
		b.Run(c.name, func(b *testing.B) {
			media.ApplySettings(c.set)
			for range b.N {
				id := domain.NewCallID()
				if err := tel.Dial(id, "bob"); err != nil {
					b.Fatal(err)
				}
				events.wait(b, "answer", func(in domain.Input) bool { a, ok := in.(domain.CallAnswered); return ok && a.ID == id })
				media.SetAudioRoute([]domain.CallID{id})
				time.Sleep(3 * time.Second) // opening an ALSA capture through pulse costs CPU once
				under0 := media.Stats().Underruns
				ours, theirs, t0 := selfCPU(), procCPU(bob.Process.Pid), time.Now()
				oursSw, theirsSw := selfSwitches(), procSwitches(bob.Process.Pid)
				time.Sleep(10 * time.Second)
				wall := time.Since(t0)
				ours, theirs = selfCPU()-ours, procCPU(bob.Process.Pid)-theirs
				oursSw, theirsSw = selfSwitches()-oursSw, procSwitches(bob.Process.Pid)-theirsSw
				under := media.Stats().Underruns - under0
				media.SetAudioRoute(nil)
				_ = tel.Hangup(id)
				// A local hang-up posts nothing: wait until the call is gone,
				// so the next call's window starts without this one.
				for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
					if _, err := tel.CallAudio(id); err != nil {
						break
					}
					if time.Now().After(deadline) {
						b.Fatal("the call was not gone 20 s after hanging up")
					}
				}
				b.ReportMetric(100*ours.Seconds()/wall.Seconds(), "cpu%-ours-sip+audio")
				b.ReportMetric(100*theirs.Seconds()/wall.Seconds(), "cpu%-baresip-pulse")
				b.ReportMetric(float64(oursSw)/wall.Seconds(), "switches/s-ours")
				b.ReportMetric(float64(theirsSw)/wall.Seconds(), "switches/s-baresip")
				b.ReportMetric(float64(under), "underruns")
			}
		})
	}
}
