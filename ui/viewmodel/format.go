package viewmodel

import (
	"fmt"
	"math"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

// FormatDuration shows a duration as m:ss, or h:mm:ss from one hour on.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// Estimate computes the quality indicator from RTP statistics with a
// simplified ITU-T G.107 E-model: the effective latency (half the round trip,
// twice the jitter, 10 ms of codec delay) and the loss rate lower the R
// factor, which maps to an estimated MOS between 1 and 4.5. Grade is "Good"
// from MOS 4.0, "Fair" from 3.6, "Poor" below (English; the caller
// translates).
func Estimate(s domain.CallStats) Quality {
	q := Quality{Jitter: s.Jitter}
	if total := float64(s.PacketsReceived) + float64(max(s.PacketsLost, 0)); total > 0 {
		q.Loss = 100 * float64(max(s.PacketsLost, 0)) / total
	}
	latency := s.RTT/2 + 2*s.Jitter + 10
	r := 93.2
	if latency < 160 {
		r -= latency / 40
	} else {
		r -= (latency - 120) / 10
	}
	r -= 2.5 * q.Loss
	r = math.Max(0, math.Min(100, r))
	q.MOS = 1 + 0.035*r + 7e-6*r*(r-60)*(100-r)
	q.MOS = math.Max(1, math.Min(4.5, q.MOS))
	switch {
	case q.MOS >= 4.0:
		q.Grade = "Good"
	case q.MOS >= 3.6:
		q.Grade = "Fair"
	default:
		q.Grade = "Poor"
	}
	return q
}
