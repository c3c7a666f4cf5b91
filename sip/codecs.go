package sip

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"
)

// Codecs the engine encodes and decodes itself. diago matches codecs by
// comparing every field, payload type included (its issue #113: Opus is
// only found at PT 96), so an answer uses per-call copies carrying the
// offer's payload types and spelling (offerCodecs).
var (
	// codecOpus is offered at PT 111; any dynamic PT is accepted in an
	// offer. SDP names opus/48000/2 whatever is encoded (RFC 7587); we send
	// and decode mono.
	codecOpus = media.Codec{Name: "opus", PayloadType: 111, SampleRate: 48000,
		SampleDur: 20 * time.Millisecond, NumChannels: 2}
	// codecG722 is the static payload type 9. Its RTP clock is 8000 (RFC
	// 3551 §4.5.2, kept for compatibility) although the audio is 16 kHz:
	// a 20 ms packet advances the timestamp by 160 and carries 320
	// samples in 160 octets.
	codecG722 = media.Codec{Name: "G722", PayloadType: 9, SampleRate: 8000,
		SampleDur: 20 * time.Millisecond, NumChannels: 1}
)

// codecKind identifies what encodes and decodes a negotiated codec.
type codecKind uint8

const (
	kindUnknown codecKind = 0
	kindPCMU    codecKind = 1
	kindPCMA    codecKind = 2
	kindOpus    codecKind = 3
	kindG722    codecKind = 4
)

func (k codecKind) String() string {
	switch k {
	case kindUnknown:
		return "unknown"
	case kindPCMU:
		return "PCMU"
	case kindPCMA:
		return "PCMA"
	case kindOpus:
		return "opus"
	case kindG722:
		return "G722"
	}
	return "codec(" + strconv.Itoa(int(k)) + ")"
}

// kindOf tells which of our codecs c is, by payload type for the static
// ones and by name and clock rate for the dynamic ones.
func kindOf(c media.Codec) codecKind {
	switch {
	case c.PayloadType == 0:
		return kindPCMU
	case c.PayloadType == 8:
		return kindPCMA
	case strings.EqualFold(c.Name, "opus") && c.SampleRate == 48000:
		return kindOpus
	case strings.EqualFold(c.Name, "G722") && c.SampleRate == 8000:
		return kindG722
	}
	return kindUnknown
}

// pcmRate is the sample rate of a codec's PCM (what CallAudio carries),
// which may differ from the RTP clock (G.722's is 8000 for 16 kHz audio).
func pcmRate(k codecKind) int {
	switch k {
	case kindOpus:
		return opusRate
	case kindG722:
		return g722Rate
	}
	return 8000
}

// codecByName maps an account's codec name to the codec offered.
func codecByName(name string) (media.Codec, bool) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "PCMU":
		return media.CodecAudioUlaw, true
	case "PCMA":
		return media.CodecAudioAlaw, true
	case "OPUS":
		return codecOpus, true
	case "G722":
		return codecG722, true
	}
	return media.Codec{}, false
}

// offeredFormat is one payload format of an SDP offer's audio stream.
type offeredFormat struct {
	pt       uint8
	name     string // as written in the rtpmap (diago compares it exactly)
	rate     uint32
	channels int
	mapped   bool // an rtpmap line was present
}

