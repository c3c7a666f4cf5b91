// Package labio holds what every lab peer helper needs: a buffer for a
// child process's output that a test may read while the process writes, and
// free loopback ports.
package labio

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
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

// Ports for peers are taken below the kernel's ephemeral range (32768 and
// up on Linux): the RTP sockets, DNS lookups and outgoing connections of
// the tests running alongside take their local ports from that range, and
// could take a port between the moment it is picked here and the moment the
// peer binds it (sipp then exits "Unable to bind main socket").
const (
	lowPort   = 20000
	portRange = 12000
)

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort() (int, error) {
	return freePort(func(addr string) error {
		c, err := net.ListenPacket("udp", addr)
		if err == nil {
			_ = c.Close()
		}
		return err
	}, "udp")
}

// FreeTCPPort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreeTCPPort() (int, error) {
	return freePort(func(addr string) error {
		l, err := net.Listen("tcp", addr)
		if err == nil {
			_ = l.Close()
		}
		return err
	}, "tcp")
}

func freePort(try func(addr string) error, network string) (int, error) {
	for range 200 {
		port := lowPort + rand.IntN(portRange)
		if try(net.JoinHostPort("127.0.0.1", strconv.Itoa(port))) == nil {
			return port, nil
		}
	}
	return 0, fmt.Errorf("no free %s port on 127.0.0.1 between %d and %d", network, lowPort, lowPort+portRange)
}
