package sip

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
)

func TestRoundTripArithmetic(t *testing.T) {
	ms := func(d float64) uint32 { return uint32(d / 1000 * 65536) }
	cases := []struct {
		name               string
		arrival, lsr, dlsr uint32
		want               time.Duration
		ok                 bool
	}{
		// RFC 3550 §6.4.1's example: A=0xb710:8000 (46864.5 s), LSR
		// 0xb705:2000 (46853.125 s), DLSR 0x0005:4000 (5.25 s): 6.125 s.
		{"rfc example", 0xb7108000, 0xb7052000, 0x00054000, 6125 * time.Millisecond, true},
		{"loopback", 0x12345678 + ms(1) + ms(20), 0x12345678, ms(20), time.Millisecond, true},
		{"middle 32 bits wrap between sr and rr", 0x00000100 + ms(30), 0xFFFFFF00, 0x00000200, 0, true},
		{"negative (dlsr longer than the trip)", 0x10000000, 0x0FFFF000, 0x00002000, 0, false},
		{"implausibly long", 0x10000000 + 120<<16, 0x10000000, 0, 0, false},
		{"zero", 0x20000000, 0x1FFFF000, 0x00001000, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := roundTrip(c.arrival, c.lsr, c.dlsr)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v (got %v)", ok, c.ok, got)
			}
			if c.name == "middle 32 bits wrap between sr and rr" {
				// 0x100 - 0xFFFFFF00 - 0x200 = 0 (mod 2^32), plus 30 ms.
				if d := got - 30*time.Millisecond; d < -time.Millisecond || d > time.Millisecond {
					t.Errorf("rtt %v, want about 30ms", got)
				}
				return
			}
			if ok && (got-c.want > 100*time.Microsecond || c.want-got > 100*time.Microsecond) {
				t.Errorf("rtt %v, want %v", got, c.want)
			}
		})
	}
}

func TestNTPTime(t *testing.T) {
	tm := time.Date(2026, 11, 21, 7, 0, 0, 500_000_000, time.UTC)
	n := ntpTime(tm)
	if secs := n >> 32; secs != uint64(tm.Unix()+ntpEpochOffset) {
		t.Errorf("seconds %d", secs)
	}
	if frac := uint32(n); frac != 1<<31 {
		t.Errorf("fraction %#x, want 0x80000000", frac)
	}
	// After the NTP era wraps (2036-02-07) the seconds start again at 0.
	wrap := time.Date(2036, 2, 7, 6, 28, 16, 0, time.UTC)
	if n := ntpTime(wrap.Add(time.Second)); n>>32 != 1 {
		t.Errorf("after the era wrap: %d s", n>>32)
	}
}

// TestRTCPRTTFromReports drives the hooks with the reports diago would
// write and read: our sender report, then the far end's receiver report
// answering it 40 ms later after holding it 25 ms.
func TestRTCPRTTFromReports(t *testing.T) {
	r := newRTCPRTT()
	sent := time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)
	r.now = func() time.Time { return sent.Add(40 * time.Millisecond) }
	if r.rttMillis() != 0 {
		t.Fatal("rtt before any report")
	}
	const ours = 0x1234
	// A report before any sender report of ours: no figure.
	r.read(&rtcp.ReceiverReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: ours, LastSenderReport: 0x55, Delay: 1}}})
	r.wrote(&rtcp.SenderReport{SSRC: ours, NTPTime: ntpTime(sent)})
	lsr := ntpMiddle(ntpTime(sent))
	dlsr := uint32(25 * 65536 / 1000)
	// About another stream, and with an LSR we never sent: ignored.
	r.read(&rtcp.ReceiverReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: 77, LastSenderReport: lsr, Delay: dlsr}}})
	r.read(&rtcp.ReceiverReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: ours, LastSenderReport: lsr + 9999, Delay: dlsr}}})
	if r.rttMillis() != 0 {
		t.Fatalf("rtt %v from a foreign report", r.rttMillis())
	}
	r.read(&rtcp.SenderReport{SSRC: 9, Reports: []rtcp.ReceptionReport{{SSRC: ours, LastSenderReport: lsr, Delay: dlsr}}})
	if got := r.rttMillis(); got < 14 || got > 16 {
		t.Errorf("rtt %.3f ms, want 15", got)
	}
	var nilR *rtcpRTT
	if nilR.rttMillis() != 0 {
		t.Error("nil receiver")
	}
}
