//go:build cgo && !noportaudio

package audio

import (
	"errors"
	"fmt"
	"sync"

	"github.com/gordonklaus/portaudio"
)

// PortAudio is the Driver over PortAudio. Every call is serialised by a
// mutex; rescans re-initialise PortAudio (the only way it sees hot-plugged
// devices) when no stream is open.
type PortAudio struct {
	mu     sync.Mutex
	inited bool
	open   int
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
		// Re-initialise to see devices plugged in or removed since.
		_ = portaudio.Terminate()
		if err := portaudio.Initialize(); err != nil {
			p.inited = false
			return nil, fmt.Errorf("reinitialize portaudio: %w", err)
		}
	}
	if !p.inited {
		if err := portaudio.Initialize(); err != nil {
			return nil, fmt.Errorf("initialize portaudio: %w", err)
		}
		p.inited = true
	}
	def, err := portaudio.DefaultHostApi()
	if err != nil {
		return nil, fmt.Errorf("default host api: %w", err)
	}
	hs, err := portaudio.HostApis()
	if err != nil {
		return nil, fmt.Errorf("host apis: %w", err)
	}
	var out []Device
	for _, h := range hs {
		for _, d := range h.Devices {
			out = append(out, Device{
				ID:             DeviceID{HostAPI: h.Name, Name: d.Name},
				Inputs:         d.MaxInputChannels,
				Outputs:        d.MaxOutputChannels,
				DefaultRate:    d.DefaultSampleRate,
				DefaultInput:   h.DefaultInputDevice != nil && h.DefaultInputDevice.Index == d.Index,
				DefaultOutput:  h.DefaultOutputDevice != nil && h.DefaultOutputDevice.Index == d.Index,
				DefaultHostAPI: h.Name == def.Name,
			})
		}
	}
	return out, nil
}

func (p *PortAudio) find(id DeviceID, input bool) (*portaudio.DeviceInfo, error) {
	if id.IsDefault() {
		var d *portaudio.DeviceInfo
		var err error
		if input {
			d, err = portaudio.DefaultInputDevice()
		} else {
			d, err = portaudio.DefaultOutputDevice()
		}
		if err != nil || d == nil {
			return nil, fmt.Errorf("%w: no default device: %v", ErrNoDevice, err)
		}
		return d, nil
	}
	hs, err := portaudio.HostApis()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDevice, err)
	}
	for _, h := range hs {
		if h.Name != id.HostAPI && id.HostAPI != "" {
			continue
		}
		for _, d := range h.Devices {
			if d.Name == id.Name && (input && d.MaxInputChannels > 0 || !input && d.MaxOutputChannels > 0) {
				return d, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s not found", ErrNoDevice, id)
}

// Open implements Driver.
func (p *PortAudio) Open(cfg StreamConfig) (Stream, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.inited {
		return nil, fmt.Errorf("%w: portaudio not initialised", ErrNoDevice)
	}
	input := cfg.Input != nil
	var want DeviceID
	if input {
		want = *cfg.Input
	} else {
		want = *cfg.Output
	}
	dev, err := p.find(want, input)
	if err != nil {
		return nil, err
	}
	var prm portaudio.StreamParameters
	if input {
		prm = portaudio.LowLatencyParameters(dev, nil)
		prm.Input.Channels = 1
		prm.Input.Latency = cfg.Latency
	} else {
		prm = portaudio.LowLatencyParameters(nil, dev)
		prm.Output.Channels = 1
		prm.Output.Latency = cfg.Latency
	}
	prm.SampleRate = float64(cfg.Rate)
	prm.FramesPerBuffer = cfg.FramesPerBuffer
	cb := cfg.Callback
	var s *portaudio.Stream
	if input {
		s, err = portaudio.OpenStream(prm, func(in []float32) { cb(in, nil) })
	} else {
		s, err = portaudio.OpenStream(prm, func(out []float32) { cb(nil, out) })
	}
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %v", ErrNoDevice, want, err)
	}
	p.open++
	return &paStream{p: p, s: s, id: DeviceID{HostAPI: dev.HostApi.Name, Name: dev.Name}}, nil
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
	s      *portaudio.Stream
	id     DeviceID
	closed bool
}

func (s *paStream) Device() DeviceID { return s.id }

func (s *paStream) Start() error {
	if err := s.s.Start(); err != nil {
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
	return errors.Join(s.s.Abort(), s.s.Close())
}
