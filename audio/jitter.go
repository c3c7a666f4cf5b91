package audio

import (
	"slices"
	"sync"
	"time"
)

// FrameKind says where a frame returned by JitterBuffer.Get came from.
type FrameKind uint8

// FrameKind values.
const (
	FrameUnknown   FrameKind = 0
	FrameNormal    FrameKind = 1 // a received frame
	FrameConcealed FrameKind = 2 // packet-loss concealment (a faded repeat of the last frame)
	FrameSilence   FrameKind = 3 // nothing to play or conceal
)

// JitterStats are a jitter buffer's counters.
type JitterStats struct {
	Received  uint64        // frames put
	Played    uint64        // received frames returned by Get
	Concealed uint64        // frames made up by concealment
	Late      uint64        // frames that arrived after their play-out time and were dropped
	Dropped   uint64        // frames dropped to bring the delay back to the target (drift)
	Resyncs   uint64        // timestamp jumps that restarted the buffer
	Target    time.Duration // current target delay
	Level     time.Duration // audio currently buffered
}

// JitterBuffer reorders frames by their RTP-style timestamp and plays them
// out at a delay that adapts to the measured arrival jitter, between a
// minimum and a maximum (by default 20 and 200 ms). Missing frames are
// concealed by a fading repeat of the last good frame; when the sender's
// clock runs faster than the play-out clock, frames are dropped to keep the
// delay at the target; when it runs slower the buffer underruns and
// conceals, which raises the delay by one frame.
//
// Put and Get may be called from different goroutines (they take a mutex;
// neither is meant for a real-time callback).
type JitterBuffer struct {
	mu        sync.Mutex
	frameSize int
	rate      int
	minFrames int
	maxFrames int
	slots     map[uint32][]float32 // by frame number ((timestamp - ts0) / frameSize)
	ts0       uint32               // timestamp of the first frame: frame numbers count from it, so a timestamp wrapping around 2^32 is no jump
	free      [][]float32
	next      uint32 // frame number to play next
	started   bool
	playing   bool
	highest   uint32
	base      uint32 // frame number received at epoch
	target    int
	transit   []float64 // recent relative transit times (seconds)
	sentAt    []float64 // their send times (seconds since epoch), for the drift fit
	tpos      int
	sorted    []float64 // scratch for the percentile
	sinceCalc int       // observations since the target was last computed
	last      []float32
	concealed int // consecutive concealed frames
	overCount int // consecutive Gets above target
	epoch     time.Time
	stats     JitterStats
}

// NewJitterBuffer returns a buffer of frames of frameSize samples at rate
// Hz, whose target delay adapts between minDelay and maxDelay.
func NewJitterBuffer(rate, frameSize int, minDelay, maxDelay time.Duration) *JitterBuffer {
	fd := time.Duration(frameSize) * time.Second / time.Duration(rate)
	j := &JitterBuffer{
		frameSize: frameSize,
		rate:      rate,
		minFrames: max(1, int((minDelay+fd-1)/fd)),
		maxFrames: max(1, int((maxDelay+fd-1)/fd)),
		slots:     make(map[uint32][]float32),
		last:      make([]float32, frameSize),
		transit:   make([]float64, 0, 250),
		sentAt:    make([]float64, 0, 250),
	}
	j.target = j.minFrames
	return j
}

func (j *JitterBuffer) frameDur() time.Duration {
	return time.Duration(j.frameSize) * time.Second / time.Duration(j.rate)
}

// Put stores a frame with RTP timestamp ts (in samples) that arrived at
// arrival. Frames shorter than the frame size are padded with silence.
func (j *JitterBuffer) Put(ts uint32, pcm []float32, arrival time.Time) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stats.Received++
	if !j.started {
		j.ts0 = ts
	}
	seq := uint32(int32(ts-j.ts0) / int32(j.frameSize)) // a frame older than the first is negative: late
	if !j.started {
		j.started = true
		j.next = seq
		j.highest = seq
		j.base = seq
		j.epoch = arrival
	}
	// Timestamp jump (new sender, clock reset): start again.
	if d := int32(seq - j.next); d > int32(4*j.maxFrames) || d < -int32(4*j.maxFrames) {
		j.ts0 = ts
		seq = 0
		j.resetLocked(seq, arrival)
		j.stats.Resyncs++
	}
	// Every arrival counts for the jitter, late ones most of all: they are
	// what a longer target delay would have saved.
	j.observeLocked(seq, arrival)
	if int32(seq-j.next) < 0 {
		j.stats.Late++
		return
	}
	if _, dup := j.slots[seq]; dup {
		return
	}
	buf := j.getBufLocked()
	n := copy(buf, pcm)
	clear(buf[n:])
	j.slots[seq] = buf
	if int32(seq-j.highest) > 0 {
		j.highest = seq
	}
	// Never hold more than the maximum: drop the oldest.
	for int(j.highest-j.next)+1 > 2*j.maxFrames {
		j.dropNextLocked()
	}
}

