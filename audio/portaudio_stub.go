//go:build !cgo || noportaudio

package audio

// PortAudio is unavailable on this build (no cgo, or the noportaudio tag).
type PortAudio struct{}

// NewPortAudio returns ErrNotImplemented on this build.
func NewPortAudio() (*PortAudio, error) { return nil, ErrNotImplemented }

// Scan implements Driver.
func (*PortAudio) Scan() ([]Device, error) { return nil, ErrNotImplemented }

// Open implements Driver.
func (*PortAudio) Open(StreamConfig) (Stream, error) { return nil, ErrNotImplemented }

// Close implements Driver.
func (*PortAudio) Close() error { return nil }
