package sip

import (
	"encoding/binary"
	"fmt"

	"github.com/emiago/diago/audio"
)

// maxPacket bounds one encoded 20 ms frame of any codec (Opus's largest).
const maxPacket = opusMaxPacket

// frameEncoder turns 20 ms of 16-bit LE mono PCM into one RTP payload.
// It is used by one goroutine at a time (txWriter's lock).
type frameEncoder interface {
	frameSamples() int
	encode(pcm []byte, out []byte) (int, error)
	close()
}

// frameDecoder turns RTP payloads into 16-bit LE mono PCM appended to dst.
// seq is the packet's RTP sequence number: a decoder that can conceal or
// recover lost frames (Opus) does so on a gap and reports how many frames
// it made up. It is used by one goroutine at a time (rxReader's lock).
type frameDecoder interface {
	decode(seq uint16, payload []byte, dst []byte) (out []byte, recovered int, err error)
	close()
}

// newCodecPair returns the encoder and decoder of a negotiated codec.
func newCodecPair(k codecKind) (frameDecoder, frameEncoder, error) {
	switch k {
	case kindPCMU, kindPCMA:
		return g711Codec{alaw: k == kindPCMA}, g711Codec{alaw: k == kindPCMA}, nil
	case kindOpus:
		dec, err := newOpusDecoder()
		if err != nil {
			return nil, nil, err
		}
		enc, err := newOpusEncoder()
		if err != nil {
			dec.close()
			return nil, nil, err
		}
		return &opusRx{dec: dec, pcm: make([]int16, 6*opusFrame)},
			&opusTx{enc: enc, pcm: make([]int16, opusFrame)}, nil
	case kindG722:
		return newG722Rx(), newG722Tx(), nil
	}
	return nil, nil, fmt.Errorf("%w: codec %s", ErrUnsupported, k)
}

// g711Codec is PCMU or PCMA through diago's tables (stateless).
type g711Codec struct{ alaw bool }

func (g711Codec) frameSamples() int { return 160 }

func (g g711Codec) encode(pcm []byte, out []byte) (int, error) {
	if g.alaw {
		return audio.EncodeAlawTo(out, pcm)
	}
	return audio.EncodeUlawTo(out, pcm)
}

func (g g711Codec) decode(_ uint16, payload []byte, dst []byte) ([]byte, int, error) {
	need := len(dst) + 2*len(payload)
	if cap(dst) < need {
		nd := make([]byte, len(dst), need)
		copy(nd, dst)
		dst = nd
	}
	var n int
	var err error
	if g.alaw {
		n, err = audio.DecodeAlawTo(dst[len(dst):need], payload)
	} else {
		n, err = audio.DecodeUlawTo(dst[len(dst):need], payload)
	}
	if err != nil {
		return dst, 0, err
	}
	return dst[:len(dst)+n], 0, nil
}

func (g711Codec) close() {}

// opusTx encodes 20 ms frames at 48 kHz.
type opusTx struct {
	enc *opusEncoder
	pcm []int16
}

func (o *opusTx) frameSamples() int { return opusFrame }

func (o *opusTx) encode(pcm []byte, out []byte) (int, error) {
	if len(pcm) != 2*opusFrame {
		return 0, fmt.Errorf("%w: opus frame of %d bytes", ErrCodec, len(pcm))
	}
	for i := range o.pcm {
		o.pcm[i] = int16(binary.LittleEndian.Uint16(pcm[2*i:]))
	}
	return o.enc.encode(o.pcm, out)
}

func (o *opusTx) close() { o.enc.close() }

// opusMaxConceal is the longest gap (in frames) Opus fills: the last lost
// frame from the next packet's FEC data, the others by PLC. Longer gaps
// are left to the audio engine's jitter buffer.
const opusMaxConceal = 5

// opusRx decodes Opus with loss recovery.
type opusRx struct {
	dec     *opusDecoder
	pcm     []int16 // room for 120 ms, the longest Opus packet
	lastSeq uint16
	haveSeq bool
}

func (o *opusRx) decode(seq uint16, payload []byte, dst []byte) ([]byte, int, error) {
	recovered := 0
	if o.haveSeq {
		gap := seq - o.lastSeq
		if gap == 0 || gap >= 0x8000 {
			// A duplicate or a late packet: its frame was played (or
			// concealed) already.
			return dst, 0, fmt.Errorf("%w: late opus packet", ErrCodec)
		}
		if lost := int(gap) - 1; lost > 0 && lost <= opusMaxConceal {
			for i := 0; i < lost; i++ {
				var n int
				var err error
				if i == lost-1 {
					n, err = o.dec.decode(payload, o.pcm[:opusFrame], true) // FEC
				} else {
					n, err = o.dec.decode(nil, o.pcm[:opusFrame], false) // PLC
				}
				if err != nil {
					break
				}
				dst = appendPCM(dst, o.pcm[:n])
				recovered++
			}
		}
	}
	o.lastSeq, o.haveSeq = seq, true
	n, err := o.dec.decode(payload, o.pcm, false)
	if err != nil {
		return dst, recovered, err
	}
	return appendPCM(dst, o.pcm[:n]), recovered, nil
}

func (o *opusRx) close() { o.dec.close() }

// appendPCM appends samples to dst as 16-bit little-endian bytes.
func appendPCM(dst []byte, pcm []int16) []byte {
	for _, v := range pcm {
		dst = binary.LittleEndian.AppendUint16(dst, uint16(v))
	}
	return dst
}
