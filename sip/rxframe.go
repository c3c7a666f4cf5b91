package sip

import (
	"fmt"
	"io"
)

// ReadFrame reads exactly one 20 ms frame of decoded PCM (16-bit LE mono
// at CallAudio's SampleRate: FrameSize samples, 2*FrameSize bytes) into p
// and returns the timestamp of its first sample. It blocks until a frame
// is complete and returns io.EOF when the call's media is closed; a p
// shorter than a frame is io.ErrShortBuffer. It is the audio engine's
// optional FrameReader: with it the jitter buffer orders frames by their
// timestamps, detects loss and follows the sender's clock.
//
// The timestamp counts samples of the PCM (SampleRate), modulo 2^32: the
// RTP timestamp itself for PCMU, PCMA (8000) and Opus (48000); twice the
// RTP timestamp for G.722, whose RTP clock is 8000 for 16 kHz audio (RFC
// 3551 §4.5.2). Only differences between timestamps mean anything, and
// those stay exact across the RTP timestamp's wrap-around.
//
// Packets of any duration are cut into frames on a 20 ms grid anchored at
// the first packet's timestamp: a 40 ms packet yields two frames (the
// second 20 ms later), two 10 ms packets make one frame. A frame still
// missing a part when audio 40 ms newer than its end has arrived (a lost
// 10 ms packet) is returned with the missing part silent. Frames are
// returned as they complete, so reordered packets give reordered frames
// for the jitter buffer to sort. A new SSRC, or a timestamp more than a
// second away from the grid, starts a new grid. Telephone-event and
// comfort-noise packets are skipped as by Read; Opus concealment and FEC
// frames carry the timestamps of the frames they stand in for. A call's
// Rx is read either with Read or with ReadFrame, not both.
func (r *rxReader) ReadFrame(p []byte) (uint32, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := &r.asm
	if a.size == 0 {
		a.init(pcmRate(r.m.kind) / 50)
	}
	if len(p) < 2*a.size {
		return 0, fmt.Errorf("read frame into %d bytes (%d needed): %w", len(p), 2*a.size, io.ErrShortBuffer)
	}
	for a.head == len(a.ready) {
		pcm, ts, ssrc, err := r.nextAudio(r.pending[:0])
		if err != nil {
			return 0, err
		}
		r.pending = pcm[:0]
		a.place(pcm, ts, ssrc)
	}
	f := a.ready[a.head]
	copy(p, f.pcm)
	if a.head++; a.head == len(a.ready) {
		a.ready, a.head = a.ready[:0], 0 // the same array again
	}
	a.free = append(a.free, f.pcm)
	return f.ts, nil
}

// Assembly limits, in frames.
const (
	// asmReorder is how far (past a partial frame's end) newer audio may
	// reach before the frame is given up waiting for its missing part.
	asmReorder = 2
	// asmMaxPartial bounds the frames waiting for parts.
	asmMaxPartial = 4
	// asmResync is the distance from the grid that starts a new grid
	// (a new stream): a second.
	asmResync = 50
)

// asmFrame is a frame of PCM with the timestamp of its first sample.
type asmFrame struct {
	ts  uint32
	pcm []byte // 2*size bytes
	got []bool // samples filled (partial frames only)
	n   int    // samples filled
}

// frameAsm cuts decoded packets into frames of size samples on a grid of
// timestamps (asm for assembler). It is used under rxReader's lock.
type frameAsm struct {
	size    int
	started bool
	ssrc    uint32
	anchor  uint32 // a grid point near the newest audio
	newest  uint32 // end of the newest audio placed
	partial []*asmFrame
	ready   []asmFrame // complete frames; ready[head] is the next out
	head    int
	free    [][]byte    // frame buffers
	spare   []*asmFrame // partial frames to reuse (without pcm)
}

func (a *frameAsm) init(size int) {
	a.size = size
	a.ready = make([]asmFrame, 0, 8)
	a.partial = make([]*asmFrame, 0, asmMaxPartial+1)
}

