package agent_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/agenttest"
	"github.com/callcentre/softphone/agent/domain"
)

// fixture runs a real actor on recording fakes inside a synctest bubble:
// time is virtual, so timers fire exactly when due and the test never
// sleeps for real; the bubble also fails the test if a goroutine leaks.
type fixture struct {
	t      *testing.T
	a      *agent.Agent
	rec    *agenttest.Recorder
	cancel context.CancelFunc
	ran    chan error
}

func start(t *testing.T, opts ...agent.Option) *fixture {
	t.Helper()
	rec := agenttest.NewRecorder()
	tel, med, cl, dir := rec.Ports()
	a := agent.New(agent.Ports{Telephony: tel, Media: med, CallLog: cl, Directory: dir},
		append([]agent.Option{agent.WithInvariantChecks(true)}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	f := &fixture{t: t, a: a, rec: rec, cancel: cancel, ran: make(chan error, 1)}
	go func() { f.ran <- a.Run(ctx) }()
	return f
}

func (f *fixture) stop() {
	f.cancel()
	if err := <-f.ran; err != nil {
		f.t.Errorf("Run: %v", err)
	}
}

// settle waits until every goroutine in the bubble is blocked: the actor has
// processed everything and the watchers have drained their queues.
func (f *fixture) settle() { synctest.Wait() }

func (f *fixture) post(in domain.Input) {
	f.t.Helper()
	if err := f.a.Post(in); err != nil {
		f.t.Fatalf("post %T: %v", in, err)
	}
	f.settle()
}

func (f *fixture) do(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatalf("command: %v", err)
	}
	f.settle()
}

func (f *fixture) signIn(mods ...func(*domain.Config)) {
	f.t.Helper()
	cfg := domain.DefaultConfig()
	cfg.AutoPauseAfter = 0
	for _, m := range mods {
		m(&cfg)
	}
	f.do(f.a.Login(domain.AgentInfo{ID: "a1", Name: "Ann"}, cfg))
	f.post(domain.RegistrationChanged{State: domain.RegRegistered})
	f.do(f.a.SetStatus(domain.Status{Presence: domain.PresenceAvailable}))
	f.rec.AssertCalls(f.t, "Register")
}

func TestActorInboundCallWithTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := start(t)
		defer f.stop()
		f.signIn()

		f.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "+4930111"}})
		f.rec.AssertCalls(t, "Lookup c1", "Ringer ring")
		f.do(f.a.Answer("c1"))
		f.rec.AssertCalls(t, "Answer c1", "Ringer off")
		f.post(domain.CallAnswered{ID: "c1"})
		f.rec.AssertCalls(t, "Route [c1]")
		time.Sleep(90 * time.Second) // talk; the cancelled ring timer must not fire
		f.settle()
		f.rec.AssertCalls(t)
		f.post(domain.CallEnded{ID: "c1", Cause: domain.CauseRemoteHangup})
		f.rec.AssertCalls(t, "Route []")
		if s := f.a.Snapshot(); s.Status() != domain.StatusWrapUp {
			t.Fatalf("status %s", s.Status())
		}
		time.Sleep(59 * time.Second)
		f.settle()
		f.rec.AssertCalls(t)
		time.Sleep(2 * time.Second) // after-call work (60 s) expires: auto-wrap
		f.settle()
		f.rec.AssertCalls(t, "SaveLog c1")
		if logs := f.rec.Logs(); len(logs) != 1 || logs[0].Talk != 90*time.Second {
			t.Fatalf("logs %+v", logs)
		}
		f.post(domain.CallLogSaved{Key: "c1"})
		s := f.a.Snapshot()
		if s.Status() != domain.StatusAvailable || len(s.PendingLogs) != 0 {
			t.Fatalf("status %s pending %d", s.Status(), len(s.PendingLogs))
		}
		if ts, err := f.a.Timers(context.Background()); err != nil || len(ts) != 0 {
			t.Fatalf("timers left running: %v %v", ts, err)
		}
	})
}

func TestActorRingTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := start(t)
		defer f.stop()
		f.signIn(func(c *domain.Config) { c.RingTimeout = 20 * time.Second })
		f.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "1"}})
		f.rec.Calls()
		time.Sleep(21 * time.Second)
		f.settle()
		f.rec.AssertCalls(t, "Reject c1 480", "SaveLog c1", "Ringer off")
	})
}

func TestActorPortErrorsBecomeFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := start(t)
		defer f.stop()
		f.signIn()
		var notices []domain.Notice
		var mu sync.Mutex
		stop := f.a.Watch(context.Background(), func(n agent.Notify) {
			mu.Lock()
			notices = append(notices, n.Notices...)
			mu.Unlock()
		})
		defer stop()
		f.rec.FailNext("Dial", errors.New("no route to the proxy"))
		id, err := f.a.Dial("201")
		f.do(err)
		f.rec.AssertCalls(t, "Dial "+string(id)+" 201", "Lookup "+string(id), "SaveLog "+string(id))
		if s := f.a.Snapshot(); len(s.Calls) != 0 {
			t.Fatal("refused call left live")
		}
		mu.Lock()
		defer mu.Unlock()
		if len(notices) != 1 || notices[0].Cause != domain.CauseFailed {
			t.Fatalf("notices %+v", notices)
		}
	})
}

func TestActorWithoutPortsFailsClearly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := agent.New(agent.Ports{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { _ = a.Run(ctx); close(done) }()
		var mu sync.Mutex
		var got []string
		stop := a.Watch(ctx, func(n agent.Notify) {
			mu.Lock()
			defer mu.Unlock()
			for _, x := range n.Notices {
				got = append(got, x.Message)
			}
		})
		if err := a.Login(domain.AgentInfo{ID: "a1"}, domain.Config{}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if s := a.Snapshot(); s.Status() != domain.StatusDisconnected {
			t.Fatalf("status %s", s.Status())
		}
		mu.Lock()
		if !slices.ContainsFunc(got, func(m string) bool { return m == "Cannot connect to the phone system: no phone account is configured" }) {
			t.Fatalf("notices %q", got)
		}
		mu.Unlock()
		stop()
		cancel()
		<-done
	})
}

func TestWatchSnapshotThenOrderedDeltas(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := start(t)
		defer f.stop()
		f.signIn()
		f.post(domain.CallOffered{ID: "c1", Remote: domain.Party{Number: "1"}})

		var mu sync.Mutex
		var mirror agent.Mirror
		var seqs []uint64
		var first agent.Notify
		var notices int
		stop := f.a.Watch(context.Background(), func(n agent.Notify) {
			mu.Lock()
			defer mu.Unlock()
			if len(seqs) == 0 {
				first = n
			}
			seqs = append(seqs, n.Seq)
			notices += len(n.Notices)
			mirror.Apply(n)
		})
		defer stop()
		f.settle()
		mu.Lock()
		if !first.Initial || len(first.Calls) != 1 || first.Agent == nil || first.Agent.Status != domain.StatusOnCall {
			t.Fatalf("first notification is not a full snapshot: %+v", first)
		}
		mu.Unlock()
		// A scenario with every kind of change.
		f.do(f.a.Answer("c1"))
		f.post(domain.CallAnswered{ID: "c1"})
		k, err := f.a.Consult("c1", "201")
		f.do(err)
		f.post(domain.CallAnswered{ID: k})
		f.do(f.a.Merge(k))
		f.post(domain.CallOffered{ID: "c2", Remote: domain.Party{Number: "2"}})
		f.post(domain.CallEnded{ID: "c2"}) // missed: a notice
		f.do(f.a.SetNotes("c1", "notes"))
		f.do(f.a.EndConference("c1"))
		f.do(f.a.SetOutcome("c1", "x"))

		mu.Lock()
		defer mu.Unlock()
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+1 {
				t.Fatalf("sequence %v has a gap or reordering", seqs)
			}
		}
		if notices == 0 {
			t.Fatal("the missed-call notice did not reach the watcher")
		}
		assertMirror(t, &mirror, f.a.Snapshot())
	})
}

