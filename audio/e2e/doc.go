// Package e2e holds only tests: the audio engine joined to the real SIP
// engine (package sip) and a real baresip through kamailio, with the
// devices of a private pulseaudio (lab/pulse). It exists so package audio
// itself never imports sip; nothing may import it.
package e2e
