package sip

import (
	"sync"
	"time"

	"github.com/emiago/diago/media"
	"github.com/pion/rtcp"
)

// rtcpRTT computes the round-trip time from the far end's RTCP reception
// reports (RFC 3550 §6.4.1): when a report answers one of our sender
// reports, RTT = arrival - LSR - DLSR, all in the middle 32 bits of NTP
// time (1/65536 s). diago's own figure is wrong (it divides by 65356 and
// mixes clocks), so ours replaces it. The hooks run on diago's RTCP
// goroutines; rttMillis may be called from any goroutine.
type rtcpRTT struct {
	mu      sync.Mutex
	ssrc    uint32        // ours, from the sender reports we send
	sent    [8]uint32     // LSR values of our latest sender reports
	next    int           // where the next one goes in sent
	rtt     time.Duration // latest valid figure, 0 before one
	reports uint64        // reception reports that gave a figure
	now     func() time.Time
}

func newRTCPRTT() *rtcpRTT { return &rtcpRTT{now: time.Now} }

// hook installs the RTCP interceptors on a call's RTP session; diago keeps
// them across re-INVITEs (RTPSession.Fork copies them).
func (r *rtcpRTT) hook(rs *media.RTPSession) {
	rs.OnWriteRTCP(func(pkt rtcp.Packet, _ media.RTPWriteStats) { r.wrote(pkt) })
	rs.OnReadRTCP(func(pkt rtcp.Packet, _ media.RTPReadStats) { r.read(pkt) })
}

// wrote notes a sender report of ours: its SSRC and the LSR a report
// answering it will carry.
func (r *rtcpRTT) wrote(pkt rtcp.Packet) {
	sr, ok := pkt.(*rtcp.SenderReport)
	if !ok {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ssrc = sr.SSRC
	r.sent[r.next] = ntpMiddle(sr.NTPTime)
	r.next = (r.next + 1) % len(r.sent)
}

// read takes the reception reports about our stream out of a received
// sender or receiver report.
func (r *rtcpRTT) read(pkt rtcp.Packet) {
	var reports []rtcp.ReceptionReport
	switch p := pkt.(type) {
	case *rtcp.SenderReport:
		reports = p.Reports
	case *rtcp.ReceiverReport:
		reports = p.Reports
	default:
		return
	}
	arrival := ntpMiddle(ntpTime(r.now()))
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rr := range reports {
		if r.ssrc == 0 || rr.SSRC != r.ssrc || rr.LastSenderReport == 0 || !r.ours(rr.LastSenderReport) {
			continue // not about our stream, or no sender report of ours answered yet
		}
		if d, ok := roundTrip(arrival, rr.LastSenderReport, rr.Delay); ok {
			r.rtt = d
			r.reports++
		}
	}
}

func (r *rtcpRTT) ours(lsr uint32) bool {
	for _, s := range r.sent {
		if s == lsr {
			return true
		}
	}
	return false
}

// rttMillis is the latest round-trip time in milliseconds, 0 when unknown
// (also for a nil receiver: a call without an RTP session).
func (r *rtcpRTT) rttMillis() float64 {
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return float64(r.rtt) / float64(time.Millisecond)
}

// ntpEpochOffset is the seconds from 1900-01-01 (NTP) to 1970-01-01.
const ntpEpochOffset = 2208988800

// ntpTime is t as a 64-bit NTP timestamp (32.32 fixed point seconds since
// 1900; the seconds wrap in 2036, which the middle 32 bits tolerate).
func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix()+ntpEpochOffset) & 0xFFFFFFFF
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return secs<<32 | frac
}

// ntpMiddle is the middle 32 bits of an NTP timestamp (16.16 fixed
// point), the unit of LSR and DLSR.
func ntpMiddle(ntp uint64) uint32 { return uint32(ntp >> 16) }

// maxRTT bounds a plausible round trip; anything longer (or negative,
// which wraps to a huge value) comes from clock jumps or a confused peer
// and is ignored.
const maxRTT = 60 * time.Second

// roundTrip is RFC 3550 §6.4.1: arrival - lsr - dlsr in 1/65536 s units,
// modulo 2^32 so that it survives the wrap of the middle 32 bits (every
// 18.2 hours). It reports false for an implausible result.
func roundTrip(arrival, lsr, dlsr uint32) (time.Duration, bool) {
	units := arrival - lsr - dlsr
	if units >= 1<<31 {
		return 0, false // negative: the report claims to have waited longer than the trip
	}
	d := time.Duration(uint64(units) * uint64(time.Second) >> 16)
	if d > maxRTT {
		return 0, false
	}
	return d, true
}
