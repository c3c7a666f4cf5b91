package sip

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"
)

// A minimal STUN client (RFC 5389 Binding request) for the public address
// advertised in SDP: the account's STUNServer is asked once at Start, from
// a socket on the bind address. Only XOR-MAPPED-ADDRESS (and the older
// MAPPED-ADDRESS) over IPv4 are read.

const (
	stunMagic          = 0x2112A442
	stunBindingRequest = 0x0001
	stunBindingSuccess = 0x0101
	attrMappedAddress  = 0x0001
	attrXorMapped      = 0x0020
)

// errSTUN is a STUN answer that cannot be used.
var errSTUN = errors.New("bad stun response")

// stunMappedIP asks server ("host:port") for our public IPv4 address as
// seen from a UDP socket on bindHost.
func stunMappedIP(bindHost, server string, timeout time.Duration) (net.IP, error) {
	raddr, err := net.ResolveUDPAddr("udp4", withPortN(server, "3478"))
	if err != nil {
		return nil, err
	}
	if bindHost == "" {
		bindHost = "0.0.0.0"
	}
	c, err := net.ListenPacket("udp4", net.JoinHostPort(bindHost, "0"))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	req := make([]byte, 20)
	binary.BigEndian.PutUint16(req[0:], stunBindingRequest)
	binary.BigEndian.PutUint32(req[4:], stunMagic)
	if _, err := rand.Read(req[8:20]); err != nil {
		return nil, err
	}
	buf := make([]byte, 1500)
	deadline := time.Now().Add(timeout)
	for try := 0; time.Now().Before(deadline); try++ {
		if _, err := c.WriteTo(req, raddr); err != nil {
			return nil, err
		}
		wait := min(time.Duration(500<<min(try, 3))*time.Millisecond, time.Until(deadline))
		_ = c.SetReadDeadline(time.Now().Add(wait))
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				break // resend
			}
			if from.String() != raddr.String() {
				continue
			}
			ip, err := parseBindingResponse(buf[:n], req[8:20])
			if errors.Is(err, errSTUN) {
				continue // not ours
			}
			return ip, err
		}
	}
	return nil, fmt.Errorf("stun %s: no answer within %v", server, timeout)
}

// parseBindingResponse returns the mapped address of a Binding success
// response with the transaction ID txID.
func parseBindingResponse(b, txID []byte) (net.IP, error) {
	if len(b) < 20 || binary.BigEndian.Uint16(b[0:]) != stunBindingSuccess ||
		binary.BigEndian.Uint32(b[4:]) != stunMagic || string(b[8:20]) != string(txID) {
		return nil, errSTUN
	}
	n := int(binary.BigEndian.Uint16(b[2:]))
	if 20+n > len(b) {
		return nil, fmt.Errorf("%w: truncated", errSTUN)
	}
	var mapped net.IP
	for a := b[20 : 20+n]; len(a) >= 4; {
		typ, l := binary.BigEndian.Uint16(a[0:]), int(binary.BigEndian.Uint16(a[2:]))
		if 4+l > len(a) {
			return nil, fmt.Errorf("%w: truncated attribute", errSTUN)
		}
		v := a[4 : 4+l]
		if l == 8 && v[1] == 0x01 { // IPv4
			ip := net.IPv4(v[4], v[5], v[6], v[7]).To4()
			switch typ {
			case attrXorMapped:
				for i := range ip {
					ip[i] ^= byte(uint32(stunMagic) >> (24 - 8*uint(i)))
				}
				return ip, nil
			case attrMappedAddress:
				mapped = ip
			}
		}
		pad := (4 - l%4) % 4
		if 4+l+pad > len(a) {
			break
		}
		a = a[4+l+pad:]
	}
	if mapped != nil {
		return mapped, nil
	}
	return nil, fmt.Errorf("%w: no mapped address", errSTUN)
}

func withPortN(hostport, port string) string {
	if _, _, err := net.SplitHostPort(hostport); err == nil {
		return hostport
	}
	return net.JoinHostPort(hostport, port)
}
