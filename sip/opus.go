package sip

/*
#cgo pkg-config: opus
#include <opus.h>
#include <stdlib.h>

// opus_encoder_ctl and opus_decoder_ctl are variadic: cgo cannot call them,
// so these wrappers set what the engine needs.
static int sp_opus_enc_setup(OpusEncoder *e, int bitrate, int loss) {
	int r;
	if ((r = opus_encoder_ctl(e, OPUS_SET_BITRATE(bitrate))) != OPUS_OK) return r;
	if ((r = opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(1))) != OPUS_OK) return r;
	if ((r = opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(loss))) != OPUS_OK) return r;
	if ((r = opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE))) != OPUS_OK) return r;
	return opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(5));
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Opus parameters: mono VoIP at 48 kHz, 20 ms frames, about 28 kbit/s
// with in-band FEC (a lost packet is recovered from the next one).
const (
	opusRate        = 48000
	opusFrame       = opusRate / 50 // samples per 20 ms
	opusBitrate     = 28000
	opusLossPercent = 10
	opusMaxPacket   = 1275 // RFC 6716 §3.4: the largest frame
)

// opusEncoder is one call's Opus encoder; it is not safe for concurrent use.
type opusEncoder struct{ st *C.OpusEncoder }

func newOpusEncoder() (*opusEncoder, error) {
	var cerr C.int
	st := C.opus_encoder_create(opusRate, 1, C.OPUS_APPLICATION_VOIP, &cerr)
	if cerr != C.OPUS_OK || st == nil {
		return nil, fmt.Errorf("%w: opus encoder: %s", ErrCodec, opusError(cerr))
	}
	if r := C.sp_opus_enc_setup(st, opusBitrate, opusLossPercent); r != C.OPUS_OK {
		C.opus_encoder_destroy(st)
		return nil, fmt.Errorf("%w: opus encoder settings: %s", ErrCodec, opusError(r))
	}
	e := &opusEncoder{st: st}
	// A call whose writer never sees the end of its media still frees
	// the C state once the encoder is unreachable.
	runtime.SetFinalizer(e, (*opusEncoder).close)
	return e, nil
}

// encode encodes one 20 ms frame (opusFrame samples) into out and returns
// the packet's length.
func (e *opusEncoder) encode(pcm []int16, out []byte) (int, error) {
	if e.st == nil {
		return 0, fmt.Errorf("%w: opus encoder closed", ErrCodec)
	}
	if len(pcm) != opusFrame || len(out) == 0 {
		return 0, fmt.Errorf("%w: opus frame of %d samples", ErrCodec, len(pcm))
	}
	n := C.opus_encode(e.st, (*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)),
		(*C.uchar)(unsafe.Pointer(&out[0])), C.opus_int32(len(out)))
	if n < 0 {
		return 0, fmt.Errorf("%w: opus encode: %s", ErrCodec, opusError(n))
	}
	return int(n), nil
}

func (e *opusEncoder) close() {
	if e.st != nil {
		C.opus_encoder_destroy(e.st)
		e.st = nil
	}
}

// opusDecoder is one call's Opus decoder (mono output whatever the far end
// encodes); it is not safe for concurrent use.
type opusDecoder struct{ st *C.OpusDecoder }

func newOpusDecoder() (*opusDecoder, error) {
	var cerr C.int
	st := C.opus_decoder_create(opusRate, 1, &cerr)
	if cerr != C.OPUS_OK || st == nil {
		return nil, fmt.Errorf("%w: opus decoder: %s", ErrCodec, opusError(cerr))
	}
	d := &opusDecoder{st: st}
	runtime.SetFinalizer(d, (*opusDecoder).close)
	return d, nil
}

// decode decodes packet into pcm (room for at least one 20 ms frame) and
// returns the samples written. fec decodes the forward error correction
// data in packet, which stands for the frame before it; a nil packet
// conceals one lost frame of len(pcm) samples (PLC).
func (d *opusDecoder) decode(packet []byte, pcm []int16, fec bool) (int, error) {
	if d.st == nil {
		return 0, fmt.Errorf("%w: opus decoder closed", ErrCodec)
	}
	if len(pcm) == 0 {
		return 0, fmt.Errorf("%w: no room to decode", ErrCodec)
	}
	var data *C.uchar
	if len(packet) > 0 {
		data = (*C.uchar)(unsafe.Pointer(&packet[0]))
	}
	f := C.int(0)
	if fec {
		f = 1
	}
	n := C.opus_decode(d.st, data, C.opus_int32(len(packet)),
		(*C.opus_int16)(unsafe.Pointer(&pcm[0])), C.int(len(pcm)), f)
	if n < 0 {
		return 0, fmt.Errorf("%w: opus decode: %s", ErrCodec, opusError(n))
	}
	return int(n), nil
}

func (d *opusDecoder) close() {
	if d.st != nil {
		C.opus_decoder_destroy(d.st)
		d.st = nil
	}
}

func opusError(code C.int) string { return C.GoString(C.opus_strerror(code)) }
