package audio

import (
	"math/rand"
	"testing"
	"time"
)

const jbRate, jbFrame = 8000, 160

func frameOf(seq int) []float32 {
	f := make([]float32, jbFrame)
	for i := range f {
		f[i] = float32(seq%1000+1) / 1000
	}
	return f
}

// seqOf decodes which frame a played frame was.
func seqOf(f []float32) int { return int(f[0]*1000+0.5) - 1 }

func TestJitterReorders(t *testing.T) {
	j := NewJitterBuffer(jbRate, jbFrame, 20*time.Millisecond, 200*time.Millisecond)
	t0 := time.Unix(0, 0)
	order := []int{0, 2, 1, 3, 5, 4, 7, 6, 8, 9, 11, 10, 12, 13, 14, 15}
	out := make([]float32, jbFrame)
	var played []int
	for i, s := range order {
		j.Put(uint32(s*jbFrame), frameOf(s), t0.Add(time.Duration(i)*20*time.Millisecond))
		if i >= 2 {
			if k := j.Get(out); k == FrameNormal {
				played = append(played, seqOf(out))
			}
		}
	}
	for k := j.Get(out); k == FrameNormal; k = j.Get(out) {
		played = append(played, seqOf(out))
	}
	for i, s := range played {
		if s != i {
			t.Fatalf("played %v, want 0..15 in order", played)
		}
	}
	if len(played) != 16 {
		t.Fatalf("played %d frames: %v", len(played), played)
	}
}

func TestJitterConcealsLoss(t *testing.T) {
	j := NewJitterBuffer(jbRate, jbFrame, 20*time.Millisecond, 200*time.Millisecond)
	t0 := time.Unix(0, 0)
	out := make([]float32, jbFrame)
	kinds := map[FrameKind]int{}
	for s := 0; s < 100; s++ {
		if s%10 != 5 { // lose every tenth frame
			j.Put(uint32(s*jbFrame), frameOf(s), t0.Add(time.Duration(s)*20*time.Millisecond))
		}
		k := j.Get(out)
		kinds[k]++
		if k == FrameConcealed && out[0] == 0 {
			t.Fatal("concealed frame is silent")
		}
	}
	st := j.Stats()
	if st.Concealed < 9 || st.Concealed > 12 {
		t.Fatalf("concealed %d frames, want about 10 (stats %+v, kinds %v)", st.Concealed, st, kinds)
	}
	if st.Played < 85 {
		t.Fatalf("played %d, want >= 85 (%+v)", st.Played, st)
	}
}

