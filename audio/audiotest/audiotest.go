// Package audiotest provides fakes for testing package audio and its users
// without sound hardware: a Driver whose devices are clocked by a ticker
// (like baresip's mock_auplay) and record what is played, and an
// AudioSource whose calls send a paced tone and record what they receive.
//
// It imports audio and agent/domain only, and must never be imported by
// non-test code.
//
// # Concurrency contract
//
// Every method is safe for concurrent use.
package audiotest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
)

// HostAPI is the host API name of the fake devices.
const HostAPI = "Fake"

// DefaultName is the name of the fake default device.
const DefaultName = "Fake default"

// Driver is a fake audio.Driver. Every device is both input and output.
// Inputs produce a sine of the device's tone (MicTone, default 1000 Hz);
// outputs keep the last seconds they played.
type Driver struct {
	mu      sync.Mutex
	names   []string
	gone    map[string]bool
	tones   map[string]float64
	streams []*Stream
	scans   int
}

// NewDriver returns a driver with the default device and the named ones.
func NewDriver(names ...string) *Driver {
	return &Driver{names: append([]string{DefaultName}, names...), gone: map[string]bool{}, tones: map[string]float64{}}
}

// ID is the DeviceID of a fake device.
func ID(name string) audio.DeviceID { return audio.DeviceID{HostAPI: HostAPI, Name: name} }

// SetMicTone sets the frequency the input of device name produces (0: silence).
func (d *Driver) SetMicTone(name string, hz float64) {
	d.mu.Lock()
	d.tones[name] = hz
	d.mu.Unlock()
}

// Vanish makes a device disappear: its running streams stop calling back
// (as when a USB headset is pulled) and it can no longer be opened.
func (d *Driver) Vanish(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gone[name] = true
	for _, s := range d.streams {
		if s.name == name {
			s.vanish()
		}
	}
}

// Plug makes a vanished device available again.
func (d *Driver) Plug(name string) {
	d.mu.Lock()
	delete(d.gone, name)
	d.mu.Unlock()
}

// Scans counts the calls to Scan.
func (d *Driver) Scans() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.scans
}

// Scan implements audio.Driver.
func (d *Driver) Scan() ([]audio.Device, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.scans++
	var out []audio.Device
	for _, n := range d.names {
		if d.gone[n] {
			continue
		}
		out = append(out, audio.Device{ID: ID(n), Inputs: 1, Outputs: 1, DefaultRate: 48000,
			DefaultInput: n == DefaultName, DefaultOutput: n == DefaultName, DefaultHostAPI: true})
	}
	return out, nil
}

// Open implements audio.Driver.
func (d *Driver) Open(cfg audio.StreamConfig) (audio.Stream, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	id := cfg.Output
	if cfg.Input != nil {
		id = cfg.Input
	}
	if id == nil || cfg.Callback == nil || cfg.Rate <= 0 || cfg.FramesPerBuffer <= 0 {
		return nil, fmt.Errorf("%w: bad stream config", audio.ErrNoDevice)
	}
	name := id.Name
	if id.IsDefault() {
		name = DefaultName
	}
	known := false
	for _, n := range d.names {
		known = known || n == name
	}
	if !known || d.gone[name] {
		return nil, fmt.Errorf("%w: %s not found", audio.ErrNoDevice, id)
	}
	tone, ok := d.tones[name]
	if !ok {
		tone = 1000
	}
	s := &Stream{name: name, input: cfg.Input != nil, cfg: cfg, tone: tone, quit: make(chan struct{}), done: make(chan struct{})}
	d.streams = append(d.streams, s)
	return s, nil
}

// Close implements audio.Driver.
func (d *Driver) Close() error { return nil }

// Played returns the last samples the most recent output stream on device
// name played (nil if none).
func (d *Driver) Played(name string) []float32 {
	d.mu.Lock()
	var s *Stream
	for _, x := range d.streams {
		if x.name == name && !x.input {
			s = x
		}
	}
	d.mu.Unlock()
	if s == nil {
		return nil
	}
	return s.Played()
}

// OpenStreams counts the streams started and not closed, per device.
func (d *Driver) OpenStreams() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	m := map[string]int{}
	for _, s := range d.streams {
		if s.running() {
			m[s.name]++
		}
	}
	return m
}

// Stream is a fake stream clocked by a ticker.
type Stream struct {
	name    string
	input   bool
	cfg     audio.StreamConfig
	tone    float64
	mu      sync.Mutex
	played  []float32
	started bool
	closed  bool
	gone    bool
	quit    chan struct{}
	done    chan struct{}
}

const keep = 5 // seconds of output kept

// Device implements audio.Stream.
func (s *Stream) Device() audio.DeviceID { return ID(s.name) }

// Start implements audio.Stream.
func (s *Stream) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return errors.New("fake stream: already started or closed")
	}
	s.started = true
	go s.run()
	return nil
}

func (s *Stream) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started && !s.closed
}

func (s *Stream) vanish() {
	s.mu.Lock()
	s.gone = true
	s.mu.Unlock()
}