// place adds decoded PCM whose first sample has timestamp ts (PCM units).
func (a *frameAsm) place(pcm []byte, ts uint32, ssrc uint32) {
	if len(pcm) < 2 {
		return
	}
	size := int32(a.size)
	if !a.started || ssrc != a.ssrc {
		a.restart(ts, ssrc)
	} else if d := int32(ts - a.anchor); d > asmResync*size || d < -asmResync*size {
		a.restart(ts, ssrc)
	}
	end := ts + uint32(len(pcm)/2)
	if int32(end-a.newest) > 0 {
		a.newest = end
	}
	for len(pcm) >= 2 {
		d := int32(ts - a.anchor)
		idx := d / size
		if d < 0 && d%size != 0 {
			idx-- // floor
		}
		start := a.anchor + uint32(idx*size)
		off := int(ts - start)
		n := min(len(pcm)/2, a.size-off)
		if off == 0 && n == a.size && a.find(start) < 0 {
			// A whole frame: straight to ready.
			a.ready = append(a.ready, asmFrame{ts: start, pcm: append(a.buf(), pcm[:2*n]...)})
		} else {
			f := a.partialAt(start)
			copy(f.pcm[2*off:], pcm[:2*n])
			for i := off; i < off+n; i++ {
				if !f.got[i] {
					f.got[i] = true
					f.n++
				}
			}
			if f.n == a.size {
				a.complete(f)
			}
		}
		if d := int32(start - a.anchor); d > 0 {
			a.anchor = start
		}
		ts += uint32(n)
		pcm = pcm[2*n:]
	}
	// Give up on frames that audio well past their end has overtaken.
	for i := 0; i < len(a.partial); {
		f := a.partial[i]
		if int32(a.newest-(f.ts+uint32(a.size))) >= asmReorder*size {
			a.complete(f)
			continue
		}
		i++
	}
}

// restart starts a new grid at ts, first releasing what waits for parts.
func (a *frameAsm) restart(ts uint32, ssrc uint32) {
	for len(a.partial) > 0 {
		a.complete(a.partial[0])
	}
	a.started, a.ssrc, a.anchor, a.newest = true, ssrc, ts, ts
}

func (a *frameAsm) buf() []byte {
	if n := len(a.free); n > 0 {
		b := a.free[n-1]
		a.free = a.free[:n-1]
		return b[:0]
	}
	return make([]byte, 0, 2*a.size)
}

func (a *frameAsm) find(ts uint32) int {
	for i, f := range a.partial {
		if f.ts == ts {
			return i
		}
	}
	return -1
}

// partialAt returns the waiting frame starting at ts, creating it (silent)
// if needed; beyond asmMaxPartial the oldest is released first.
func (a *frameAsm) partialAt(ts uint32) *asmFrame {
	if i := a.find(ts); i >= 0 {
		return a.partial[i]
	}
	if len(a.partial) >= asmMaxPartial {
		oldest := a.partial[0]
		for _, f := range a.partial[1:] {
			if int32(f.ts-oldest.ts) < 0 {
				oldest = f
			}
		}
		a.complete(oldest)
	}
	var f *asmFrame
	if n := len(a.spare); n > 0 {
		f = a.spare[n-1]
		a.spare = a.spare[:n-1]
		clear(f.got)
		f.n = 0
	} else {
		f = &asmFrame{got: make([]bool, a.size)}
	}
	f.ts, f.pcm = ts, a.buf()[:2*a.size]
	clear(f.pcm)
	a.partial = append(a.partial, f)
	return f
}

// complete moves a waiting frame to ready (its missing samples silent).
func (a *frameAsm) complete(f *asmFrame) {
	for i, g := range a.partial {
		if g == f {
			a.partial = append(a.partial[:i], a.partial[i+1:]...)
			break
		}
	}
	a.ready = append(a.ready, asmFrame{ts: f.ts, pcm: f.pcm})
	f.pcm = nil
	a.spare = append(a.spare, f)
}
