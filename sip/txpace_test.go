package sip

import (
	"sync"
	"testing"
	"time"

	"github.com/emiago/diago/media"
	"github.com/pion/rtp"
)

// packetLog is an RTP writer that keeps what it is given.
type packetLog struct {
	mu      sync.Mutex
	headers []rtp.Header
}

func (l *packetLog) WriteRTP(p *rtp.Packet) error {
	l.mu.Lock()
	l.headers = append(l.headers, p.Header)
	l.mu.Unlock()
	return nil
}

func pcmuTx() (*txWriter, *packetLog) {
	log := &packetLog{}
	m := &callMedia{codec: media.CodecAudioUlaw, kind: kindPCMU}
	m.rtpW = media.NewRTPPacketWriter(log, m.codec)
	m.tx = &txWriter{m: m, enc: g711Codec{}}
	return m.tx, log
}

// TestTxSendsAtOnceAndPacesOnlyAhead: a frame written to a call's Tx goes
// out at once (diago's writer waited for its own 20 ms ticker after each
// packet: up to 20 ms more mic-to-network delay for frames the audio
// engine already makes on the sound card's clock); a writer running ahead
// of real time by more than txSlack is held to real time; the packets
// carry consecutive sequence numbers, timestamps 160 apart and the marker
// on the first.
func TestTxSendsAtOnceAndPacesOnlyAhead(t *testing.T) {
	tx, log := pcmuTx()
	frame := make([]byte, 320)
	start := time.Now()
	for range 4 { // within txSlack
		if _, err := tx.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	// diago's ticker made these four take at least 60 ms.
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("four frames took %v to send", d)
	}
	for range 16 {
		if _, err := tx.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	// The 20th frame starts 380 ms into the audio: it may go txSlack early.
	if d := time.Since(start); d < 380*time.Millisecond-txSlack-5*time.Millisecond {
		t.Errorf("20 frames went out in %v: not held to real time", d)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.headers) != 20 {
		t.Fatalf("%d packets", len(log.headers))
	}
	for i, h := range log.headers {
		if h.Marker != (i == 0) || h.PayloadType != 0 {
			t.Errorf("packet %d: marker %v, payload type %d", i, h.Marker, h.PayloadType)
		}
		if i > 0 {
			p := log.headers[i-1]
			if h.SequenceNumber != p.SequenceNumber+1 || h.Timestamp != p.Timestamp+160 {
				t.Errorf("packet %d: seq %d ts %d after seq %d ts %d", i, h.SequenceNumber, h.Timestamp, p.SequenceNumber, p.Timestamp)
			}
		}
	}
}
