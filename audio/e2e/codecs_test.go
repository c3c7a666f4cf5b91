//go:build cgo && !noportaudio

package e2e_test

import (
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/lab/baresip"
)

// TestWidebandTimestampsReachJitterBuffer calls a real baresip sending
// 440 Hz in G.722 and in Opus and plays the call with the audio engine on
// fake devices. The jitter buffer numbers frames by timestamp / FrameSize,
// so the SIP engine's timestamps must count PCM samples: G.722's RTP clock
// (8000) runs at half its 16 kHz PCM rate, and taken as it is every
// second frame would fall on its predecessor's slot and be dropped as a
// duplicate. Every frame received is accounted for (played, late, dropped
// or buffered; none on an occupied slot) and none restarts the buffer.
// (What the speaker plays is checked by TestReorderedRTPPlaysInOrder: in
// the first seconds of a call from baresip the play-out is at the mercy
// of a busy machine's scheduling under the race detector.)
func TestWidebandTimestampsReachJitterBuffer(t *testing.T) {
	cases := []struct {
		name, codec, baresipCodec, module string
	}{
		{"opus", "opus", "opus/48000/2", "opus.so"},
		{"G722", "G722", "G722/16000/1", "g722.so"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			alice := baresip.Start(t, baresip.Options{User: "alice", ToneHz: 440, Codecs: c.baresipCodec,
				Modules: []string{c.module}})
			tel, media, _, events := fakeDeviceStack(t, c.codec)

			id := domain.NewCallID()
			if err := tel.Dial(id, alice.URI); err != nil {
				t.Fatal(err)
			}
			events.wait(t, "answer", func(in domain.Input) bool { a, ok := in.(domain.CallAnswered); return ok && a.ID == id })
			media.SetAudioRoute([]domain.CallID{id})
			// 3 s of the call's audio through the jitter buffer (polling a
			// counter, with a generous deadline).
			var st audio.JitterStats
			deadline := time.Now().Add(60 * time.Second)
			for st.Received < 150 && time.Now().Before(deadline) {
				time.Sleep(100 * time.Millisecond)
				st = media.Stats().Jitter[id]
			}
			// Every frame received is played, late, dropped (the delay
			// kept at the target) or still buffered; what is none of these
			// fell on an occupied slot. How much is late or dropped depends
			// on how busy the machine is; duplicates only on the units.
			buffered := uint64(st.Level / (20 * time.Millisecond))
			dups := int64(st.Received) - int64(st.Played+st.Late+st.Dropped+buffered)
			t.Logf("jitter %+v: %d frames on an occupied slot", st, dups)
			if st.Received < 150 || dups > 3 || st.Resyncs != 0 {
				t.Errorf("jitter buffer %+v: %d frames on an occupied slot, want none and no resync\n%s", st, dups, alice.Log())
			}
			if err := tel.Hangup(id); err != nil {
				t.Fatal(err)
			}
			if _, err := alice.WaitEvent("CALL_CLOSED", 20*time.Second); err != nil {
				t.Fatal(err)
			}
		})
	}
}
