package sip

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math"
	"testing"

	"github.com/callcentre/softphone/lab/baresip"
	"github.com/emiago/diago/media"
)

// g722RoundTrip encodes pcm (16 kHz, 16-bit LE, whole 20 ms frames) with a
// new call's encoder and decodes the packets with a new call's decoder.
func g722RoundTrip(t testing.TB, pcm []byte) []int16 {
	t.Helper()
	dec, enc, err := newCodecPair(kindG722)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.close()
	defer enc.close()
	fb := 2 * enc.frameSamples()
	var out []byte
	for i := 0; i+fb <= len(pcm); i += fb {
		pkt := make([]byte, maxPacket)
		n, err := enc.encode(pcm[i:i+fb], pkt)
		if err != nil {
			t.Fatal(err)
		}
		if n != 160 {
			t.Fatalf("packet of %d bytes, want 160", n)
		}
		if out, _, err = dec.decode(uint16(i/fb), pkt[:n], out); err != nil {
			t.Fatal(err)
		}
	}
	return samples(out)
}

// snrDB is the best signal-to-noise ratio of got against want delayed by
// 16 to 31 samples, over want[skip:] (the codec's adaptation at the start
// is left out), and that delay. The window holds one delay only for a
// 1 kHz or a 5 kHz sine (both repeat every 16 samples).
func snrDB(want, got []int16, skip int) (float64, int) {
	best, bestLag := math.Inf(-1), 0
	for lag := 16; lag < 32; lag++ {
		var sig, noise float64
		for i := skip; i+lag < len(got) && i < len(want); i++ {
			s, g := float64(want[i]), float64(got[i+lag])
			sig += s * s
			noise += (g - s) * (g - s)
		}
		if noise == 0 {
			return math.Inf(1), lag
		}
		if snr := 10 * math.Log10(sig/noise); snr > best {
			best, bestLag = snr, lag
		}
	}
	return best, bestLag
}

// TestG722RoundTripSines: a 1 kHz and a 5 kHz sine at 16 kHz (amplitude
// 8000, about -12 dBFS) come back through our encoder and decoder with
// their shape, delayed by the QMF pair's 22 samples. 5 kHz lies in the
// higher band, which G.711 (8 kHz) cannot carry at all.
//
// Measured here: 1 kHz 47 dB (6-bit lower band), 5 kHz 21.7 dB (the
// higher band has 2 bits per sample; 22-23 dB from 2000 to 20000 in
// amplitude, 26-27 dB at 4.5 and 6 kHz). These are G.722's own figures,
// not our shortfall: TestG722BitExactWithReference shows the codes and
// PCM are those of an independent implementation bit for bit. The bounds
// (40 and 18 dB) leave margin; a wrong table, predictor or QMF phase
// falls far below them (one sample of misalignment alone gives 8 dB at
// 1 kHz and -4 dB at 5 kHz).
func TestG722RoundTripSines(t *testing.T) {
	for _, c := range []struct {
		hz     int
		minSNR float64
	}{{1000, 40}, {5000, 18}} {
		in := tonePCM(c.hz, g722Rate, g722Rate, 0) // 1 s
		out := g722RoundTrip(t, in)
		if len(out) != g722Rate {
			t.Fatalf("%d Hz: decoded %d samples, want %d", c.hz, len(out), g722Rate)
		}
		snr, lag := snrDB(samples(in), out, g722Rate/10)
		t.Logf("%d Hz: snr %.1f dB at a delay of %d samples", c.hz, snr, lag)
		if snr < c.minSNR {
			t.Errorf("%d Hz: snr %.1f dB, want at least %.0f", c.hz, snr, c.minSNR)
		}
		if lag != 22 {
			t.Errorf("%d Hz: delay %d samples, want the QMF pair's 22", c.hz, lag)
		}
		if sh := baresip.ToneShare(out[g722Rate/10:], g722Rate, c.hz); sh < 0.95 {
			t.Errorf("%d Hz: tone share %.2f after the round trip", c.hz, sh)
		}
	}
}

// TestG722SilenceStaysSilent: digital silence decodes to (almost)
// silence, from the first packet: no idle tone, no drift.
func TestG722SilenceStaysSilent(t *testing.T) {
	out := g722RoundTrip(t, make([]byte, 2*2*g722Rate)) // 2 s
	var peak int
	var energy float64
	for _, v := range out {
		a := int(v)
		if a < 0 {
			a = -a
		}
		peak = max(peak, a)
		energy += float64(v) * float64(v)
	}
	rms := math.Sqrt(energy / float64(len(out)))
	t.Logf("silence: peak %d, rms %.2f", peak, rms)
	if peak > 8 || rms > 2 {
		t.Errorf("silence came back with peak %d, rms %.2f (want peak <= 8, rms <= 2)", peak, rms)
	}
}

