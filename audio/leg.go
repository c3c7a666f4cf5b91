package audio

import (
	"encoding/binary"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

// FrameReader may be implemented by CallAudio.Rx to give the RTP timestamp
// (in samples) of each decoded frame; the jitter buffer then also reorders
// and detects loss. Without it, frames are numbered in arrival order and the
// buffer only absorbs arrival jitter and clock drift.
type FrameReader interface {
	// ReadFrame reads exactly one frame (FrameSize 16-bit samples) into p.
	ReadFrame(p []byte) (ts uint32, err error)
}

const txQueueFrames = 4 // at most 80 ms waits for the network writer

// leg is one call's audio: a reader goroutine feeding the jitter buffer
// from CallAudio.Rx, and a writer goroutine draining a short queue into
// CallAudio.Tx. Neither touches the device callbacks: the engine loop
// moves samples between them and the device rings.
type leg struct {
	id         domain.CallID
	ca         domain.CallAudio
	jb         *JitterBuffer
	rxRes      *Resampler // call rate -> mix rate
	txRes      *Resampler // mix rate -> call rate
	rxFIFO     []float32
	txFIFO     []float32
	frame      []float32
	txq        chan []byte
	quit       chan struct{}
	ended      atomic.Bool
	endErr     atomic.Value // error
	txDropped  atomic.Uint64
	routed     bool
	txLevel    float64 // smoothed queue level, frames
	txStanding int     // consecutive pushes that found a frame still queued
	txAligned  bool
}

func newLeg(id domain.CallID, ca domain.CallAudio) (*leg, error) {
	switch ca.SampleRate {
	case 8000, 16000, 24000, 32000, 48000:
	default:
		return nil, fmt.Errorf("call %s: unsupported sample rate %d", id, ca.SampleRate)
	}
	if ca.FrameSize <= 0 || ca.FrameSize > ca.SampleRate/10 || ca.Rx == nil || ca.Tx == nil {
		return nil, fmt.Errorf("call %s: bad call audio (frame size %d)", id, ca.FrameSize)
	}
	l := &leg{
		id:     id,
		ca:     ca,
		jb:     NewJitterBuffer(ca.SampleRate, ca.FrameSize, 20*time.Millisecond, 200*time.Millisecond),
		rxRes:  NewResampler(ca.SampleRate, mixRate),
		txRes:  NewResampler(mixRate, ca.SampleRate),
		frame:  make([]float32, ca.FrameSize),
		txq:    make(chan []byte, txQueueFrames),
		quit:   make(chan struct{}),
		rxFIFO: make([]float32, 0, 4*mixFrame),
		txFIFO: make([]float32, 0, 4*ca.FrameSize),
	}
	go l.readLoop()
	go l.writeLoop()
	return l, nil
}

func (l *leg) end(err error) {
	if l.ended.CompareAndSwap(false, true) {
		l.endErr.Store(fmt.Errorf("%v", err))
	}
}

func (l *leg) readLoop() {
	buf := make([]byte, 2*l.ca.FrameSize)
	pcm := make([]float32, l.ca.FrameSize)
	fr, timed := l.ca.Rx.(FrameReader)
	var ts uint32
	for {
		var err error
		if timed {
			ts, err = fr.ReadFrame(buf)
		} else {
			_, err = io.ReadFull(l.ca.Rx, buf)
		}
		if err != nil {
			l.end(err)
			return
		}
		for i := range pcm {
			pcm[i] = float32(int16(binary.LittleEndian.Uint16(buf[2*i:]))) / 32768
		}
		l.jb.Put(ts, pcm, time.Now())
		if !timed {
			ts += uint32(l.ca.FrameSize)
		}
		select {
		case <-l.quit:
			return
		default:
		}
	}
}

func (l *leg) writeLoop() {
	for {
		select {
		case b := <-l.txq:
			if _, err := l.ca.Tx.Write(b); err != nil {
				l.end(err)
				return
			}
		case <-l.quit:
			return
		}
	}
}

func (l *leg) stop() {
	select {
	case <-l.quit:
	default:
		close(l.quit)
	}
}

// reset drops buffered audio (when the call is routed to the headset again).
func (l *leg) reset() {
	l.jb.Reset()
	l.rxFIFO = l.rxFIFO[:0]
	l.rxRes.Reset()
}

// pull fills dst (mixFrame samples at the mix rate) with far-end audio.
func (l *leg) pull(dst []float32) {
	for len(l.rxFIFO) < len(dst) {
		l.jb.Get(l.frame)
		l.rxFIFO = l.rxRes.Process(l.frame, l.rxFIFO)
	}
	copy(dst, l.rxFIFO)
	n := copy(l.rxFIFO, l.rxFIFO[len(dst):])
	l.rxFIFO = l.rxFIFO[:n]
	// Follow the sender's clock smoothly: consume a little faster when the
	// buffer is above its target, a little slower below.
	st := l.jb.Stats()
	diff := (st.Level - st.Target).Seconds() / l.jbFrame().Seconds()
	l.rxRes.SetDrift(clampPPM(300 * deadband(diff, 1)))
}

func (l *leg) jbFrame() time.Duration {
	return time.Duration(l.ca.FrameSize) * time.Second / time.Duration(l.ca.SampleRate)
}

// push queues src (mixFrame samples at the mix rate) for the network.
func (l *leg) push(src []float32) {
	// A standing queue is pure delay (a writer held to real time, when the
	// sound card runs fast, never drains it): when a frame has still been waiting at every
	// push for half a second, drop one.
	if len(l.txq) >= 2 { // never keep two frames waiting
		select {
		case <-l.txq:
			l.txDropped.Add(1)
		default:
		}
	}
	if len(l.txq) >= 1 {
		l.txStanding++
		if l.txStanding > 25 {
			select {
			case <-l.txq:
				l.txDropped.Add(1)
			default:
			}
			l.txStanding = 0
		}
	} else {
		l.txStanding = 0
	}
	l.txFIFO = l.txRes.Process(src, l.txFIFO)
	fs := l.ca.FrameSize
	if !l.txAligned && len(l.txFIFO) > 0 {
		// The resampler's look-ahead makes its first output a little short
		// of a frame; without padding, every frame would then wait for the
		// next mix frame (20 ms). Pad the start once.
		l.txAligned = true
		if r := len(l.txFIFO) % fs; r != 0 {
			pad := make([]float32, fs-r, fs-r+len(l.txFIFO))
			l.txFIFO = append(pad, l.txFIFO...)
		}
	}
	if r := len(l.txFIFO) % fs; r != 0 && fs-r <= 2 {
		// Drift correction left the frame a sample or two short: repeat
		// the last sample rather than hold the whole frame back.
		last := l.txFIFO[len(l.txFIFO)-1]
		for range fs - r {
			l.txFIFO = append(l.txFIFO, last)
		}
	}
	for len(l.txFIFO) >= fs {
		b := make([]byte, 2*fs)
		for i := 0; i < fs; i++ {
			binary.LittleEndian.PutUint16(b[2*i:], uint16(toInt16(l.txFIFO[i])))
		}
		n := copy(l.txFIFO, l.txFIFO[fs:])
		l.txFIFO = l.txFIFO[:n]
	send:
		for {
			select {
			case l.txq <- b:
				break send
			default:
				select { // the network side is slower: drop the oldest frame
				case <-l.txq:
					l.txDropped.Add(1)
				default:
				}
			}
		}
	}
	// Drift: when frames pile up (the sound card runs faster than the RTP
	// clock) produce slightly fewer samples, and more when it runs dry.
	l.txLevel = 0.95*l.txLevel + 0.05*float64(len(l.txq))
	l.txRes.SetDrift(clampPPM(500 * max(0, l.txLevel-2)))
}

// deadband is x moved towards zero by w (zero inside ±w), so a buffer that
// sits near its target never bends the pitch.
func deadband(x, w float64) float64 {
	switch {
	case x > w:
		return x - w
	case x < -w:
		return x + w
	}
	return 0
}

func clampPPM(p float64) float64 { return max(-2000, min(2000, p)) }
