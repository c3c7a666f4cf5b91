package audio

import "errors"

// Sentinel errors of package audio.
var (
	// ErrNotImplemented is returned by the driver on builds without PortAudio.
	ErrNotImplemented = errors.New("audio: not implemented on this build")
	// ErrNoDevice means no input or output device could be opened.
	ErrNoDevice = errors.New("audio: no usable audio device")
	// ErrBadWAV means a file is not a 16-bit PCM WAV file.
	ErrBadWAV = errors.New("audio: not a 16-bit pcm wav file")
	// ErrBadName means an announcement name is empty or contains a path.
	ErrBadName = errors.New("audio: bad announcement name")
	// ErrNoRecordingsDir means recording was asked for but no directory was configured.
	ErrNoRecordingsDir = errors.New("audio: no recordings directory")
	// ErrClosed means the engine was closed.
	ErrClosed = errors.New("audio: engine closed")
	// ErrUnknownRecording means a pause, resume or stop named no running recording.
	ErrUnknownRecording = errors.New("audio: no such recording")
	// ErrEchoNoisy: EchoCheck's call already carries a 1 kHz tone, so its
	// test beeps could not be told apart (nothing was measured).
	ErrEchoNoisy = errors.New("audio: the line is not quiet")
)
