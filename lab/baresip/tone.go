package baresip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
)

// ToneShare returns the share (0..1) of the energy of pcm (16-bit mono at
// rate) that lies at hz, measured with a Goertzel filter over 20 ms blocks
// against the block's total energy. Silence gives 0.
func ToneShare(pcm []int16, rate, hz int) float64 {
	block := rate / 50
	var tone, total float64
	for off := 0; off+block <= len(pcm); off += block {
		x := pcm[off : off+block]
		var e float64
		for _, s := range x {
			e += float64(s) * float64(s)
		}
		if e == 0 {
			continue
		}
		total += e
		tone += goertzelPower(x, rate, hz) * 2 / float64(block)
	}
	if total == 0 {
		return 0
	}
	return math.Min(1, tone/total)
}

// goertzelPower is |X(hz)|^2 of x.
func goertzelPower(x []int16, rate, hz int) float64 {
	w := 2 * math.Pi * float64(hz) / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - c*s1*s2
}

// ReadWAV reads a 16-bit PCM WAV file and returns its first channel and
// sample rate.
func ReadWAV(path string) ([]int16, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("not a wav file")
	}
	var rate, channels, bits int
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8:]
		if size > len(body) || (id == "data" && size == 0) {
			size = len(body) // a file still being written (sizes not yet set)
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, 0, errors.New("short fmt chunk")
			}
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			if bits != 16 || channels < 1 {
				return nil, 0, fmt.Errorf("unsupported wav: %d bits, %d channels", bits, channels)
			}
			frames := size / (2 * channels)
			out := make([]int16, frames)
			for i := range out {
				out[i] = int16(binary.LittleEndian.Uint16(body[i*2*channels:]))
			}
			return out, rate, nil
		}
		off += 8 + size + size%2
	}
	return nil, 0, errors.New("no data chunk")
}
