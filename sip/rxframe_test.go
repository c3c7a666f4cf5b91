package sip

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emiago/diago/media"
)

// The audio engine's optional interface (package audio's FrameReader;
// sip must not import audio, the method set is what counts).
var _ interface {
	ReadFrame(p []byte) (ts uint32, err error)
} = (*rxReader)(nil)

// packetConn is a net.PacketConn that hands out queued datagrams, then
// blocks until closed (net.ErrClosed, as a closed UDP socket).
type packetConn struct {
	mu     sync.Mutex
	queue  [][]byte
	more   chan struct{}
	closed chan struct{}
	once   sync.Once
	addr   net.Addr
}

func newPacketConn() *packetConn {
	return &packetConn{more: make(chan struct{}, 1), closed: make(chan struct{}),
		addr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}}
}

func (c *packetConn) push(pkts ...[]byte) {
	c.mu.Lock()
	c.queue = append(c.queue, pkts...)
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
}

func (c *packetConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		c.mu.Lock()
		if len(c.queue) > 0 {
			p := c.queue[0]
			c.queue = c.queue[1:]
			c.mu.Unlock()
			return copy(b, p), c.LocalAddr(), nil
		}
		c.mu.Unlock()
		select {
		case <-c.more:
		case <-c.closed:
			return 0, nil, net.ErrClosed
		}
	}
}

func (c *packetConn) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }
func (c *packetConn) Close() error                              { c.once.Do(func() { close(c.closed) }); return nil }
func (c *packetConn) LocalAddr() net.Addr                       { return c.addr }
func (c *packetConn) SetDeadline(time.Time) error               { return nil }
func (c *packetConn) SetReadDeadline(time.Time) error           { return nil }
func (c *packetConn) SetWriteDeadline(time.Time) error          { return nil }

// rtpPacket is an RTP packet (version 2, no extensions).
func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b := make([]byte, 12, 12+len(payload))
	b[0], b[1] = 0x80, pt
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
	return append(b, payload...)
}

// testRx is a call's receive side over diago's real packet reader, fed
// datagrams by the test.
type testRx struct {
	rx     *rxReader
	conn   *packetConn
	digits []string
	seq    uint16
}

func newTestRx(t testing.TB, codec media.Codec) *testRx {
	t.Helper()
	kind := kindOf(codec)
	dec, enc, err := newCodecPair(kind)
	if err != nil {
		t.Fatal(err)
	}
	enc.close()
	conn := newPacketConn()
	sess := &media.MediaSession{Codecs: []media.Codec{codec, media.CodecTelephoneEvent8000}}
	sess.InitWithListeners(conn, newPacketConn(), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40002})
	m := &callMedia{codec: codec, kind: kind, dtmf: media.CodecTelephoneEvent8000,
		rtpR: media.NewRTPPacketReader(sess, codec)}
	tr := &testRx{conn: conn}
	m.rx = newRxReader(m, dec, func(d string) { tr.digits = append(tr.digits, d) })
	tr.rx = m.rx
	t.Cleanup(func() { _ = conn.Close() })
	return tr
}

// send queues an audio packet of the call's codec (sequence numbers count up).
func (tr *testRx) send(ts uint32, payload []byte) {
	tr.seq++
	tr.conn.push(rtpPacket(tr.rx.m.codec.PayloadType, tr.seq, ts, 0x1234, payload))
}

type frame struct {
	ts  uint32
	pcm []int16
}

// frames reads n frames, failing the test on an error or after a generous
// deadline (a missing frame would block).
func (tr *testRx) frames(t *testing.T, n int) []frame {
	t.Helper()
	type res struct {
		f   []frame
		err error
	}
	done := make(chan res, 1)
	go func() {
		var out []frame
		p := make([]byte, 2*pcmRate(tr.rx.m.kind)/50)
		for i := 0; i < n; i++ {
			ts, err := tr.rx.ReadFrame(p)
			if err != nil {
				done <- res{out, err}
				return
			}
			out = append(out, frame{ts, samples(p)})
		}
		done <- res{out, nil}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("read frame %d: %v", len(r.f), r.err)
		}
		return r.f
	case <-time.After(20 * time.Second):
		_ = tr.conn.Close() // releases the reader
		<-done
		t.Fatalf("fewer than %d frames", n)
		return nil
	}
}

