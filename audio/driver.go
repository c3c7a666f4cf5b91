package audio

import "time"

// DeviceID is a device's stable identity: its host API and its name, as
// PortAudio reports them. Indices change between scans; these do not. The
// zero DeviceID means "the system default", which follows the OS default.
type DeviceID struct {
	HostAPI string `json:"hostApi,omitempty"`
	Name    string `json:"name,omitempty"`
}

// IsDefault reports whether d means "the system default".
func (d DeviceID) IsDefault() bool { return d.Name == "" }

// String is "default" or "host API: name".
func (d DeviceID) String() string {
	if d.IsDefault() {
		return "default"
	}
	return d.HostAPI + ": " + d.Name
}

// Device describes one device found by a scan.
type Device struct {
	ID             DeviceID
	Inputs         int     // input channels (0: not a microphone)
	Outputs        int     // output channels (0: not a speaker)
	DefaultRate    float64 // Hz
	DefaultInput   bool    // the host API's default input
	DefaultOutput  bool    // the host API's default output
	DefaultHostAPI bool    // belongs to the default host API
}

// StreamConfig is what the engine asks a Driver to open: a mono input or
// output stream (exactly one of Input and Output is set).
type StreamConfig struct {
	Input           *DeviceID // capture from this device (nil: not an input stream)
	Output          *DeviceID // play to this device (nil: not an output stream)
	Rate            int       // Hz
	FramesPerBuffer int
	Latency         time.Duration // suggested latency
	// Callback runs on the driver's audio thread for every buffer: in holds
	// captured samples (input streams), out must be filled (output
	// streams). It must not allocate, lock, log or block.
	Callback func(in, out []float32)
}

// Stream is an open device stream.
type Stream interface {
	Start() error
	// Close stops and closes the stream. It may block when the device is
	// gone; the engine calls it off the mixing path with a time limit.
	Close() error
	// Device is the device actually opened.
	Device() DeviceID
}

// Driver is the device layer under the Engine: PortAudio (NewPortAudio) in
// the app, a fake clocked by a ticker in tests (package audiotest).
type Driver interface {
	// Scan lists the devices. Drivers that cannot see hot-plugged devices
	// while a stream is open (PortAudio) rescan only when none is open.
	Scan() ([]Device, error)
	// Open opens a stream; an unknown or unusable device is an error
	// wrapping ErrNoDevice.
	Open(cfg StreamConfig) (Stream, error)
	// Close releases the driver.
	Close() error
}
