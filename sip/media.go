package sip

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
)

// callMedia is a connected call's audio: decoded PCM in (Rx) and out
// (Tx), RFC 4733 DTMF, and statistics counted on the packets themselves.
type callMedia struct {
	codec media.Codec // as negotiated (its payload type is the peer's)
	kind  codecKind
	dtmf  media.Codec // telephone-event as negotiated
	rtpR  *media.RTPPacketReader
	rtpW  *media.RTPPacketWriter
	rtcp  *rtcpRTT

	rx *rxReader
	tx *txWriter
}

func (e *Engine) attachMedia(c *call, dm *diago.DialogMedia) error {
	if dm.RTPPacketReader == nil || dm.RTPPacketWriter == nil || dm.MediaSession() == nil {
		return ErrNoMedia
	}
	sess := dm.MediaSession()
	codec := media.CodecAudioFromSession(sess)
	kind := kindOf(codec)
	if kind == kindUnknown {
		return fmt.Errorf("%w: negotiated codec %s", ErrUnsupported, codec.Name)
	}
	m := &callMedia{codec: codec, kind: kind, dtmf: media.CodecTelephoneEvent8000,
		rtpR: dm.RTPPacketReader, rtpW: dm.RTPPacketWriter}
	for _, cc := range sess.CommonCodecs() {
		if strings.EqualFold(cc.Name, media.CodecTelephoneEvent8000.Name) && cc.SampleRate == 8000 {
			m.dtmf = cc
			break
		}
	}
	rxc, txc, err := newCodecPair(kind)
	if err != nil {
		return err
	}
	m.rx = newRxReader(m, rxc, func(d string) { e.dtmfReceived(c.id, d) })
	m.tx = &txWriter{m: m, enc: txc}
	if rs := dm.RTPSession(); rs != nil {
		m.rtcp = newRTCPRTT()
		m.rtcp.hook(rs)
	}
	c.mu.Lock()
	c.media = m
	c.mu.Unlock()
	return nil
}

// mediaUpdated runs on diago's re-INVITE handling; the packet reader and
// writer are updated in place by diago, so only the codec may change.
func (e *Engine) mediaUpdated(c *call) {
	c.mu.Lock()
	m := c.media
	c.mu.Unlock()
	if m == nil {
		return
	}
	e.log.Debug("media updated", "call_id", string(c.id))
}

// newRxReader returns the receive side of m, decoding with dec and
// reporting RFC 4733 digits to onDigit.
func newRxReader(m *callMedia, dec frameDecoder, onDigit func(string)) *rxReader {
	scale := uint32(1)
	if rtp := int(m.codec.SampleRate); rtp > 0 && pcmRate(m.kind)%rtp == 0 {
		scale = uint32(pcmRate(m.kind) / rtp)
	}
	return &rxReader{m: m, buf: make([]byte, media.RTPBufSize), dec: dec, onDigit: onDigit, tsScale: scale}
}

// rxReader decodes received RTP into PCM. DTMF (telephone-event) and
// other payload types are skipped, never decoded as audio.
type rxReader struct {
	m       *callMedia
	mu      sync.Mutex
	buf     []byte
	pending []byte
	dec     frameDecoder

	onDigit   func(string)
	lastEvTS  uint32
	haveEvent bool

	// tsScale turns RTP timestamps into PCM samples (2 for G.722).
	tsScale uint32
	asm     frameAsm // ReadFrame's frames

	stats rxStats
}

type rxStats struct {
	mu        sync.Mutex
	packets   uint64
	first     bool
	baseSeq   uint16
	cycles    int64
	maxSeq    uint16
	expected  int64
	jitter    float64 // in timestamp units
	lastTrans float64
	haveTrans bool
	concealed uint64 // frames recovered (FEC) or concealed (PLC)
}