func (j *JitterBuffer) resetLocked(seq uint32, arrival time.Time) {
	for k, v := range j.slots {
		j.free = append(j.free, v)
		delete(j.slots, k)
	}
	j.next, j.highest, j.playing = seq, seq, false
	j.transit = j.transit[:0]
	j.sentAt = j.sentAt[:0]
	j.tpos = 0
	j.epoch = arrival
	j.base = seq
}

func (j *JitterBuffer) getBufLocked() []float32 {
	if n := len(j.free); n > 0 {
		b := j.free[n-1]
		j.free = j.free[:n-1]
		return b
	}
	return make([]float32, j.frameSize)
}

func (j *JitterBuffer) dropNextLocked() {
	if b, ok := j.slots[j.next]; ok {
		j.free = append(j.free, b)
		delete(j.slots, j.next)
		j.stats.Dropped++
	}
	j.next++
}

// observeLocked records the relative transit time and recomputes the
// target: the spread between the fastest and the 95th percentile of recent
// transits, plus one frame, within the limits.
func (j *JitterBuffer) observeLocked(seq uint32, arrival time.Time) {
	sent := float64(int32(seq-j.base)) * j.frameDur().Seconds()
	tr := arrival.Sub(j.epoch).Seconds() - sent
	if len(j.transit) < cap(j.transit) {
		j.transit = append(j.transit, tr)
		j.sentAt = append(j.sentAt, sent)
	} else {
		j.transit[j.tpos] = tr
		j.sentAt[j.tpos] = sent
		j.tpos = (j.tpos + 1) % len(j.transit)
	}
	if len(j.transit) < 10 {
		return
	}
	// The percentile moves slowly: recompute it every fifth frame (and
	// while the window fills), without allocating.
	if j.sinceCalc++; j.sinceCalc < 5 && len(j.transit) == cap(j.transit) {
		return
	}
	j.sinceCalc = 0
	// Clock drift makes the transit times slope (a sender 1 % fast gains
	// 50 ms over the 5 s window): that is not jitter, and the drop logic
	// in Get handles it. Take the spread around the fitted line.
	var mx, my float64
	for i, y := range j.transit {
		mx += j.sentAt[i]
		my += y
	}
	n := float64(len(j.transit))
	mx, my = mx/n, my/n
	var cov, vx float64
	for i, y := range j.transit {
		dx := j.sentAt[i] - mx
		cov += dx * (y - my)
		vx += dx * dx
	}
	slope := 0.0
	if vx > 0 {
		slope = max(-0.05, min(0.05, cov/vx))
	}
	s := j.sorted[:0]
	for i, y := range j.transit {
		s = append(s, y-slope*j.sentAt[i])
	}
	j.sorted = s
	slices.Sort(s)
	spread := s[len(s)*95/100] - s[0]
	want := int(spread/j.frameDur().Seconds() + 0.999)
	j.target = min(max(want, j.minFrames), j.maxFrames)
}

// Get fills out (frameSize samples) with the next frame to play and says
// what it is.
func (j *JitterBuffer) Get(out []float32) FrameKind {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.started {
		clear(out)
		return FrameSilence
	}
	level := int(j.highest-j.next) + 1
	if len(j.slots) == 0 {
		level = 0
	}
	if !j.playing {
		if level < j.target {
			clear(out)
			return FrameSilence
		}
		j.playing = true
	}
	if level > j.target+2 {
		j.overCount++
		if j.overCount > 25 { // above target for half a second: drift
			j.dropNextLocked()
			j.overCount = 0
		}
	} else {
		j.overCount = 0
	}
	if b, ok := j.slots[j.next]; ok {
		copy(out, b)
		copy(j.last, b)
		j.free = append(j.free, b)
		delete(j.slots, j.next)
		j.next++
		j.concealed = 0
		j.stats.Played++
		return FrameNormal
	}
	// Missing. While the buffer holds less than its target, the frame may
	// still come (reordered, or the target just grew): hold the position,
	// which adds one frame of delay. Otherwise it is lost: skip it. An
	// empty buffer (underrun) holds too, and waits to refill.
	switch {
	case len(j.slots) == 0:
		j.playing = false
	case level > j.target:
		j.next++
	}
	return j.concealLocked(out)
}

func (j *JitterBuffer) concealLocked(out []float32) FrameKind {
	j.concealed++
	if j.concealed > 5 {
		clear(out)
		j.stats.Concealed++
		return FrameSilence
	}
	g := float32(1)
	for range j.concealed {
		g *= 0.6
	}
	for i := range out {
		out[i] = j.last[i] * g
	}
	j.stats.Concealed++
	return FrameConcealed
}

// Reset forgets every buffered frame; the next Put starts a new stream.
func (j *JitterBuffer) Reset() {
	j.mu.Lock()
	defer j.mu.Unlock()
	for k, v := range j.slots {
		j.free = append(j.free, v)
		delete(j.slots, k)
	}
	j.started, j.playing = false, false
	j.transit = j.transit[:0]
	j.sentAt = j.sentAt[:0]
	j.tpos = 0
}

// Stats returns the counters.
func (j *JitterBuffer) Stats() JitterStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.stats
	s.Target = time.Duration(j.target) * j.frameDur()
	if len(j.slots) > 0 {
		s.Level = time.Duration(int(j.highest-j.next)+1) * j.frameDur()
	}
	return s
}
