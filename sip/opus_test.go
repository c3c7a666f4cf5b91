package sip

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/callcentre/softphone/lab/baresip"
)

// tonePCM is n samples of a sine at hz and rate, as 16-bit LE bytes.
func tonePCM(hz, rate, n, offset int) []byte {
	out := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		v := int16(8000 * math.Sin(2*math.Pi*float64(hz)*float64(i+offset)/float64(rate)))
		binary.LittleEndian.PutUint16(out[2*i:], uint16(v))
	}
	return out
}

func samples(b []byte) []int16 {
	out := make([]int16, len(b)/2)
	for i := range out {
		out[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return out
}

// TestOpusRoundTripAndLossRecovery encodes a 1 kHz tone at the VoIP
// settings, checks the bitrate, decodes it, and drops packets: a single
// loss is recovered from the next packet's FEC, a longer gap concealed, a
// late packet refused.
func TestOpusRoundTripAndLossRecovery(t *testing.T) {
	dec, enc, err := newCodecPair(kindOpus)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.close()
	defer enc.close()
	if enc.frameSamples() != 960 {
		t.Fatalf("frame %d", enc.frameSamples())
	}
	var packets [][]byte
	bytesOut := 0
	for i := 0; i < 100; i++ {
		out := make([]byte, maxPacket)
		n, err := enc.encode(tonePCM(1000, 48000, 960, i*960), out)
		if err != nil {
			t.Fatal(err)
		}
		packets = append(packets, out[:n])
		bytesOut += n
	}
	// 100 packets are 2 s: the bitrate is about the 28 kbit/s asked for
	// (a pure tone may take less).
	if kbps := float64(bytesOut*8) / 2 / 1000; kbps > 40 || kbps < 5 {
		t.Errorf("opus bitrate %.1f kbit/s", kbps)
	}
	var pcm []byte
	recovered := 0
	for i, p := range packets {
		if i == 50 || i == 70 || i == 71 || i == 72 {
			continue // lost
		}
		out, rec, err := dec.decode(seqAt(i), p, nil) // sequence numbers wrap
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		recovered += rec
		pcm = append(pcm, out...)
	}
	if recovered != 4 {
		t.Errorf("recovered %d frames, want 4 (1 by FEC, 3 in a gap)", recovered)
	}
	if got := len(pcm) / 2; got != 100*960 {
		t.Errorf("decoded %d samples, want %d", got, 100*960)
	}
	if sh := baresip.ToneShare(samples(pcm[2*960*10:]), 48000, 1000); sh < 0.8 {
		t.Errorf("1 kHz share after the round trip %.2f", sh)
	}
	if _, _, err := dec.decode(seqAt(98), packets[98], nil); err == nil {
		t.Error("a late packet was decoded")
	}
	if _, _, err := dec.decode(seqAt(100), []byte{0xff, 0xff, 0xff}, nil); err == nil {
		t.Error("a malformed packet was decoded")
	}
	if _, err := enc.encode(make([]byte, 10), make([]byte, maxPacket)); err == nil {
		t.Error("a short frame was encoded")
	}
}

func BenchmarkOpusEncodeDecode(b *testing.B) {
	dec, enc, err := newCodecPair(kindOpus)
	if err != nil {
		b.Fatal(err)
	}
	defer dec.close()
	defer enc.close()
	frame := tonePCM(1000, 48000, 960, 0)
	out := make([]byte, maxPacket)
	var pcm []byte
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, err := enc.encode(frame, out)
		if err != nil {
			b.Fatal(err)
		}
		if pcm, _, err = dec.decode(uint16(i), out[:n], pcm[:0]); err != nil {
			b.Fatal(err)
		}
	}
	// One call is 50 frames each way per second: the share of one core.
	perFrame := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(perFrame*50*100, "%core/call")
}

// seqAt is packet i's sequence number, starting near the 16-bit wrap.
func seqAt(i int) uint16 { return uint16((65500 + i) % 65536) }