// ulawOf is the PCM value of a μ-law octet.
func ulawOf(t *testing.T, b byte) int16 {
	t.Helper()
	out, _, err := g711Codec{}.decode(0, []byte{b}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return samples(out)[0]
}

// constant says whether pcm[from:to] all equal v.
func constant(pcm []int16, from, to int, v int16) bool {
	for _, x := range pcm[from:to] {
		if x != v {
			return false
		}
	}
	return true
}

// TestReadFrameG711: 20 ms PCMU packets arriving out of order become one
// frame each with the packet's RTP timestamp (the jitter buffer sorts
// them); a 40 ms packet is split into two frames 160 apart; 10 ms packets
// are merged, also when the halves arrive swapped; a frame whose second
// half is lost is released, that half silent, once 40 ms newer audio came.
func TestReadFrameG711(t *testing.T) {
	tr := newTestRx(t, media.CodecAudioUlaw)
	pay := func(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
	// 20 ms, the second and third swapped.
	tr.send(1000, pay(0x10, 160))
	tr.send(1320, pay(0x12, 160))
	tr.send(1160, pay(0x11, 160))
	// 40 ms.
	tr.send(1480, pay(0x20, 320))
	// 10 ms halves: in order, then swapped.
	tr.send(1800, pay(0x30, 80))
	tr.send(1880, pay(0x31, 80))
	tr.send(2040, pay(0x41, 80))
	tr.send(1960, pay(0x40, 80))
	// A lost second half: released when audio reaches 40 ms past its end.
	tr.send(2120, pay(0x50, 80))
	tr.send(2280, pay(0x60, 160))
	tr.send(2440, pay(0x61, 160))
	want := []struct {
		ts          uint32
		first, last byte // first and second half
		silentLast  bool
	}{
		{1000, 0x10, 0x10, false}, {1320, 0x12, 0x12, false}, {1160, 0x11, 0x11, false},
		{1480, 0x20, 0x20, false}, {1640, 0x20, 0x20, false},
		{1800, 0x30, 0x31, false}, {1960, 0x40, 0x41, false},
		{2280, 0x60, 0x60, false}, {2440, 0x61, 0x61, false}, {2120, 0x50, 0, true},
	}
	got := tr.frames(t, len(want))
	for i, w := range want {
		f := got[i]
		if len(f.pcm) != 160 {
			t.Fatalf("frame %d: %d samples", i, len(f.pcm))
		}
		lastOK := w.silentLast && constant(f.pcm, 80, 160, 0) || !w.silentLast && constant(f.pcm, 80, 160, ulawOf(t, w.last))
		if f.ts != w.ts || !constant(f.pcm, 0, 80, ulawOf(t, w.first)) || !lastOK {
			t.Errorf("frame %d: ts %d, samples %d..%d; want ts %d of %#x/%#x", i, f.ts, f.pcm[0], f.pcm[159], w.ts, w.first, w.last)
		}
	}
}

// TestReadFrameSkipsDTMFAndComfortNoise: RFC 4733 events (reported once)
// and comfort noise between audio packets give no frame.
func TestReadFrameSkipsDTMFAndComfortNoise(t *testing.T) {
	tr := newTestRx(t, media.CodecAudioAlaw)
	ev := []byte{5, 0x0a, 0, 160} // digit 5, volume 10, duration 160
	tr.send(500, bytes.Repeat([]byte{0xd5}, 160))
	tr.conn.push(rtpPacket(101, tr.seq+1, 660, 0x1234, ev), rtpPacket(101, tr.seq+2, 660, 0x1234, ev))
	tr.conn.push(rtpPacket(13, tr.seq+3, 660, 0x1234, []byte{40}))
	tr.seq += 3
	tr.send(660, bytes.Repeat([]byte{0xd5}, 160))
	got := tr.frames(t, 2)
	if got[0].ts != 500 || got[1].ts != 660 {
		t.Errorf("timestamps %d, %d; want 500, 660", got[0].ts, got[1].ts)
	}
	if len(tr.digits) != 1 || tr.digits[0] != "5" {
		t.Errorf("digits %q, want one 5", tr.digits)
	}
}

// TestReadFrameTimestampWrap: frames across the RTP timestamp's wrap
// around 2^32, a 40 ms packet split across it, and 10 ms halves merged
// across it, keep exact timestamps.
func TestReadFrameTimestampWrap(t *testing.T) {
	tr := newTestRx(t, media.CodecAudioUlaw)
	const top = 1 << 32
	tr.send(top-480, bytes.Repeat([]byte{0x10}, 160))
	tr.send(top-320, bytes.Repeat([]byte{0x11}, 320)) // ends at 0
	tr.send(0, bytes.Repeat([]byte{0x12}, 160))
	tr.send(160, bytes.Repeat([]byte{0x13}, 160))
	// Halves whose frame straddles nothing but whose grid is past the wrap.
	tr.send(320, bytes.Repeat([]byte{0x14}, 80))
	tr.send(400, bytes.Repeat([]byte{0x15}, 80))
	got := tr.frames(t, 6)
	want := []uint32{top - 480, top - 320, top - 160, 0, 160, 320}
	for i, w := range want {
		if got[i].ts != w {
			t.Errorf("frame %d: ts %d, want %d", i, got[i].ts, w)
		}
	}
	// A new grid far from the old one after a sender restart: new SSRC,
	// timestamp off the old grid.
	tr.conn.push(rtpPacket(0, 9, 123457, 0x9999, bytes.Repeat([]byte{0x16}, 160)))
	if f := tr.frames(t, 1)[0]; f.ts != 123457 || !constant(f.pcm, 0, 160, ulawOf(t, 0x16)) {
		t.Errorf("after a new ssrc: ts %d", f.ts)
	}
}

// TestReadFrameG722Clock: G.722's RTP clock is 8000 but its PCM 16 kHz, and
// the audio engine numbers frames by timestamp / FrameSize (320): the
// timestamps come in PCM samples (twice the RTP ones); a 40 ms packet
// becomes two frames 320 apart, decoded as one stream.
func TestReadFrameG722Clock(t *testing.T) {
	tr := newTestRx(t, codecG722)
	enc := newG722Tx()
	var payloads [][]byte
	for i := 0; i < 4; i++ {
		out := make([]byte, maxPacket)
		n, err := enc.encode(tonePCM(1000, g722Rate, 320, 320*i), out)
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, out[:n])
	}
	var ts0 uint32 = 4294967200 // wraps, and so do the doubled timestamps
	tr.send(ts0, payloads[0])
	tr.send(ts0+160, payloads[1])
	tr.send(ts0+320, append(append([]byte{}, payloads[2]...), payloads[3]...)) // 40 ms
	got := tr.frames(t, 4)
	ref := newG722Decoder()
	for i, f := range got {
		if want := 2*ts0 + 320*uint32(i); f.ts != want {
			t.Errorf("frame %d: ts %d, want %d", i, f.ts, want)
		}
		if len(f.pcm) != 320 {
			t.Fatalf("frame %d: %d samples", i, len(f.pcm))
		}
		if w := ref.decode(nil, payloads[i]); !equalPCM(w, f.pcm) {
			t.Errorf("frame %d: pcm differs from the decoded payload", i)
		}
	}
}

// TestReadFrameOpusRecovery: Opus frames carry their RTP timestamps (48
// kHz clock = PCM); a lost packet is recovered from the next one's FEC
// and that frame carries the lost packet's timestamp.
func TestReadFrameOpusRecovery(t *testing.T) {
	tr := newTestRx(t, codecOpus)
	enc, err := newOpusEncoder()
	if err != nil {
		t.Fatal(err)
	}
	defer enc.close()
	var payloads [][]byte
	pcm := make([]int16, opusFrame)
	for i := 0; i < 6; i++ {
		copy(pcm, samples(tonePCM(1000, opusRate, opusFrame, opusFrame*i)))
		out := make([]byte, maxPacket)
		n, err := enc.encode(pcm, out)
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, out[:n])
	}
	const ts0 = 90000
	for i, p := range payloads {
		if i == 3 {
			tr.seq++ // lost
			continue
		}
		tr.send(ts0+uint32(opusFrame*i), p)
	}
	got := tr.frames(t, 6)
	for i, f := range got {
		if want := uint32(ts0 + opusFrame*i); f.ts != want {
			t.Errorf("frame %d: ts %d, want %d", i, f.ts, want)
		}
		if len(f.pcm) != opusFrame {
			t.Fatalf("frame %d: %d samples", i, len(f.pcm))
		}
	}
	if c := tr.rx.stats.concealed; c != 1 {
		t.Errorf("%d frames recovered, want 1", c)
	}
}