// g722TestSignal is n samples of a deterministic wideband signal made
// with integer arithmetic only (the same on every platform): triangle
// waves at 300 Hz, a chirp from 200 Hz up to about 5 kHz and 6 kHz,
// noise, with a silent, a quiet and a loud stretch.
func g722TestSignal(n int) []int16 {
	out := make([]int16, n)
	seed := uint32(2463534242)
	var ph1, ph2, ph3 uint32
	tri := func(ph uint32) int32 {
		v := int32(ph>>15) - 65536
		if v < 0 {
			v = -v
		}
		return v - 32768
	}
	for i := range out {
		seed ^= seed << 13
		seed ^= seed >> 17
		seed ^= seed << 5
		ph1 += 80530637                   // 300 Hz
		ph2 += 53687091 + uint32(i)*20000 // 200 Hz, rising
		ph3 += 1610612736                 // 6 kHz
		v := tri(ph1)/4 + tri(ph2)/4 + tri(ph3)/8 + int32(seed>>21) - 1024
		switch i * 8 / n {
		case 2:
			v = 0
		case 3:
			v /= 16
		case 6:
			v = v * 3 / 2
		}
		out[i] = int16(v)
	}
	return out
}

// The SHA-256 of libspandsp's G.722 (64 kbit/s, 16 kHz, unpacked; the
// implementation behind baresip's g722 module and Asterisk's) encoding of
// g722TestSignal(64000), and of its decoding of those codes, computed
// once with libspandsp 0.0.6 (Debian 12) during development.
const (
	g722RefEncodeSHA = "029fde4aa6ae3bd5ded0ffc4faed86e9141d5c32547801f8dc3d625a27ab8d1a"
	g722RefDecodeSHA = "20b279208b04bef671bcb025266bd7a2fb5f3826c56944586d337a6efed9670c"
)

// TestG722BitExactWithReference: our encoder produces exactly the codes
// an independent implementation does for 4 s of varied audio, and our
// decoder exactly its PCM. This pins every table, rounding and
// saturation of the ADPCM: an error anywhere changes the hashes (the
// signal drives the lower band's pole a1 past -1/2, where a 16-bit
// negation saturates).
func TestG722BitExactWithReference(t *testing.T) {
	pcm := g722TestSignal(64000)
	codes, err := newG722Encoder().encode(nil, pcm)
	if err != nil {
		t.Fatal(err)
	}
	if got := sha256.Sum256(codes); hex.EncodeToString(got[:]) != g722RefEncodeSHA {
		t.Errorf("encoded stream differs from the reference (sha256 %x)", got)
	}
	out := newG722Decoder().decode(nil, codes)
	raw := make([]byte, 0, 2*len(out))
	raw = appendPCM(raw, out)
	if got := sha256.Sum256(raw); hex.EncodeToString(got[:]) != g722RefDecodeSHA {
		t.Errorf("decoded PCM differs from the reference (sha256 %x)", got)
	}
}

