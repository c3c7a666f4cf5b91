package audio

import (
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

// badNetwork runs a sender and the play-out clock in virtual time: frames
// (numbered from first, RTP timestamps from ts0) leave every 20 ms /
// (1+drift), arrive with pairs swapped (1, 0, 3, 2, ...), and every
// lossEvery-th is lost; Get runs every 20 ms. It returns the frames played
// in order and the buffer's counters.
func badNetwork(t *testing.T, ts0 uint32, lossEvery int, drift float64, ticks int) ([]int, JitterStats) {
	t.Helper()
	j := NewJitterBuffer(jbRate, jbFrame, 20*time.Millisecond, 200*time.Millisecond)
	t0 := time.Unix(0, 0)
	period := time.Duration(float64(20*time.Millisecond) / (1 + drift))
	out := make([]float32, jbFrame)
	var played []int
	slot := 0
	for tick := 0; tick < ticks; tick++ {
		now := time.Duration(tick) * 20 * time.Millisecond
		for ; time.Duration(slot)*period <= now; slot++ {
			f := slot ^ 1
			if lossEvery > 0 && f%lossEvery == lossEvery-1 {
				continue
			}
			j.Put(ts0+uint32(f*jbFrame), frameOf(f), t0.Add(time.Duration(slot)*period))
		}
		if j.Get(out) == FrameNormal {
			played = append(played, seqOf(out))
		}
	}
	return played, j.Stats()
}

// TestJitterRTPOrderAcrossWrap: frames that arrive swapped are played in
// timestamp order, none late, across the RTP timestamp's wrap-around.
func TestJitterRTPOrderAcrossWrap(t *testing.T) {
	played, st := badNetwork(t, 4294967296-50*jbFrame, 0, 0, 500)
	t.Logf("%+v", st)
	// In order throughout; after the first second (the target adapting to
	// the reordering) without a gap.
	for i := 1; i < len(played); i++ {
		if d := (played[i] - played[i-1] + 1000) % 1000; d == 0 || d > 500 || i > 50 && d != 1 {
			t.Fatalf("played %d after %d", played[i], played[i-1])
		}
	}
	if st.Resyncs != 0 || st.Late > 10 || len(played) < 480 {
		t.Fatalf("%d frames played, %+v", len(played), st)
	}
}

// TestJitterRTPLossAndDrift: with reordering, every 25th frame lost and
// the sender's clock 2 % fast, lost frames are concealed (not waited for),
// the rest play in order, and the delay stays near a small target (the
// drift is not taken for jitter; frames are dropped to follow it).
func TestJitterRTPLossAndDrift(t *testing.T) {
	played, st := badNetwork(t, 1000, 25, 0.02, 3000)
	t.Logf("%+v", st)
	for i := 1; i < len(played); i++ {
		if played[i] <= played[i-1] && played[i-1]-played[i] < 900 {
			t.Fatalf("played %d after %d", played[i], played[i-1])
		}
	}
	if st.Concealed < 100 || st.Late > 5 {
		t.Errorf("concealed %d (about 120 lost), late %d", st.Concealed, st.Late)
	}
	if st.Dropped == 0 || st.Target > 60*time.Millisecond || st.Level > st.Target+60*time.Millisecond {
		t.Errorf("drift not followed: %+v", st)
	}
}

// timedFrames is a CallAudio.Rx with RTP timestamps (FrameReader) that
// hands out its frames at once, then blocks until closed.
type timedFrames struct {
	order []int
	ts0   uint32
	i     int
	quit  chan struct{}
}

func (r *timedFrames) Read(p []byte) (int, error) { _, err := r.ReadFrame(p); return len(p), err }
func (r *timedFrames) ReadFrame(p []byte) (uint32, error) {
	if r.i == len(r.order) {
		<-r.quit
		return 0, io.EOF
	}
	f := r.order[r.i]
	r.i++
	for i := 0; i < jbFrame; i++ {
		binary.LittleEndian.PutUint16(p[2*i:], uint16(int16(frameOf(f)[0]*32767)))
	}
	return r.ts0 + uint32(f*jbFrame), nil
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// TestLegPassesRTPTimestamps: a call whose Rx gives timestamps has its
// frames reordered by them in the jitter buffer.
func TestLegPassesRTPTimestamps(t *testing.T) {
	rx := &timedFrames{order: []int{0, 2, 1, 4, 3, 6, 5, 7}, ts0: 4294967296 - 3*jbFrame, quit: make(chan struct{})}
	defer close(rx.quit)
	l, err := newLeg("c1", domain.CallAudio{SampleRate: jbRate, FrameSize: jbFrame, Rx: rx, Tx: nopWriter{}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.stop()
	deadline := time.Now().Add(20 * time.Second)
	for l.jb.Stats().Received < 8 {
		if time.Now().After(deadline) {
			t.Fatal("the leg did not read the frames")
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := make([]float32, jbFrame)
	var played []int
	for k := l.jb.Get(out); k == FrameNormal; k = l.jb.Get(out) {
		played = append(played, int(out[0]*1000/32767*32768+0.5)-1)
	}
	if len(played) != 8 {
		t.Fatalf("played %v, want 8 frames", played)
	}
	for i, f := range played {
		if f != i {
			t.Fatalf("played %v, want 0..7 in timestamp order", played)
		}
	}
}
