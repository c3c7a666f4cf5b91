//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// idleWindow is how long the idle GUI is measured.
const idleWindow = 20 * time.Second

// BenchmarkGUIStartAndIdle starts the real program under Xvfb (software
// GL) and reports the time from launch to the mapped window, to Fyne's
// started event and to the first painted frame (screen polled with xwd,
// so an upper bound), then the CPU share of one core and the RSS while it
// sits signed out and idle for 20 s. Run it without -race (make bench):
// under the race detector the figures mean nothing.
func BenchmarkGUIStartAndIdle(b *testing.B) {
	needPrograms(b, "Xvfb", "xdotool", "xwd", "dbus-run-session")
	for range b.N {
		x := startX(b)
		launch := time.Now()
		a := startApp(b, x)
		waitWindow(b, x, a)
		mapped := time.Since(launch)
		started := a.waitTrace(b, "the started event", 60*time.Second, func(l traceLine) bool { return l.Event == "started" })
		shot := filepath.Join(b.TempDir(), "first.png")
		var first time.Duration
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			if painted(x.shot(b, shot, 900, 640)) {
				first = time.Since(launch)
				break
			}
		}
		if first == 0 {
			b.Fatal("never painted")
		}
		time.Sleep(3 * time.Second) // settle: fonts, caches, the first GCs
		cpu0, at0 := cpuTicks(b, started.PID), time.Now()
		time.Sleep(idleWindow)
		cpu1, at1 := cpuTicks(b, started.PID), time.Now()
		const hz = 100 // USER_HZ on Linux
		cpuPct := 100 * float64(cpu1-cpu0) / hz / at1.Sub(at0).Seconds()
		b.ReportMetric(float64(mapped.Milliseconds()), "window-ms")
		b.ReportMetric(float64(started.MS), "started-ms")
		b.ReportMetric(float64(first.Milliseconds()), "first-frame-ms")
		b.ReportMetric(cpuPct, "idle-cpu-%")
		b.ReportMetric(float64(rssKB(b, started.PID))/1024, "rss-MB")
		_ = a.signal(15)
		<-a.done
	}
}

// cpuTicks returns utime+stime of a process in clock ticks.
func cpuTicks(b *testing.B, pid int) int64 {
	b.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which may contain spaces).
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ut + st
}

// rssKB returns the resident set size of a process in KiB.
func rssKB(b *testing.B, pid int) int64 {
	b.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
