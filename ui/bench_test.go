package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/agenttest"
	"github.com/callcentre/softphone/agent/domain"
)

// BenchmarkCoreEventToFrame measures the time from an adapter event posted
// to the real core until the desk shows it: the actor step, the watcher
// queue, the dispatcher (a goroutine standing in for Fyne's, as fyne.Do
// feeds it), the view model and the widget updates ("render-ms"), plus a
// full paint of the 900x640 window by Fyne's software painter
// ("softpaint-ms": a pessimistic bound; the GL driver redraws on its next
// 60 Hz tick and only what changed).
func BenchmarkCoreEventToFrame(b *testing.B) {
	test.NewTempApp(b)
	rec := agenttest.NewRecorder()
	tel, med, cl, dir := rec.Ports()
	a := agent.New(agent.Ports{Telephony: tel, Media: med, CallLog: cl, Directory: dir})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = a.Run(ctx) }()

	ui := make(chan func(), 1024)
	d := New(a, domain.DefaultConfig(), WithDispatcher(func(fn func()) { ui <- fn }), WithoutTicker())
	w := test.NewTempWindow(b, d.Content())
	w.Resize(fyne.NewSize(900, 640))
	d.Bind(w)
	go func() { // the "UI goroutine"
		for fn := range ui {
			fn()
		}
	}()
	do := func(fn func()) { done := make(chan struct{}); ui <- func() { fn(); close(done) }; <-done }
	d.Start(ctx)
	defer d.Stop()
	if err := a.Login(domain.AgentInfo{ID: "a1"}, domain.DefaultConfig()); err != nil {
		b.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(a.Post(domain.RegistrationChanged{State: domain.RegRegistered}))
	must(a.SetStatus(domain.Status{Presence: domain.PresenceAvailable}))
	waitScreen := func(want bool) time.Time {
		for {
			var ok bool
			do(func() { ok = (d.view.Incoming != nil) == want })
			if ok {
				return time.Now()
			}
			time.Sleep(20 * time.Microsecond)
		}
	}
	var render, frame time.Duration
	b.ResetTimer()
	for i := range b.N {
		id := domain.CallID("c" + string(rune('a'+i%26)) + time.Now().Format("150405.000000000"))
		start := time.Now()
		must(a.Post(domain.CallOffered{ID: id, Remote: domain.Party{Number: "+4930111", Name: "Bob"}}))
		shown := waitScreen(true)
		do(func() { w.Canvas().Capture() })
		painted := time.Now()
		render += shown.Sub(start)
		frame += painted.Sub(start)
		must(a.Post(domain.CallEnded{ID: id, Cause: domain.CauseMissed}))
		waitScreen(false)
	}
	b.StopTimer()
	b.ReportMetric(float64(render.Microseconds())/1000/float64(b.N), "render-ms")
	b.ReportMetric(float64(frame.Microseconds())/1000/float64(b.N), "softpaint-ms")
}
