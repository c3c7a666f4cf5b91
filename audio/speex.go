//go:build cgo

package audio

/*
#cgo pkg-config: speexdsp
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>

static int set_int(SpeexPreprocessState *st, int req, int v) { return speex_preprocess_ctl(st, req, &v); }
static int set_float(SpeexPreprocessState *st, int req, float v) { return speex_preprocess_ctl(st, req, &v); }
static int set_echo_rate(SpeexEchoState *st, int rate) { return speex_echo_ctl(st, SPEEX_ECHO_SET_SAMPLING_RATE, &rate); }
static int link_echo(SpeexPreprocessState *pp, SpeexEchoState *ec) { return speex_preprocess_ctl(pp, SPEEX_PREPROCESS_SET_ECHO_STATE, ec); }
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// echoTail is the echo path length the canceller models.
const echoTail = 200 // ms

// speex is the processor over Debian's libspeexdsp: the MDF echo canceller
// and the preprocessor (noise suppression, AGC, residual echo suppression).
type speex struct {
	ec       *C.SpeexEchoState
	pp       *C.SpeexPreprocessState
	mic, ref []int16
	out      []int16
}

func newSpeex(rate, frame int, aec, ns, agc bool) (*speex, error) {
	s := &speex{mic: make([]int16, frame), ref: make([]int16, frame), out: make([]int16, frame)}
	if aec {
		s.ec = C.speex_echo_state_init(C.int(frame), C.int(rate*echoTail/1000))
		if s.ec == nil {
			return nil, fmt.Errorf("speex echo canceller init failed")
		}
		C.set_echo_rate(s.ec, C.int(rate))
	}
	if ns || agc || aec {
		s.pp = C.speex_preprocess_state_init(C.int(frame), C.int(rate))
		if s.pp == nil {
			s.Close()
			return nil, fmt.Errorf("speex preprocessor init failed")
		}
		C.set_int(s.pp, C.SPEEX_PREPROCESS_SET_DENOISE, boolInt(ns))
		C.set_int(s.pp, C.SPEEX_PREPROCESS_SET_AGC, boolInt(agc))
		C.set_int(s.pp, C.SPEEX_PREPROCESS_SET_DEREVERB, 0)
		if ns {
			C.set_int(s.pp, C.SPEEX_PREPROCESS_SET_NOISE_SUPPRESS, -25)
		}
		if agc {
			C.set_float(s.pp, C.SPEEX_PREPROCESS_SET_AGC_LEVEL, 8000)
			C.set_int(s.pp, C.SPEEX_PREPROCESS_SET_AGC_MAX_GAIN, 20)
		}
		if s.ec != nil {
			C.link_echo(s.pp, s.ec)
		}
	}
	return s, nil
}

func boolInt(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// Process implements processor.
func (s *speex) Process(mic, ref []float32) {
	for i := range s.mic {
		s.mic[i] = toInt16(mic[i])
		s.ref[i] = toInt16(ref[i])
	}
	buf := s.mic
	if s.ec != nil {
		C.speex_echo_cancellation(s.ec, (*C.spx_int16_t)(unsafe.Pointer(&s.mic[0])),
			(*C.spx_int16_t)(unsafe.Pointer(&s.ref[0])), (*C.spx_int16_t)(unsafe.Pointer(&s.out[0])))
		buf = s.out
	}
	if s.pp != nil {
		C.speex_preprocess_run(s.pp, (*C.spx_int16_t)(unsafe.Pointer(&buf[0])))
	}
	for i := range mic {
		mic[i] = float32(buf[i]) / 32768
	}
}

// Close implements processor.
func (s *speex) Close() {
	if s.pp != nil {
		C.speex_preprocess_state_destroy(s.pp)
		s.pp = nil
	}
	if s.ec != nil {
		C.speex_echo_state_destroy(s.ec)
		s.ec = nil
	}
}