func (s *Stream) run() {
	defer close(s.done)
	fpb := s.cfg.FramesPerBuffer
	period := time.Duration(fpb) * time.Second / time.Duration(s.cfg.Rate)
	buf := make([]float32, fpb)
	t := time.NewTicker(period)
	defer t.Stop()
	start := time.Now()
	var n int64 // buffers delivered
	var phase int64
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		s.mu.Lock()
		gone := s.gone
		s.mu.Unlock()
		if gone {
			continue
		}
		due := int64(time.Since(start) / period)
		for ; n < due; n++ {
			if s.input {
				for i := range buf {
					buf[i] = float32(0.3 * math.Sin(2*math.Pi*s.tone*float64(phase)/float64(s.cfg.Rate)))
					phase++
				}
				s.cfg.Callback(buf, nil)
			} else {
				s.cfg.Callback(nil, buf)
				s.mu.Lock()
				s.played = append(s.played, buf...)
				if over := len(s.played) - keep*s.cfg.Rate; over > s.cfg.Rate {
					s.played = append(s.played[:0], s.played[over:]...)
				}
				s.mu.Unlock()
			}
		}
	}
}

// Played returns a copy of what the stream played (the last seconds).
func (s *Stream) Played() []float32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]float32(nil), s.played...)
}

// Close implements audio.Stream.
func (s *Stream) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	started := s.started
	s.mu.Unlock()
	close(s.quit)
	if started {
		<-s.done
	}
	return nil
}

// Source is a fake domain.AudioSource.
type Source struct {
	mu    sync.Mutex
	calls map[domain.CallID]*Call
}

// NewSource returns an empty source.
func NewSource() *Source { return &Source{calls: map[domain.CallID]*Call{}} }

// Add creates call id with audio at rate Hz whose far end sends a sine of
// freq Hz (0: silence), paced in real time like the network.
func (s *Source) Add(id domain.CallID, rate int, freq float64) *Call {
	c := &Call{id: id, rate: rate, freq: freq, frame: rate / 50, quit: make(chan struct{})}
	s.mu.Lock()
	s.calls[id] = c
	s.mu.Unlock()
	return c
}

// CallAudio implements domain.AudioSource.
func (s *Source) CallAudio(id domain.CallID) (domain.CallAudio, error) {
	s.mu.Lock()
	c := s.calls[id]
	s.mu.Unlock()
	if c == nil {
		return domain.CallAudio{}, fmt.Errorf("fake source: no call %s", id)
	}
	return domain.CallAudio{SampleRate: c.rate, FrameSize: c.frame, Rx: (*rx)(c), Tx: (*tx)(c)}, nil
}

// CallStats implements domain.AudioSource.
func (s *Source) CallStats(id domain.CallID) (domain.CallStats, error) {
	return domain.CallStats{Codec: "L16"}, nil
}

// Call is one fake call.
type Call struct {
	id    domain.CallID
	rate  int
	freq  float64
	frame int
	quit  chan struct{}
	once  sync.Once

	mu      sync.Mutex
	start   time.Time
	sent    int64
	got     []float32
	written int64
	// PaceTx makes Tx.Write sleep a frame, like diago's RTP writer.
	PaceTx bool
	// TxSlowdown stretches that sleep (0.05: the network clock runs 5 %
	// slower than the sound card).
	TxSlowdown float64
}

// Hangup ends the call: Rx returns io.EOF and Tx fails.
func (c *Call) Hangup() { c.once.Do(func() { close(c.quit) }) }

// Received returns the last seconds the call received on Tx, decoded.
func (c *Call) Received() []float32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]float32(nil), c.got...)
}

// Written is how many samples Tx received in total.
func (c *Call) Written() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.written
}

type rx Call

func (r *rx) Read(p []byte) (int, error) {
	c := (*Call)(r)
	c.mu.Lock()
	if c.start.IsZero() {
		c.start = time.Now()
	}
	due := c.start.Add(time.Duration(c.sent) * time.Second / time.Duration(c.rate))
	c.mu.Unlock()
	select {
	case <-c.quit:
		return 0, io.EOF
	case <-time.After(time.Until(due)):
	}
	n := min(len(p)/2, c.frame)
	c.mu.Lock()
	for i := 0; i < n; i++ {
		v := 0.3 * math.Sin(2*math.Pi*c.freq*float64(c.sent)/float64(c.rate))
		binary.LittleEndian.PutUint16(p[2*i:], uint16(int16(v*32767)))
		c.sent++
	}
	c.mu.Unlock()
	return 2 * n, nil
}

type tx Call

func (w *tx) Write(p []byte) (int, error) {
	c := (*Call)(w)
	select {
	case <-c.quit:
		return 0, io.ErrClosedPipe
	default:
	}
	if c.PaceTx {
		time.Sleep(time.Duration(float64(time.Duration(len(p)/2)*time.Second/time.Duration(c.rate)) * (1 + c.TxSlowdown)))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i+1 < len(p); i += 2 {
		c.got = append(c.got, float32(int16(binary.LittleEndian.Uint16(p[i:])))/32768)
	}
	c.written += int64(len(p) / 2)
	if over := len(c.got) - keep*c.rate; over > c.rate {
		c.got = append(c.got[:0], c.got[over:]...)
	}
	return len(p), nil
}

// Sink is a domain.EventSink that keeps what is posted.
type Sink struct {
	mu sync.Mutex
	in []domain.Input
	ch chan domain.Input
}

// NewSink returns an empty sink.
func NewSink() *Sink { return &Sink{ch: make(chan domain.Input, 1024)} }

// Post implements domain.EventSink.
func (s *Sink) Post(in domain.Input) error {
	s.mu.Lock()
	s.in = append(s.in, in)
	s.mu.Unlock()
	select {
	case s.ch <- in:
	default:
	}
	return nil
}

// Wait returns the next posted input, or nil after d.
func (s *Sink) Wait(d time.Duration) domain.Input {
	select {
	case in := <-s.ch:
		return in
	case <-time.After(d):
		return nil
	}
}