// TestReadFrameEndAndShortBuffer: a buffer shorter than a frame is refused
// (and loses nothing), and the end of the call's media is io.EOF.
func TestReadFrameEndAndShortBuffer(t *testing.T) {
	tr := newTestRx(t, media.CodecAudioUlaw)
	if _, err := tr.rx.ReadFrame(make([]byte, 100)); !errors.Is(err, io.ErrShortBuffer) {
		t.Fatalf("short buffer: %v", err)
	}
	tr.send(7, bytes.Repeat([]byte{0x10}, 160))
	if f := tr.frames(t, 1); f[0].ts != 7 {
		t.Fatalf("ts %d", f[0].ts)
	}
	_ = tr.conn.Close()
	if _, err := tr.rx.ReadFrame(make([]byte, 320)); !errors.Is(err, io.EOF) {
		t.Fatalf("after close: %v, want io.EOF", err)
	}
}

func equalPCM(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BenchmarkReadFrame is the cost of one 20 ms PCMU frame through diago's
// packet reader, the decoder and the frame assembly, for 20 ms packets and
// for 10 ms packets merged in pairs.
func BenchmarkReadFrame(b *testing.B) {
	for _, ptime := range []int{20, 10} {
		b.Run(map[int]string{20: "ptime20", 10: "ptime10"}[ptime], func(b *testing.B) {
			tr := newTestRx(b, media.CodecAudioUlaw)
			per := 8 * ptime
			pkts := 160 / per
			// A second of datagrams, sent again and again with their
			// sequence numbers and timestamps moved on (each cycle is read
			// whole before the next is queued).
			var cycle [][]byte
			for k := 0; k < 50*pkts; k++ {
				cycle = append(cycle, rtpPacket(0, 0, 0, 0x1234, bytes.Repeat([]byte{0x55}, per)))
			}
			var seq uint16
			var ts uint32
			p := make([]byte, 320)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%50 == 0 {
					for _, c := range cycle {
						binary.BigEndian.PutUint16(c[2:], seq)
						binary.BigEndian.PutUint32(c[4:], ts)
						seq++
						ts += uint32(per)
					}
					tr.conn.push(cycle...)
				}
				if _, err := tr.rx.ReadFrame(p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
		})
	}
}
