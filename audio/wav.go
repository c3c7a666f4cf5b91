package audio

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// WAVWriter writes 16-bit PCM WAV files. The header's sizes are patched at
// every Flush and at Close, so a file cut short by a crash stays readable up
// to the last flush.
type WAVWriter struct {
	f        *os.File
	channels int
	rate     int
	data     int64 // bytes of sample data written
	buf      []byte
}

// CreateWAV creates (or truncates) path and writes the header.
func CreateWAV(path string, rate, channels int) (*WAVWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create wav: %w", err)
	}
	w := &WAVWriter{f: f, channels: channels, rate: rate}
	if _, err := f.Write(w.header()); err != nil {
		return nil, errors.Join(fmt.Errorf("write wav header: %w", err), f.Close())
	}
	return w, nil
}

func (w *WAVWriter) header() []byte {
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], uint32(36+w.data))
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], uint16(w.channels))
	binary.LittleEndian.PutUint32(h[24:], uint32(w.rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(w.rate*w.channels*2))
	binary.LittleEndian.PutUint16(h[32:], uint16(w.channels*2))
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], uint32(w.data))
	return h
}

// WriteStereo appends frames with left and right (same length) interleaved.
func (w *WAVWriter) WriteStereo(left, right []float32) error {
	w.buf = w.buf[:0]
	for i := range left {
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(toInt16(left[i])))
		w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(toInt16(right[i])))
	}
	n, err := w.f.Write(w.buf)
	w.data += int64(n)
	if err != nil {
		return fmt.Errorf("write wav: %w", err)
	}
	return nil
}

// Flush patches the header and syncs the file.
func (w *WAVWriter) Flush() error {
	if _, err := w.f.WriteAt(w.header(), 0); err != nil {
		return fmt.Errorf("patch wav header: %w", err)
	}
	return nil
}

// Close patches the header and closes the file.
func (w *WAVWriter) Close() error {
	return errors.Join(w.Flush(), w.f.Close())
}

// Frames is the number of samples per channel written so far.
func (w *WAVWriter) Frames() int64 { return w.data / int64(2*w.channels) }

func toInt16(v float32) int16 {
	x := math.Round(float64(v) * 32767)
	return int16(max(-32768, min(32767, x)))
}

// ReadWAV reads a PCM WAV file (8 or 16 bit, 8-bit u-law is not accepted)
// and returns its first channel as float samples and its rate.
func ReadWAV(r io.Reader) ([]float32, int, error) {
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrBadWAV, err)
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return nil, 0, fmt.Errorf("%w: not a RIFF/WAVE file", ErrBadWAV)
	}
	var channels, bits, format int
	rate := 0
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, 0, fmt.Errorf("%w: no data chunk", ErrBadWAV)
		}
		size := int64(binary.LittleEndian.Uint32(ch[4:]))
		id := string(ch[:4])
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return nil, 0, fmt.Errorf("%w: bad fmt chunk", ErrBadWAV)
			}
			b := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, 0, fmt.Errorf("%w: %w", ErrBadWAV, err)
			}
			format = int(binary.LittleEndian.Uint16(b[0:]))
			channels = int(binary.LittleEndian.Uint16(b[2:]))
			rate = int(binary.LittleEndian.Uint32(b[4:]))
			bits = int(binary.LittleEndian.Uint16(b[14:]))
		case "data":
			if format != 1 && format != 0xFFFE || bits != 16 || channels < 1 || channels > 8 || rate < 8000 || rate > 192000 {
				return nil, 0, fmt.Errorf("%w: need 16-bit PCM (format %d, %d bits, %d channels, %d Hz)", ErrBadWAV, format, bits, channels, rate)
			}
			const maxBytes = 64 << 20
			if size > maxBytes || size == 0xFFFFFFFF {
				size = maxBytes
			}
			data, err := io.ReadAll(io.LimitReader(r, size))
			if err != nil {
				return nil, 0, fmt.Errorf("%w: %w", ErrBadWAV, err)
			}
			n := len(data) / (2 * channels)
			out := make([]float32, n)
			for i := range out {
				out[i] = float32(int16(binary.LittleEndian.Uint16(data[i*2*channels:]))) / 32768
			}
			return out, rate, nil
		default:
			if size > 1<<30 {
				return nil, 0, fmt.Errorf("%w: bad chunk size", ErrBadWAV)
			}
			if _, err := io.CopyN(io.Discard, r, size+size%2); err != nil {
				return nil, 0, fmt.Errorf("%w: %w", ErrBadWAV, err)
			}
		}
	}
}
