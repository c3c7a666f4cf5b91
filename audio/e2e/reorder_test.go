//go:build cgo && !noportaudio

package e2e_test

import (
	"encoding/binary"
	"math"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/audio/audiotest"
	"github.com/callcentre/softphone/lab/sipp"
)

// reorderTone is the far end's tone: 8.25 cycles per 20 ms frame, so a
// frame played one frame early or late is a quarter cycle out of phase,
// and pairs played swapped turn the tone into sidebands 25 Hz away.
const reorderTone = 412.5

// uasSDPTo answers an INVITE with 200 OK whose SDP sends our media to
// rtpPort (the test's own UDP socket), and ends when the caller hangs up.
func uasSDPTo(rtpPort int) string {
	sdp := "v=0\r\no=lab 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio " + strconv.Itoa(rtpPort) + " RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n" +
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n"
	return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="answer with our rtp port">
  <recv request="INVITE" />
  <send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:lab@[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

` + sdp + `]]></send>
  <recv request="ACK" />
  <recv request="BYE" />
` + sipp.Reply("200 OK") + `</scenario>`
}

// ulaw is G.711 μ-law of a 16-bit sample (the test's own encoder: the
// codec library belongs to package sip).
func ulaw(s int16) byte {
	const bias, clip = 0x84, 32635
	v, sign := int(s), 0
	if v < 0 {
		v, sign = -v, 0x80
	}
	v = min(v, clip) + bias
	exp := 7
	for mask := 0x4000; v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	return ^byte(sign | exp<<4 | (v>>(exp+3))&0x0f)
}

// toneShare is the median, over windows of 100 ms (10 Hz wide: sidebands
// 25 Hz away hardly count), of the share of a window's energy at hz. The
// median ignores the odd window where the machine's own hiccups made the
// jitter buffer conceal a frame.
func toneShare(x []float32, rate int, hz float64) float64 {
	block := rate / 10
	w := 2 * math.Pi * hz / float64(rate)
	c := 2 * math.Cos(w)
	var shares []float64
	for off := 0; off+block <= len(x); off += block {
		var s1, s2, e float64
		for _, v := range x[off : off+block] {
			s0 := float64(v) + c*s1 - s2
			s2, s1 = s1, s0
			e += float64(v) * float64(v)
		}
		if e == 0 {
			shares = append(shares, 0)
			continue
		}
		shares = append(shares, math.Min(1, (s1*s1+s2*s2-c*s1*s2)*2/float64(block)/e))
	}
	if len(shares) == 0 {
		return 0
	}
	slices.Sort(shares)
	return shares[len(shares)/2]
}

// TestReorderedRTPPlaysInOrder calls a far end (sipp for the signalling,
// the test's own UDP socket for the media) that sends a 412.5 Hz tone in
// 20 ms PCMU packets with every pair swapped (1, 0, 3, 2, ...: sequence
// numbers and timestamps with them). The real SIP engine's Rx gives the
// audio engine each frame's RTP timestamp (FrameReader), so the jitter
// buffer puts the frames back in order: the speaker plays a clean tone and
// hardly any frame counts as late. Played by arrival, the swapped pairs
// would leave almost nothing at 412.5 Hz.
func TestReorderedRTPPlaysInOrder(t *testing.T) {
	rtpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rtpConn.Close()
	uas := sipp.Start(t, uasSDPTo(rtpConn.LocalAddr().(*net.UDPAddr).Port), "-m", "1")

	tel, media, drv, events := fakeDeviceStack(t, "PCMU")

	id := domain.NewCallID()
	if err := tel.Dial(id, "sip:x@"+uas.Addr); err != nil {
		t.Fatal(err)
	}
	events.wait(t, "answer", func(in domain.Input) bool { a, ok := in.(domain.CallAnswered); return ok && a.ID == id })
	media.SetAudioRoute([]domain.CallID{id})

	// Our RTP comes from the port we advertise (symmetric RTP): that is
	// where the far end sends.
	buf := make([]byte, 1500)
	if err := rtpConn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, ours, err := rtpConn.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no rtp from our engine: %v", err)
	}

	// The far end: 20 ms packets, each pair swapped, paced by the clock.
	stop := make(chan struct{})
	sent := make(chan int, 1000)
	senderDone := make(chan error, 1)
	go func() {
		const ts0, seq0, ssrc = 4294960000, 65500, 0x5eed // both wrap during the call
		pkt := make([]byte, 12+160)
		start := time.Now()
		for slot := 0; ; slot++ {
			select {
			case <-stop:
				senderDone <- nil
				return
			default:
			}
			f := slot ^ 1
			pkt[0], pkt[1] = 0x80, 0
			binary.BigEndian.PutUint16(pkt[2:], uint16(seq0+f))
			binary.BigEndian.PutUint32(pkt[4:], uint32(ts0+160*f))
			binary.BigEndian.PutUint32(pkt[8:], ssrc)
			for i := 0; i < 160; i++ {
				v := 12000 * math.Sin(2*math.Pi*reorderTone*float64(160*f+i)/8000)
				pkt[12+i] = ulaw(int16(v))
			}
			if _, err := rtpConn.WriteToUDP(pkt, ours); err != nil {
				senderDone <- err
				return
			}
			sent <- slot + 1
			time.Sleep(time.Until(start.Add(time.Duration(slot+1) * 20 * time.Millisecond))) // pacing, like a phone
		}
	}()
	// Wait for 4 s of sending (generously bounded), then look at the last
	// 2 s the speaker played: audio sent between about 1.7 and 3.9 s.
	deadline := time.After(60 * time.Second)
	for n := 0; n < 200; {
		select {
		case n = <-sent:
		case err := <-senderDone:
			t.Fatalf("sender: %v", err)
		case <-deadline:
			t.Fatalf("only %d packets sent", n)
		}
	}
	played := drv.Played(audiotest.DefaultName)
	st := media.Stats().Jitter[id]
	close(stop) // sent has room for what the sender still reports
	if err := <-senderDone; err != nil {
		t.Fatalf("sender: %v", err)
	}
	const rate = 48000 // the engine's device rate with the fake driver
	if len(played) < 3*rate {
		t.Fatalf("the speaker played %d samples", len(played))
	}
	last := played[len(played)-2*rate:]
	sh := toneShare(last, rate, reorderTone)
	t.Logf("jitter %+v, %.1f Hz median share %.3f", st, reorderTone, sh)
	if sh < 0.7 {
		t.Errorf("%.1f Hz median share on the speaker = %.3f: the swapped frames were not put back in order", reorderTone, sh)
	}
	// A frame or two is late while the target delay adapts to the
	// reordering at the start; a busy machine may add a few.
	if st.Received < 150 || st.Late > 15 || st.Resyncs != 0 {
		t.Errorf("jitter buffer %+v: want 100+ frames received, hardly any late, no resync", st)
	}
	if err := tel.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(20 * time.Second); err != nil {
		t.Errorf("sipp: %v", err)
	}
}
