package desktop

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"
)

// Watcher detects a resume from sleep and network changes by polling, so
// it needs no OS notification API: every Interval it compares how far the
// wall clock and the monotonic clock moved (Linux and macOS stop the
// monotonic clock during sleep, so the wall clock jumps ahead), how late
// the tick itself came (Windows keeps the monotonic clock running through
// sleep, so the tick fires far too late), and a fingerprint of the network
// interfaces that are up and their addresses.
type Watcher struct {
	// Interval between polls (default 5 s).
	Interval time.Duration
	// Slack is how much a poll may be off before it counts as a resume
	// (default 15 s).
	Slack time.Duration
	// OnResume is called after a resume from sleep.
	OnResume func()
	// OnNetworkChange is called when interfaces or addresses change.
	OnNetworkChange func()
	// Logger is the logger (default slog.Default()).
	Logger *slog.Logger

	// clock and interfaces are replaced by tests: clock returns the wall
	// clock and the monotonic time since an arbitrary start.
	clock      func() (time.Time, time.Duration)
	interfaces func() (string, error)
}

// Run polls until ctx ends; it calls the callbacks from its own goroutine.
func (w *Watcher) Run(ctx context.Context) {
	interval, slack := w.Interval, w.Slack
	if interval <= 0 {
		interval = 5 * time.Second
	}
	if slack <= 0 {
		slack = 15 * time.Second
	}
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	clock, ifs := w.clock, w.interfaces
	if clock == nil {
		start := time.Now()
		clock = func() (time.Time, time.Duration) { t := time.Now(); return t.Round(0), t.Sub(start) }
	}
	if ifs == nil {
		ifs = netFingerprint
	}
	lastWall, lastMono := clock()
	net0, _ := ifs()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		curWall, curMono := clock()
		wall, mono := curWall.Sub(lastWall), curMono-lastMono
		lastWall, lastMono = curWall, curMono
		if wall-mono > slack || mono > interval+slack {
			log.Info("resume from sleep detected", "wall", wall.Round(time.Second), "monotonic", mono.Round(time.Second))
			if w.OnResume != nil {
				w.OnResume()
			}
		}
		n, err := ifs()
		if err != nil {
			log.Debug("cannot list network interfaces", "error", err)
			continue
		}
		if n != net0 {
			net0 = n
			log.Info("network change detected")
			if w.OnNetworkChange != nil {
				w.OnNetworkChange()
			}
		}
	}
}

// netFingerprint describes the interfaces that are up and their addresses.
func netFingerprint() (string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	var parts []string
	for _, i := range ifs {
		if i.Flags&net.FlagUp == 0 || i.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := i.Addrs()
		if err != nil {
			return "", err
		}
		for _, a := range addrs {
			parts = append(parts, i.Name+"="+a.String())
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ","), nil
}
