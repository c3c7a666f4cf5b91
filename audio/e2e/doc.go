// Package e2e holds only tests: the audio engine joined to the real SIP
// engine (package sip) and a real baresip through kamailio, with the
// devices of a private pulseaudio (lab/pulse); and the SIP engine's
// received RTP, reordered by a far end of the test's own (sipp signalling,
// a UDP socket sending the media), reaching the jitter buffer with its
// timestamps (fake devices, audiotest). It exists so package audio
// itself never imports sip; nothing may import it.
package e2e
