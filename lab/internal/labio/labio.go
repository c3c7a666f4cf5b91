// Package labio holds what every lab peer helper needs: a buffer for a
// child process's output that a test may read while the process writes, and
// free loopback ports.
package labio

import (
	"net"
	"sync"
)

// Buffer collects a process's output; safe for one writer and concurrent
// readers. With Max > 0, once it holds more than Max bytes it keeps only the
// last Max/2 (the tail of a chatty peer is what tests look at).
type Buffer struct {
	Max int

	mu sync.Mutex
	b  []byte
}

// Write appends p.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Max > 0 && len(l.b) > l.Max {
		l.b = append(l.b[:0], l.b[len(l.b)-l.Max/2:]...)
	}
	l.b = append(l.b, p...)
	return len(p), nil
}

// String returns what the buffer holds.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// ChattyMax bounds the output kept of long-running peers (kamailio, baresip,
// linphonec).
const ChattyMax = 4 << 20

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

// FreeTCPPort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreeTCPPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