func (s *rxStats) add(seq uint16, ts uint32, rate int, arrival time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.packets++
	if !s.first {
		s.first, s.baseSeq, s.maxSeq = true, seq, seq
	} else if d := seq - s.maxSeq; d < 0x8000 && d != 0 {
		if seq < s.maxSeq {
			s.cycles++
		}
		s.maxSeq = seq
	}
	s.expected = s.cycles<<16 + int64(s.maxSeq) - int64(s.baseSeq) + 1
	// RFC 3550 A.8 interarrival jitter.
	arr := float64(arrival.UnixNano()) / 1e9 * float64(rate)
	transit := arr - float64(ts)
	if s.haveTrans {
		d := math.Abs(transit - s.lastTrans)
		s.jitter += (d - s.jitter) / 16
	}
	s.lastTrans, s.haveTrans = transit, true
}

// Read returns decoded PCM (16-bit LE mono at the codec's PCM rate:
// CallAudio's SampleRate), blocking until a packet arrives. It returns
// io.EOF when the call's media is closed.
func (r *rxReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.pending) == 0 {
		out, _, _, err := r.nextAudio(r.pending[:0])
		if err != nil {
			return 0, err
		}
		r.pending = out
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// nextAudio reads packets until one of the call's audio codec decodes,
// and returns its PCM appended to dst, the timestamp of the first sample
// in PCM samples (see ReadFrame) and the packet's SSRC. RFC 4733 events
// are reported (once per event) and skipped, as are other payload types
// (comfort noise), empty and malformed packets.
func (r *rxReader) nextAudio(dst []byte) ([]byte, uint32, uint32, error) {
	for {
		n, err := r.m.rtpR.Read(r.buf)
		if err != nil {
			if errors.Is(err, io.ErrClosedPipe) {
				r.dec.close()
				return dst, 0, 0, io.EOF
			}
			return dst, 0, 0, err
		}
		if n == 0 {
			continue // keep-alive: the header is not even updated
		}
		h := r.m.rtpR.PacketHeader
		if h.PayloadType != r.m.codec.PayloadType {
			if h.PayloadType == r.m.dtmf.PayloadType && n >= 4 {
				// RFC 4733: one event spans packets with the same
				// timestamp; report it once.
				if !r.haveEvent || h.Timestamp != r.lastEvTS {
					r.haveEvent, r.lastEvTS = true, h.Timestamp
					if d := eventDigit(r.buf[0]); d != "" && r.onDigit != nil {
						r.onDigit(d)
					}
				}
			}
			continue // never decoded as audio (comfort noise too)
		}
		r.stats.add(h.SequenceNumber, h.Timestamp, int(r.m.codec.SampleRate), time.Now())
		out, recovered, err := r.dec.decode(h.SequenceNumber, r.buf[:n], dst)
		if recovered > 0 {
			r.stats.mu.Lock()
			r.stats.concealed += uint64(recovered)
			r.stats.mu.Unlock()
		}
		if err != nil {
			dst = out[:0]
			continue // a malformed packet is dropped; the jitter buffer conceals it
		}
		// Recovered frames (Opus FEC/PLC, 20 ms each) come first and
		// stand in for the frames before this packet.
		rate := pcmRate(r.m.kind)
		ts := h.Timestamp*r.tsScale - uint32(recovered*rate/50)
		return out, ts, h.SSRC, nil
	}
}

// txWriter encodes PCM and sends it in 20 ms packets, paced against the
// wall clock only when its writer runs ahead (see send).
type txWriter struct {
	m       *callMedia
	mu      sync.Mutex
	pending []byte
	enc     frameEncoder
	out     []byte
	sent    uint64
	next    time.Time // when the next packet is due in real time
}

// txSlack is how far ahead of real time a writer may send before Write
// sleeps: the audio engine's frames, clocked by the sound card, never
// wait; a loop writing a tone or a file as fast as it can is held to real
// time.
const txSlack = 60 * time.Millisecond

// send writes one encoded 20 ms frame as an RTP packet. diago's
// RTPPacketWriter.Write waits for its own 20 ms ticker after every packet,
// so a frame the audio engine made on the sound card's clock waited up to
// 20 ms more (and the writer woke twice a frame); WriteSamples sends at
// once, with the same timestamps, sequence numbers and first-packet marker.
func (w *txWriter) send(pkt []byte) error {
	now := time.Now()
	if w.next.IsZero() || now.Sub(w.next) > txSlack {
		w.next = now // the first packet, or a pause: real time restarts here
	}
	if ahead := w.next.Sub(now); ahead > txSlack {
		time.Sleep(ahead - txSlack)
	}
	w.next = w.next.Add(20 * time.Millisecond)
	_, err := w.m.rtpW.WriteSamples(pkt, w.m.codec.SampleTimestamp(), w.sent == 0, w.m.codec.PayloadType)
	return err
}

// Write accepts 16-bit LE mono PCM at the codec's PCM rate (CallAudio's
// SampleRate), any length; whole 20 ms frames are encoded and sent, the
// rest kept for the next Write.
func (w *txWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = append(w.pending, p...)
	fb := 2 * w.enc.frameSamples()
	for len(w.pending) >= fb {
		if cap(w.out) < maxPacket {
			w.out = make([]byte, maxPacket)
		}
		n, err := w.enc.encode(w.pending[:fb], w.out[:maxPacket])
		if err != nil {
			return 0, err
		}
		if err := w.send(w.out[:n]); err != nil {
			if errors.Is(err, io.ErrClosedPipe) {
				w.enc.close()
				return 0, io.EOF
			}
			return 0, err
		}
		w.sent++
		w.pending = w.pending[fb:]
	}
	if len(w.pending) == 0 {
		w.pending = w.pending[:0]
	}
	return len(p), nil
}

// sendDTMF sends RFC 4733 events, serialised with the audio writes so the
// RTP clock stays contiguous.
func (m *callMedia) sendDTMF(digits string) error {
	m.tx.mu.Lock()
	defer m.tx.mu.Unlock()
	dw := media.NewRTPDTMFWriter(m.dtmf, m.rtpW, m.rtpW)
	for _, d := range digits {
		if err := dw.WriteDTMF(d); err != nil {
			return err
		}
		m.tx.sent++
	}
	return nil
}

// CallAudio returns the PCM streams of a connected call (domain.AudioSource).
func (e *Engine) CallAudio(id domain.CallID) (domain.CallAudio, error) {
	c, err := e.call(id)
	if err != nil {
		return domain.CallAudio{}, err
	}
	c.mu.Lock()
	m := c.media
	c.mu.Unlock()
	if m == nil {
		return domain.CallAudio{}, ErrNoMedia
	}
	rate := pcmRate(m.kind)
	return domain.CallAudio{SampleRate: rate, FrameSize: rate / 50, Rx: m.rx, Tx: m.tx}, nil
}

// CallStats returns a connected call's RTP statistics. RTT is our own
// figure from the far end's RTCP reception reports (0 until the first
// report that answers one of our sender reports).
func (e *Engine) CallStats(id domain.CallID) (domain.CallStats, error) {
	c, err := e.call(id)
	if err != nil {
		return domain.CallStats{}, err
	}
	c.mu.Lock()
	m := c.media
	c.mu.Unlock()
	if m == nil {
		return domain.CallStats{}, ErrNoMedia
	}
	m.tx.mu.Lock()
	sent := m.tx.sent
	m.tx.mu.Unlock()
	s := &m.rx.stats
	s.mu.Lock()
	defer s.mu.Unlock()
	lost := s.expected - int64(s.packets)
	if lost < 0 {
		lost = 0
	}
	return domain.CallStats{
		Codec: m.codec.Name, PacketsSent: sent, PacketsReceived: s.packets, PacketsLost: lost,
		Jitter: s.jitter / float64(m.codec.SampleRate) * 1000,
		RTT:    m.rtcp.rttMillis(),
	}, nil
}