// TestG722NewStatePerCall: each newCodecPair has its own state (two calls
// decoded interleaved give what each gives alone), the state matters
// (the same packet decodes differently after other audio), and close
// resets it (a reused decoder gives a new one's output again).
func TestG722NewStatePerCall(t *testing.T) {
	a := g722Packets(t, tonePCM(1000, g722Rate, 3200, 0))
	b := g722Packets(t, tonePCM(5000, g722Rate, 3200, 0))
	alone := func(pkts [][]byte) []byte {
		dec, _, err := newCodecPair(kindG722)
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		for i, p := range pkts {
			if out, _, err = dec.decode(uint16(i), p, out); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	wantA, wantB := alone(a), alone(b)
	decA, _, _ := newCodecPair(kindG722)
	decB, _, _ := newCodecPair(kindG722)
	var gotA, gotB []byte
	var err error
	for i := range a {
		if gotA, _, err = decA.decode(uint16(i), a[i], gotA); err != nil {
			t.Fatal(err)
		}
		if gotB, _, err = decB.decode(uint16(i), b[i], gotB); err != nil {
			t.Fatal(err)
		}
	}
	if string(gotA) != string(wantA) || string(gotB) != string(wantB) {
		t.Fatal("two calls' decoders share state")
	}
	// decB has decoded the 5 kHz call: the 1 kHz call's first packet comes
	// out differently there...
	first, _, err := decB.decode(uint16(len(b)), a[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(first) == string(wantA[:len(first)]) {
		t.Fatal("decoding did not depend on the decoder's state")
	}
	// ...and exactly as on a new decoder after close.
	decB.close()
	var again []byte
	for i := range a {
		if again, _, err = decB.decode(uint16(i), a[i], again); err != nil {
			t.Fatal(err)
		}
	}
	if string(again) != string(wantA) {
		t.Error("close did not reset the decoder")
	}
}

// g722Packets encodes pcm into 20 ms packets with a new encoder.
func g722Packets(t testing.TB, pcm []byte) [][]byte {
	t.Helper()
	enc := newG722Tx()
	var pkts [][]byte
	for i := 0; i+640 <= len(pcm); i += 640 {
		out := make([]byte, maxPacket)
		n, err := enc.encode(pcm[i:i+640], out)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, out[:n])
	}
	return pkts
}

// TestG722BadInput: payloads of a wrong length, late and duplicate
// packets and frames of a wrong size are errors (ErrCodec), never a panic;
// any octet is a valid code, so garbage of a valid length decodes.
func TestG722BadInput(t *testing.T) {
	dec, enc, err := newCodecPair(kindG722)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, g722MaxPayload + 1, 65535} {
		if _, _, err := dec.decode(1, make([]byte, n), nil); !errors.Is(err, ErrCodec) {
			t.Errorf("payload of %d bytes: err = %v, want ErrCodec", n, err)
		}
	}
	garbage := make([]byte, 333)
	for i := range garbage {
		garbage[i] = byte(i*151 + 7)
	}
	out, _, err := dec.decode(10, garbage, nil)
	if err != nil || len(out) != 4*len(garbage) {
		t.Errorf("garbage of a valid length: %d bytes out, err %v", len(out), err)
	}
	for _, seq := range []uint16{10, 9, 0x900a} {
		if _, _, err := dec.decode(seq, garbage[:160], nil); !errors.Is(err, ErrCodec) {
			t.Errorf("packet %d after 10: err = %v, want ErrCodec", seq, err)
		}
	}
	if _, _, err := dec.decode(11, garbage[:160], nil); err != nil {
		t.Errorf("the next packet after refused ones: %v", err)
	}
	for _, n := range []int{0, 2, 638, 642, 1920} {
		if _, err := enc.encode(make([]byte, n), make([]byte, maxPacket)); !errors.Is(err, ErrCodec) {
			t.Errorf("frame of %d bytes: err = %v, want ErrCodec", n, err)
		}
	}
	if _, err := enc.encode(make([]byte, 640), make([]byte, 100)); !errors.Is(err, ErrCodec) {
		t.Errorf("no room for the packet: err = %v", err)
	}
	if _, err := newG722Encoder().encode(nil, make([]int16, 3)); !errors.Is(err, ErrCodec) {
		t.Errorf("odd sample count: err = %v", err)
	}
}

// checkBand fails on adaptive state outside the Recommendation's bounds.
func checkBand(t *testing.T, name string, b *adpcmBand, maxLog int32) {
	t.Helper()
	if b.a2 < -12288 || b.a2 > 12288 {
		t.Fatalf("%s: a2 %d beyond 0.75", name, b.a2)
	}
	if lim := 15360 - b.a2; b.a1 < -lim || b.a1 > lim {
		t.Fatalf("%s: a1 %d beyond 1 - 2^-4 - a2", name, b.a1)
	}
	if b.logDet < 0 || b.logDet > maxLog || b.det <= 0 || b.det > 16384 {
		t.Fatalf("%s: scale %d (log %d) out of range", name, b.det, b.logDet)
	}
}

// FuzzG722Decode feeds arbitrary payloads (and sequence numbers) to a
// call's decoder: never a panic, two samples per octet for a valid
// length, an error otherwise, and the adaptive state stays within its
// bounds.
func FuzzG722Decode(f *testing.F) {
	f.Add(uint16(1), []byte{})
	f.Add(uint16(2), make([]byte, 160))
	f.Add(uint16(3), []byte{0x00, 0xff, 0x3f, 0xc0, 0x80, 0x7f, 0x01, 0x02})
	pkts := g722Packets(f, tonePCM(5000, g722Rate, 640, 0))
	f.Add(uint16(4), pkts[1])
	f.Fuzz(func(t *testing.T, seq uint16, payload []byte) {
		rx := newG722Rx()
		for round := 0; round < 3; round++ {
			out, rec, err := rx.decode(seq+uint16(round), payload, nil)
			if rec != 0 {
				t.Fatalf("recovered %d frames", rec)
			}
			if len(payload) == 0 || len(payload) > g722MaxPayload {
				if !errors.Is(err, ErrCodec) {
					t.Fatalf("payload of %d bytes: err = %v", len(payload), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != 4*len(payload) {
				t.Fatalf("%d bytes out of %d", len(out), len(payload))
			}
			checkBand(t, "lower", &rx.dec.lo, lowerLogMax)
			checkBand(t, "higher", &rx.dec.hi, higherLogMax)
		}
	})
}

// BenchmarkG722EncodeDecode encodes and decodes one 20 ms frame (320
// samples, 160 octets) per iteration. For reference, libspandsp's C
// implementation took 66 µs of CPU per frame on this machine (measured
// during development with the same frame; it is not a dependency).
func BenchmarkG722EncodeDecode(b *testing.B) {
	dec, enc, err := newCodecPair(kindG722)
	if err != nil {
		b.Fatal(err)
	}
	frame := tonePCM(1000, g722Rate, g722FrameSamples, 0)
	copy(frame[2*160:], tonePCM(5000, g722Rate, 160, 0))
	out := make([]byte, maxPacket)
	var pcm []byte
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := selfCPU()
	for i := 0; i < b.N; i++ {
		n, err := enc.encode(frame, out)
		if err != nil {
			b.Fatal(err)
		}
		if pcm, _, err = dec.decode(uint16(i), out[:n], pcm[:0]); err != nil {
			b.Fatal(err)
		}
	}
	// CPU time rather than wall time: the figure holds on a busy machine.
	perFrame := (selfCPU() - cpu0).Seconds() / float64(b.N)
	b.ReportMetric(perFrame*1e6, "cpu-µs/frame")
	// One call is 50 frames each way per second: the share of one core.
	b.ReportMetric(perFrame*50*100, "%core/call")
}

// TestG722Negotiation: an account's "G722" (any case) offers payload type
// 9 at the RFC 3551 clock of 8000; an offer of G722/8000 is answered with
// it (the offer's spelling kept for diago's exact match), G722 at another
// clock rate is not G.722, and a G.722 call's PCM is 16 kHz.
func TestG722Negotiation(t *testing.T) {
	cs, err := Account{User: "a", Domain: "example.com", Codecs: []string{"g722", "PCMU"}}.validate()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 || cs[0] != codecG722 || cs[1] != media.CodecAudioUlaw {
		t.Fatalf("codecs %v", cs)
	}
	if codecG722.PayloadType != 9 || codecG722.SampleRate != 8000 || codecG722.SampleTimestamp() != 160 {
		t.Errorf("G722 codec %v: want PT 9, clock 8000, 160 per 20 ms", codecG722)
	}
	if _, err := (Account{User: "a", Domain: "example.com", Codecs: []string{"G722", "g722"}}).validate(); !errors.Is(err, ErrInvalidAccount) {
		t.Errorf("G722 twice: %v", err)
	}
	local := []media.Codec{codecG722, media.CodecAudioUlaw, media.CodecTelephoneEvent8000}
	got, err := offerCodecs(local, sdpOffer("m=audio 4000 RTP/AVP 0 9 101",
		"a=rtpmap:0 PCMU/8000", "a=rtpmap:9 g722/8000", "a=rtpmap:101 telephone-event/8000"))
	if err != nil {
		t.Fatal(err)
	}
	if want := withPT(codecG722, 9, "g722"); len(got) != 3 || got[0] != want || got[1] != media.CodecAudioUlaw {
		t.Errorf("answer codecs %v, want G722 (as g722) first", got)
	}
	if _, err := offerCodecs(local[:1], sdpOffer("m=audio 4000 RTP/AVP 9", "a=rtpmap:9 G722/16000")); !errors.Is(err, ErrNoCommonCodec) {
		t.Errorf("G722/16000 matched: %v", err)
	}
	if k := kindOf(withPT(codecG722, 9, "g722")); k != kindG722 || k.String() != "G722" || pcmRate(k) != 16000 {
		t.Errorf("kind %v, pcm rate %d", k, pcmRate(k))
	}
}
