//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

// idleWindow is how long each idle GUI is measured.
const idleWindow = 30 * time.Second

// bareArg makes the test binary, started as the app, show the bare
// window instead (see TestMain): the toolkit's own floor.
const bareArg = "-figures-bare-window"

// runBareWindow is a minimal Fyne app: one window (titled like ours, so
// the same helpers find it) with one label, nothing else of ours. It
// prints the started event as the app's -trace does.
func runBareWindow() {
	start := time.Now()
	a := app.NewWithID("io.callcentre.softphone.bare")
	w := a.NewWindow("Softphone")
	w.SetContent(widget.NewLabel("Hello"))
	w.Resize(fyne.NewSize(900, 640))
	a.Lifecycle().SetOnStarted(func() {
		_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"event": "started", "ms": time.Since(start).Milliseconds(), "pid": os.Getpid()})
	})
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); fyne.Do(a.Quit) }()
	w.ShowAndRun()
}

// guiFigures are one GUI's start-up and idle figures.
type guiFigures struct {
	mapped, started, first time.Duration
	cpuPct, rssMB          float64
	anonMB, fileMB         float64 // the RSS's anonymous memory (heaps, stacks, GL buffers) and mapped files (libraries, fonts)
}

// measureGUI starts the program (args: the app's flags, or bareArg)
// on x and measures it: the time from launch to the mapped window, to
// Fyne's started event and to the first painted frame (screen polled
// with xwd, so an upper bound), then the CPU share of one core over
// idleWindow and the RSS at its end, after a 3 s settle.
func measureGUI(b *testing.B, x *xserver, args ...string) guiFigures {
	b.Helper()
	var f guiFigures
	launch := time.Now()
	a := startApp(b, x, args...)
	waitWindow(b, x, a)
	f.mapped = time.Since(launch)
	started := a.waitTrace(b, "the started event", 60*time.Second, func(l traceLine) bool { return l.Event == "started" })
	f.started = time.Duration(started.MS) * time.Millisecond
	shot := filepath.Join(b.TempDir(), "first.png")
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if painted(x.shot(b, shot, 900, 640)) {
			f.first = time.Since(launch)
			break
		}
	}
	if f.first == 0 {
		b.Fatal("never painted")
	}
	time.Sleep(3 * time.Second) // settle: fonts, caches, the first GCs (a figure, not a wait for a condition)
	cpu0, at0 := cpuTicks(b, started.PID), time.Now()
	time.Sleep(idleWindow)
	cpu1, at1 := cpuTicks(b, started.PID), time.Now()
	const hz = 100 // USER_HZ on Linux
	f.cpuPct = 100 * float64(cpu1-cpu0) / hz / at1.Sub(at0).Seconds()
	st := procStatus(b, started.PID)
	f.rssMB, f.anonMB, f.fileMB = float64(st["VmRSS"])/1024, float64(st["RssAnon"])/1024, float64(st["RssFile"]+st["RssShmem"])/1024
	_ = a.signal(15)
	select {
	case <-a.done:
	case <-time.After(60 * time.Second):
		b.Fatal("the GUI did not end within 60 s of SIGTERM")
	}
	return f
}

// BenchmarkGUIStartAndIdle starts the real program under Xvfb (software
// GL) and reports the time from launch to the mapped window, to Fyne's
// started event and to the first painted frame, then the CPU share of
// one core and the RSS while it sits signed out and idle; then the same
// idle figures of a bare Fyne window (one label) on the same display and
// GL, the toolkit's floor, side by side (bare-*). Run it without -race
// (make ui-figures): under the race detector the figures mean nothing.
func BenchmarkGUIStartAndIdle(b *testing.B) {
	needPrograms(b, "Xvfb", "xdotool", "xwd", "dbus-run-session")
	for range b.N {
		x := startX(b)
		ours := measureGUI(b, x)
		bare := measureGUI(b, x, bareArg)
		b.ReportMetric(float64(ours.mapped.Milliseconds()), "window-ms")
		b.ReportMetric(float64(ours.started.Milliseconds()), "started-ms")
		b.ReportMetric(float64(ours.first.Milliseconds()), "first-frame-ms")
		b.ReportMetric(ours.cpuPct, "idle-cpu-%")
		b.ReportMetric(ours.rssMB, "rss-MB")
		b.ReportMetric(bare.cpuPct, "bare-idle-cpu-%")
		b.ReportMetric(bare.rssMB, "bare-rss-MB")
		fmt.Printf("GUI idle over %v (Xvfb, software GL): softphone %.2f %% of a core, RSS %.0f MB; bare Fyne window %.2f %%, RSS %.0f MB; above the floor %+.2f %%, %+.0f MB (goal: at most 1 %%, 150 MB)\n",
			idleWindow, ours.cpuPct, ours.rssMB, bare.cpuPct, bare.rssMB, ours.cpuPct-bare.cpuPct, ours.rssMB-bare.rssMB)
		fmt.Printf("RSS split: softphone %.0f MB anonymous + %.0f MB mapped files; bare Fyne window %.0f + %.0f MB\n",
			ours.anonMB, ours.fileMB, bare.anonMB, bare.fileMB)
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

// procStatus returns the kB figures of /proc/<pid>/status (VmRSS,
// RssAnon, RssFile, RssShmem, ...).
func procStatus(b *testing.B, pid int) map[string]int64 {
	b.Helper()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		b.Fatal(err)
	}
	st := map[string]int64{}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if v, isKB := strings.CutSuffix(strings.TrimSpace(v), " kB"); ok && isKB {
			st[k], _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if st["VmRSS"] == 0 {
		b.Fatal("no VmRSS")
	}
	return st
}