func assertMirror(t *testing.T, m *agent.Mirror, s domain.State) {
	t.Helper()
	if m.Agent.Status != s.Status() || m.Agent.Presence != s.Presence || m.Agent.Registration != s.Registration || m.Agent.Muted != s.Muted {
		t.Fatalf("mirror agent %+v, state status %s presence %+v", m.Agent, s.Status(), s.Presence)
	}
	if !reflect.DeepEqual(m.Calls, s.Calls) && !(len(m.Calls) == 0 && len(s.Calls) == 0) {
		t.Fatalf("mirror calls %+v\nstate calls %+v", m.Calls, s.Calls)
	}
	if len(m.Interactions) != len(s.Interactions) {
		t.Fatalf("mirror has %d interactions, state %d", len(m.Interactions), len(s.Interactions))
	}
	for _, ix := range s.Interactions {
		if got := m.Interaction(ix.Key); got == nil || !reflect.DeepEqual(*got, ix) {
			t.Fatalf("mirror interaction %s differs:\n%+v\n%+v", ix.Key, got, ix)
		}
	}
	if m.Logs.Pending != len(s.PendingLogs) {
		t.Fatalf("mirror pending logs %d, state %d", m.Logs.Pending, len(s.PendingLogs))
	}
}

func TestSlowWatcherNeverDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := start(t)
		defer f.stop()
		f.signIn()
		var mu sync.Mutex
		var mirror agent.Mirror
		var seqs []uint64
		stop := f.a.Watch(context.Background(), func(n agent.Notify) {
			time.Sleep(10 * time.Millisecond) // a slow UI
			mu.Lock()
			defer mu.Unlock()
			seqs = append(seqs, n.Seq)
			mirror.Apply(n)
		})
		defer stop()
		// A fast producer: the actor never waits for the watcher.
		for i := 0; i < 300; i++ {
			id := domain.CallID("c" + string(rune('A'+i%26)) + string(rune('a'+i/26)))
			if err := f.a.Post(domain.CallOffered{ID: id, Remote: domain.Party{Number: "1"}}); err != nil {
				t.Fatal(err)
			}
			if err := f.a.Post(domain.CallEnded{ID: id}); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.a.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
		// The actor is done long before the slow watcher; wait (in virtual
		// time) until it has caught up.
		final := f.a.Seq()
		for {
			mu.Lock()
			caught := mirror.Seq == final
			mu.Unlock()
			if caught {
				break
			}
			time.Sleep(time.Second)
		}
		mu.Lock()
		defer mu.Unlock()
		for i := 1; i < len(seqs); i++ {
			if seqs[i] != seqs[i-1]+1 {
				t.Fatalf("gap after %d", seqs[i-1])
			}
		}
		if len(seqs) < 600 {
			t.Fatalf("%d notifications for 600 changes", len(seqs))
		}
		assertMirror(t, &mirror, f.a.Snapshot())
	})
}

func TestCommandsNeverBlock(t *testing.T) {
	a := agent.New(agent.Ports{}, agent.WithInboxSize(2), agent.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err := a.Mute(true); err != nil {
		t.Fatal(err)
	}
	if err := a.Mute(true); err != nil {
		t.Fatal(err)
	}
	if err := a.Mute(true); !errors.Is(err, agent.ErrBusy) {
		t.Fatalf("full inbox: %v, want ErrBusy", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = a.Run(ctx); close(done) }()
	if err := a.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if err := a.Hangup("x"); !errors.Is(err, agent.ErrStopped) {
		t.Fatalf("after stop: %v", err)
	}
	if err := a.Post(domain.CallAnswered{ID: "x"}); !errors.Is(err, agent.ErrStopped) {
		t.Fatalf("post after stop: %v", err)
	}
	if err := a.Run(context.Background()); err == nil {
		t.Fatal("Run twice succeeded")
	}
}

func TestWatchEndsWithAgent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := start(t)
		var got atomic.Int64
		stop := f.a.Watch(context.Background(), func(agent.Notify) { got.Add(1) })
		f.signIn()
		f.stop()
		stop() // returns although the agent is gone
		if got.Load() == 0 {
			t.Fatal("watcher got nothing")
		}
	})
}