// TestJitterAdaptsToJitter sends frames with up to 80 ms of random delay and
// checks the target grows, most frames play, and the target stays bounded.
func TestJitterAdaptsToJitter(t *testing.T) {
	j := NewJitterBuffer(jbRate, jbFrame, 20*time.Millisecond, 200*time.Millisecond)
	rng := rand.New(rand.NewSource(1))
	t0 := time.Unix(0, 0)
	type pkt struct {
		seq int
		at  time.Duration
	}
	var pkts []pkt
	for s := 0; s < 1500; s++ {
		pkts = append(pkts, pkt{s, time.Duration(s)*20*time.Millisecond + time.Duration(rng.Intn(80))*time.Millisecond})
	}
	out := make([]float32, jbFrame)
	next := 0
	// Play-out clock ticks every 20 ms; deliver packets in arrival order.
	for tick := 0; tick < 1520; tick++ {
		now := time.Duration(tick) * 20 * time.Millisecond
		for {
			best := -1
			for i := next; i < len(pkts) && i < next+10; i++ {
				if pkts[i].at <= now && (best < 0 || pkts[i].at < pkts[best].at) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			p := pkts[best]
			j.Put(uint32(p.seq*jbFrame), frameOf(p.seq), t0.Add(p.at))
			pkts[best].at = 1 << 62
			for next < len(pkts) && pkts[next].at == 1<<62 {
				next++
			}
		}
		j.Get(out)
	}
	st := j.Stats()
	t.Logf("%+v", st)
	if st.Target < 60*time.Millisecond || st.Target > 200*time.Millisecond {
		t.Fatalf("target %v, want between 60 and 200 ms for 80 ms of jitter", st.Target)
	}
	if st.Played < 1400 {
		t.Fatalf("played %d of 1500 (%+v)", st.Played, st)
	}
}

// TestJitterDrift runs the sender 1 % fast and then 1 % slow against the
// play-out clock for a minute each: the buffer neither grows without bound
// nor starves.
func TestJitterDrift(t *testing.T) {
	for _, c := range []struct {
		name  string
		ratio float64
	}{{"fast sender", 1.01}, {"slow sender", 0.99}} {
		t.Run(c.name, func(t *testing.T) {
			j := NewJitterBuffer(jbRate, jbFrame, 20*time.Millisecond, 200*time.Millisecond)
			t0 := time.Unix(0, 0)
			out := make([]float32, jbFrame)
			period := time.Duration(float64(20*time.Millisecond) / c.ratio)
			sent := 0
			var maxLevel time.Duration
			for tick := 0; tick < 3000; tick++ {
				now := time.Duration(tick) * 20 * time.Millisecond
				for time.Duration(sent)*period <= now {
					j.Put(uint32(sent*jbFrame), frameOf(sent), t0.Add(time.Duration(sent)*period))
					sent++
				}
				j.Get(out)
				if l := j.Stats().Level; tick > 100 && l > maxLevel {
					maxLevel = l
				}
			}
			st := j.Stats()
			t.Logf("%+v max level %v", st, maxLevel)
			if maxLevel > 200*time.Millisecond {
				t.Fatalf("level reached %v", maxLevel)
			}
			if st.Played < uint64(0.97*float64(min(sent, 3000))) {
				t.Fatalf("played only %d of %d", st.Played, sent)
			}
		})
	}
}

func TestJitterLateAndResync(t *testing.T) {
	j := NewJitterBuffer(jbRate, jbFrame, 20*time.Millisecond, 200*time.Millisecond)
	t0 := time.Unix(0, 0)
	out := make([]float32, jbFrame)
	for s := 0; s < 10; s++ {
		j.Put(uint32(s*jbFrame), frameOf(s), t0)
		j.Get(out)
	}
	j.Put(0, frameOf(0), t0) // long gone
	if j.Stats().Late != 1 {
		t.Fatalf("late frame not counted: %+v", j.Stats())
	}
	j.Put(uint32(1_000_000*jbFrame), frameOf(1), t0) // timestamp jump
	if j.Stats().Resyncs != 1 {
		t.Fatalf("jump not resynced: %+v", j.Stats())
	}
}

// FuzzJitterBuffer feeds arbitrary timestamps (reordering, duplicates,
// jumps, wrap-around) and checks the buffer stays bounded and never panics.
func FuzzJitterBuffer(f *testing.F) {
	f.Add([]byte{0, 1, 3, 2, 2, 9, 200, 4, 5})
	f.Fuzz(func(t *testing.T, seq []byte) {
		j := NewJitterBuffer(jbRate, jbFrame, 20*time.Millisecond, 200*time.Millisecond)
		out := make([]float32, jbFrame)
		t0 := time.Unix(0, 0)
		var ts uint32
		for i, b := range seq {
			switch {
			case b < 200:
				ts += uint32(int8(b)) * jbFrame // small steps, some backwards
			default:
				ts += uint32(b) << 24 // jumps and wrap-around
			}
			j.Put(ts, frameOf(i), t0.Add(time.Duration(i)*20*time.Millisecond))
			j.Get(out)
			if n := len(j.slots); n > 2*j.maxFrames+1 {
				t.Fatalf("%d frames held", n)
			}
		}
	})
}