// parseAudioOffer reads the payload formats of the first audio stream of
// an SDP body. It is lenient about everything it does not need.
func parseAudioOffer(body []byte) ([]offeredFormat, error) {
	var fmts []offeredFormat
	inAudio, seen := false, false
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "m="):
			if seen {
				inAudio = false
				continue
			}
			f := strings.Fields(line[2:])
			if len(f) < 4 || f[0] != "audio" {
				inAudio = false
				continue
			}
			inAudio, seen = true, true
			for _, p := range f[3:] {
				pt, err := strconv.ParseUint(p, 10, 8)
				if err != nil || pt > 127 {
					continue // not an RTP payload type: skipped, like diago
				}
				fmts = append(fmts, offeredFormat{pt: uint8(pt), channels: 1})
			}
		case inAudio && strings.HasPrefix(line, "a=rtpmap:"):
			rest := line[len("a=rtpmap:"):]
			sp := strings.IndexByte(rest, ' ')
			if sp < 0 {
				continue
			}
			pt, err := strconv.ParseUint(rest[:sp], 10, 8)
			if err != nil {
				continue
			}
			enc := strings.Split(strings.Fields(rest[sp+1:] + " ")[0], "/")
			if len(enc) < 2 {
				continue
			}
			rate, err := strconv.ParseUint(enc[1], 10, 32)
			if err != nil {
				continue
			}
			ch := 1
			if len(enc) == 3 {
				if n, err := strconv.Atoi(enc[2]); err == nil && n > 0 {
					ch = n
				}
			}
			for i := range fmts {
				if fmts[i].pt == uint8(pt) {
					fmts[i].name, fmts[i].rate, fmts[i].channels, fmts[i].mapped = enc[0], uint32(rate), ch, true
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read sdp: %w", err)
	}
	if !seen {
		return nil, fmt.Errorf("%w: the offer has no audio stream", ErrNoCommonCodec)
	}
	return fmts, nil
}

// offerCodecs returns the codecs to answer an SDP offer with: the
// account's codecs (in its order) that the offer has, each carrying the
// offer's payload type and spelling so that diago's exact comparison
// matches, plus telephone-event. An offer without a common audio codec is
// ErrNoCommonCodec; an empty body (the offer comes in the ACK) keeps the
// account's codecs.
func offerCodecs(local []media.Codec, body []byte) ([]media.Codec, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return local, nil
	}
	offered, err := parseAudioOffer(body)
	if err != nil {
		return nil, err
	}
	var out []media.Codec
	audio := 0
	for _, lc := range local {
		for _, of := range offered {
			c, ok := matchFormat(lc, of)
			if !ok {
				continue
			}
			out = append(out, c)
			if c.Name != media.CodecTelephoneEvent8000.Name {
				audio++
			}
			break
		}
	}
	if audio == 0 {
		var names []string
		for _, of := range offered {
			if of.mapped {
				names = append(names, fmt.Sprintf("%s/%d", of.name, of.rate))
			} else {
				names = append(names, strconv.Itoa(int(of.pt)))
			}
		}
		return nil, fmt.Errorf("%w: offered %s", ErrNoCommonCodec, strings.Join(names, " "))
	}
	return out, nil
}

// matchFormat says whether the offered format of is the local codec lc,
// and returns lc as diago will parse the offer's format.
func matchFormat(lc media.Codec, of offeredFormat) (media.Codec, bool) {
	switch lc.PayloadType {
	case 0, 8:
		// diago maps the static PCMU and PCMA by number alone.
		return lc, of.pt == lc.PayloadType
	}
	if !of.mapped {
		return media.Codec{}, false // diago skips formats without rtpmap
	}
	if !strings.EqualFold(of.name, lc.Name) || of.rate != lc.SampleRate {
		return media.Codec{}, false
	}
	c := lc
	c.PayloadType, c.Name, c.NumChannels = of.pt, of.name, of.channels
	return c, true
}

// answerCodecs is offerCodecs for an INVITE's body, falling back to the
// account's codecs (the INVITE was checked before ringing).
func (e *Engine) answerCodecs(req *sip.Request) []media.Codec {
	cs, err := offerCodecs(e.codecs, req.Body())
	if err != nil {
		return e.codecs
	}
	return cs
}

// checkOffer is called on a new INVITE before it rings: an offer without a
// codec we can answer is refused with 488 Not Acceptable Here (RFC 3261
// §21.4.26) and never offered to the agent. It reports whether the call
// may proceed.
func (e *Engine) checkOffer(req *sip.Request, respond func(code int, reason string) error) bool {
	if _, err := offerCodecs(e.codecs, req.Body()); err != nil {
		e.log.Info("invite refused: no common codec", "error", err)
		if rerr := respond(sip.StatusNotAcceptableHere, "Not Acceptable Here"); rerr != nil {
			e.log.Warn("cannot answer 488", "error", rerr)
		}
		return false
	}
	return true
}
