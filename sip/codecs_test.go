package sip

import (
	"errors"
	"strings"
	"testing"

	"github.com/emiago/diago/media"
)

func sdpOffer(mline string, attrs ...string) []byte {
	lines := append([]string{"v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0", mline}, attrs...)
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

func TestOfferCodecs(t *testing.T) {
	opusPCMU := []media.Codec{codecOpus, media.CodecAudioUlaw, media.CodecTelephoneEvent8000}
	cases := []struct {
		name    string
		local   []media.Codec
		offer   []byte
		want    []media.Codec
		wantErr error
	}{
		{"opus at 111 (issue #113)", opusPCMU,
			sdpOffer("m=audio 4000 RTP/AVP 111 0 101", "a=rtpmap:111 opus/48000/2", "a=fmtp:111 useinbandfec=1", "a=rtpmap:101 telephone-event/8000"),
			[]media.Codec{codecOpus, media.CodecAudioUlaw, media.CodecTelephoneEvent8000}, nil},
		{"opus at 96, telephone-event at 100, upper case", opusPCMU,
			sdpOffer("m=audio 4000 RTP/AVP 96 100", "a=rtpmap:96 OPUS/48000/2", "a=rtpmap:100 telephone-event/8000"),
			[]media.Codec{withPT(codecOpus, 96, "OPUS"), withPT(media.CodecTelephoneEvent8000, 100, "telephone-event")}, nil},
		{"opus only, account without opus", []media.Codec{media.CodecAudioUlaw, media.CodecAudioAlaw, media.CodecTelephoneEvent8000},
			sdpOffer("m=audio 4000 RTP/AVP 111 101", "a=rtpmap:111 opus/48000/2", "a=rtpmap:101 telephone-event/8000"),
			nil, ErrNoCommonCodec},
		{"opus at a different clock rate is not opus", opusPCMU,
			sdpOffer("m=audio 4000 RTP/AVP 111", "a=rtpmap:111 opus/16000/1"), nil, ErrNoCommonCodec},
		{"static PCMA without rtpmap", []media.Codec{media.CodecAudioAlaw},
			sdpOffer("m=audio 4000 RTP/AVP 8"), []media.Codec{media.CodecAudioAlaw}, nil},
		{"only telephone-event in common", opusPCMU,
			sdpOffer("m=audio 4000 RTP/AVP 18 101", "a=rtpmap:18 G729/8000", "a=rtpmap:101 telephone-event/8000"), nil, ErrNoCommonCodec},
		{"no audio stream", opusPCMU, sdpOffer("m=video 4000 RTP/AVP 96", "a=rtpmap:96 VP8/90000"), nil, ErrNoCommonCodec},
		{"rtpmap of another stream ignored", opusPCMU,
			sdpOffer("m=audio 4000 RTP/AVP 0", "m=video 4002 RTP/AVP 111", "a=rtpmap:111 opus/48000/2"),
			[]media.Codec{media.CodecAudioUlaw}, nil},
		{"garbage", opusPCMU, []byte("\x00\xff not sdp at all"), nil, ErrNoCommonCodec},
		{"empty body keeps ours (offer in the ack)", opusPCMU, nil, opusPCMU, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := offerCodecs(c.local, c.offer)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("err = %v, want %v", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("codec %d = %v, want %v", i, got[i], c.want[i])
				}
			}
		})
	}
}

// TestOfferCodecsMatchDiago checks that the per-call codecs are what diago
// parses from the same offer (it compares codecs field by field).
func TestOfferCodecsMatchDiago(t *testing.T) {
	offer := sdpOffer("m=audio 4000 RTP/AVP 111 0 101", "a=rtpmap:111 opus/48000/2", "a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000")
	ours, err := offerCodecs([]media.Codec{codecOpus, media.CodecAudioUlaw, media.CodecTelephoneEvent8000}, offer)
	if err != nil {
		t.Fatal(err)
	}
	attrs := []string{"rtpmap:111 opus/48000/2", "rtpmap:0 PCMU/8000", "rtpmap:101 telephone-event/8000"}
	parsed := make([]media.Codec, 3)
	n, err := media.CodecsFromSDPRead([]string{"111", "0", "101"}, attrs, parsed)
	if err != nil || n != 3 {
		t.Fatalf("diago parsed %d: %v", n, err)
	}
	for i := range ours {
		if ours[i] != parsed[i] {
			t.Errorf("ours %v, diago %v", ours[i], parsed[i])
		}
	}
}

func withPT(c media.Codec, pt uint8, name string) media.Codec {
	c.PayloadType, c.Name = pt, name
	return c
}

func TestAccountCodecNames(t *testing.T) {
	cs, err := Account{User: "a", Domain: "example.com", Codecs: []string{"opus", "pcma"}}.validate()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 || cs[0] != codecOpus || cs[1] != media.CodecAudioAlaw || cs[2] != media.CodecTelephoneEvent8000 {
		t.Errorf("codecs %v", cs)
	}
	if _, err := (Account{User: "a", Domain: "example.com", Codecs: []string{"G729"}}).validate(); !errors.Is(err, ErrUnsupported) {
		t.Errorf("G729: %v", err)
	}
	if _, err := (Account{User: "a", Domain: "example.com", Codecs: []string{"opus", "OPUS"}}).validate(); !errors.Is(err, ErrInvalidAccount) {
		t.Errorf("twice: %v", err)
	}
}

func FuzzParseAudioOffer(f *testing.F) {
	f.Add(sdpOffer("m=audio 4000 RTP/AVP 111 0 101", "a=rtpmap:111 opus/48000/2", "a=rtpmap:101 telephone-event/8000"))
	f.Add([]byte("m=audio 1 RTP/AVP 300 x\r\na=rtpmap:9 G722/8000/0\r\na=rtpmap: /\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		cs, err := offerCodecs([]media.Codec{codecOpus, media.CodecAudioUlaw, media.CodecTelephoneEvent8000}, body)
		if err == nil && len(body) > 0 && len(cs) == 0 {
			t.Fatal("no error and no codec")
		}
	})
}
