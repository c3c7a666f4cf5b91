//go:build cgo && !noportaudio

package audio

/*
#cgo pkg-config: portaudio-2.0
#include <stdint.h>
#include <stdlib.h>
#include <portaudio.h>
PaError sp_open_stream(PaStream **s, int dev, int input, double rate, unsigned long fpb, double latency, uintptr_t handle);
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/gordonklaus/portaudio"
)

// PortAudio is the Driver over PortAudio. Initialisation, termination and
// device enumeration go through github.com/gordonklaus/portaudio, the
// project's chosen binding. The real-time stream path alone uses our thin
// cgo shim (pa_shim.c) over the same libportaudio: that binding reaches the
// callback through reflection and rebuilds slice headers from uintptrs on
// every buffer, which allocates in the callback and aborts under -race
// (checkptr); the shim reaches Go with an integer handle and touches only
// preallocated ring buffers. Calls are serialised by a mutex; Scan
// re-initialises PortAudio, the only way it sees hot-plugged devices, when
// no stream is open.
type PortAudio struct {
	mu     sync.Mutex
	inited bool
	open   int
}

// maxStreams bounds the streams open at once (headset in and out, ringer,
// plus streams whose Close is stuck on a vanished device).
const maxStreams = 64

var paSlots [maxStreams]atomic.Pointer[paStream]

//export spGoCallback
func spGoCallback(h C.uintptr_t, in, out *C.float, frames C.ulong) {
	s := paSlots[int(h)%maxStreams].Load()
	if s == nil {
		if out != nil {
			clear(unsafe.Slice((*float32)(unsafe.Pointer(out)), int(frames)))
		}
		return
	}
	var i, o []float32
	if in != nil {
		i = unsafe.Slice((*float32)(unsafe.Pointer(in)), int(frames))
	}
	if out != nil {
		o = unsafe.Slice((*float32)(unsafe.Pointer(out)), int(frames))
	}
	s.cb(i, o)
}

func paErr(e C.PaError) error {
	if e == C.paNoError {
		return nil
	}
	return errors.New(C.GoString(C.Pa_GetErrorText(e)))
}

// NewPortAudio initialises PortAudio.
func NewPortAudio() (*PortAudio, error) {
	if err := portaudio.Initialize(); err != nil {
		return nil, fmt.Errorf("initialize portaudio: %w", err)
	}
	return &PortAudio{inited: true}, nil
}

// Scan implements Driver.
func (p *PortAudio) Scan() ([]Device, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open == 0 && p.inited {
		_ = portaudio.Terminate()
		p.inited = false
	}
	if !p.inited {
		if err := portaudio.Initialize(); err != nil {
			return nil, fmt.Errorf("initialize portaudio: %w", err)
		}
		p.inited = true
	}
	devs, err := portaudio.Devices()
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	defAPI := ""
	if h, err := portaudio.DefaultHostApi(); err == nil && h != nil {
		defAPI = h.Name
	}
	out := make([]Device, 0, len(devs))
	for _, d := range devs {
		if d == nil || d.HostApi == nil {
			continue
		}
		h := d.HostApi
		out = append(out, Device{
			ID:             DeviceID{HostAPI: h.Name, Name: d.Name},
			Inputs:         d.MaxInputChannels,
			Outputs:        d.MaxOutputChannels,
			DefaultRate:    d.DefaultSampleRate,
			DefaultInput:   h.DefaultInputDevice != nil && h.DefaultInputDevice.Index == d.Index,
			DefaultOutput:  h.DefaultOutputDevice != nil && h.DefaultOutputDevice.Index == d.Index,
			DefaultHostAPI: h.Name == defAPI,
		})
	}
	return out, nil
}

// find returns the device index of id, or of the default device.
func (p *PortAudio) find(id DeviceID, input bool) (C.PaDeviceIndex, error) {
	if id.IsDefault() {
		var d C.PaDeviceIndex
		if input {
			d = C.Pa_GetDefaultInputDevice()
		} else {
			d = C.Pa_GetDefaultOutputDevice()
		}
		if d == C.paNoDevice {
			return 0, fmt.Errorf("%w: no default device", ErrNoDevice)
		}
		return d, nil
	}
	n := int(C.Pa_GetDeviceCount())
	for i := 0; i < n; i++ {
		d := C.Pa_GetDeviceInfo(C.PaDeviceIndex(i))
		if d == nil || C.GoString(d.name) != id.Name {
			continue
		}
		if h := C.Pa_GetHostApiInfo(d.hostApi); h == nil || id.HostAPI != "" && C.GoString(h.name) != id.HostAPI {
			continue
		}
		if input && d.maxInputChannels > 0 || !input && d.maxOutputChannels > 0 {
			return C.PaDeviceIndex(i), nil
		}
	}
	return 0, fmt.Errorf("%w: %s not found", ErrNoDevice, id)
}

// Open implements Driver.
func (p *PortAudio) Open(cfg StreamConfig) (Stream, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.inited {
		return nil, fmt.Errorf("%w: portaudio not initialised", ErrNoDevice)
	}
	input := cfg.Input != nil
	want := cfg.Output
	if input {
		want = cfg.Input
	}
	if want == nil || cfg.Callback == nil {
		return nil, fmt.Errorf("%w: bad stream config", ErrNoDevice)
	}
	idx, err := p.find(*want, input)
	if err != nil {
		return nil, err
	}
	slot := -1
	for i := range paSlots {
		if paSlots[i].Load() == nil {
			slot = i
			break
		}
	}
	if slot < 0 {
		return nil, fmt.Errorf("%w: too many streams", ErrNoDevice)
	}
	d := C.Pa_GetDeviceInfo(idx)
	h := C.Pa_GetHostApiInfo(d.hostApi)
	s := &paStream{p: p, cb: cfg.Callback, slot: slot,
		id: DeviceID{HostAPI: C.GoString(h.name), Name: C.GoString(d.name)}}
	paSlots[slot].Store(s)
	in := C.int(0)
	if input {
		in = 1
	}
	var cs unsafe.Pointer
	if err := paErr(C.sp_open_stream(&cs, C.int(idx), in, C.double(cfg.Rate), C.ulong(cfg.FramesPerBuffer),
		C.double(cfg.Latency.Seconds()), C.uintptr_t(slot))); err != nil {
		paSlots[slot].Store(nil)
		return nil, fmt.Errorf("%w: open %s: %v", ErrNoDevice, *want, err)
	}
	s.s = cs
	p.open++
	return s, nil
}

// Close implements Driver.
func (p *PortAudio) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.inited {
		return nil
	}
	p.inited = false
	return portaudio.Terminate()
}

type paStream struct {
	p      *PortAudio
	s      unsafe.Pointer // PaStream*
	cb     func(in, out []float32)
	slot   int
	id     DeviceID
	closed bool
}

func (s *paStream) Device() DeviceID { return s.id }

func (s *paStream) Start() error {
	if err := paErr(C.Pa_StartStream(s.s)); err != nil {
		return fmt.Errorf("start %s: %w", s.id, err)
	}
	return nil
}

func (s *paStream) Close() error {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.p.open--
	err := errors.Join(paErr(C.Pa_AbortStream(s.s)), paErr(C.Pa_CloseStream(s.s)))
	paSlots[s.slot].Store(nil)
	return err
}
