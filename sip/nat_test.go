package sip

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/lab/baresip"
	"github.com/callcentre/softphone/lab/kamailio"
	"github.com/callcentre/softphone/lab/sipp"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// fakeRegistrar is a sipgo UAS on UDP that accepts every REGISTER and
// counts OPTIONS requests.
type fakeRegistrar struct {
	addr    string
	options atomic.Int32
	regs    atomic.Int32
}

func startFakeRegistrar(t *testing.T) *fakeRegistrar {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("registrar"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeRegistrar{}
	srv.OnRegister(func(req *sip.Request, tx sip.ServerTransaction) {
		f.regs.Add(1)
		res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
		res.AppendHeader(sip.NewHeader("Expires", "3600"))
		_ = tx.Respond(res)
	})
	srv.OnOptions(func(req *sip.Request, tx sip.ServerTransaction) {
		f.options.Add(1)
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil))
	})
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.LocalAddr().String()
	go func() { _ = srv.ServeUDP(l) }()
	t.Cleanup(func() { _ = l.Close(); _ = ua.Close() })
	return f
}

// TestKeepAliveOptionsOnUDP: while registered over UDP the engine sends
// OPTIONS to the registrar at the keep-alive interval.
func TestKeepAliveOptionsOnUDP(t *testing.T) {
	f := startFakeRegistrar(t)
	e, s := startEngine(t, Account{User: "go1", Domain: f.addr}, "x", WithKeepAlive(200*time.Millisecond))
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "registered", 10*time.Second, isReg(domain.RegRegistered))
	deadline := time.Now().Add(10 * time.Second)
	for f.options.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d OPTIONS keep-alives, want 3", f.options.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKeepAliveCRLFOnTCP: over TCP the keep-alive is a double CRLF on the
// registration's connection (a raw TCP registrar counts them).
func TestKeepAliveCRLFOnTCP(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var pings atomic.Int32
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			// A message is header lines up to an empty line; an empty
			// "message" is a keep-alive ping.
			var lines []string
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				line = strings.TrimRight(line, "\r\n")
				if line == "" {
					break
				}
				lines = append(lines, line)
			}
			if len(lines) == 0 {
				pings.Add(1)
				continue
			}
			if !strings.HasPrefix(lines[0], "REGISTER ") {
				continue
			}
			res := "SIP/2.0 200 OK\r\n"
			for _, h := range lines[1:] {
				name := strings.ToLower(strings.TrimSpace(h[:max(strings.IndexByte(h, ':'), 0)]))
				switch name {
				case "via", "from", "call-id", "cseq":
					res += h + "\r\n"
				case "to":
					res += h + ";tag=reg1\r\n"
				}
			}
			res += "Expires: 3600\r\nContent-Length: 0\r\n\r\n"
			if _, err := fmt.Fprint(c, res); err != nil {
				return
			}
		}
	}()
	e, s := startEngine(t, Account{User: "go1", Domain: l.Addr().String(), Transport: TransportTCP}, "x",
		WithKeepAlive(200*time.Millisecond))
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "registered", 10*time.Second, isReg(domain.RegRegistered))
	deadline := time.Now().Add(10 * time.Second)
	for pings.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d CRLF keep-alives, want 3", pings.Load())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.none(t, "failure", isReg(domain.RegFailed))
}

// TestRegistrarFailover: the primary registrar does not answer; the
// engine registers with the secondary (kamailio) and calls go through it.
func TestRegistrarFailover(t *testing.T) {
	k := kamailio.Start(t, kamailio.Options{})
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, _, err := silent.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	e, s := startEngine(t, Account{User: "go1", Domain: k.Addr, Registrar: silent.LocalAddr().String(),
		SecondaryRegistrar: k.Addr}, "go1-pw", WithRegisterTimeout(time.Second))
	if err := e.Register(); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "registered", 15*time.Second, isReg(domain.RegRegistered))
	s.none(t, "failure reported although the secondary answered", isReg(domain.RegFailed))
	contact := k.WaitRegistered(t, "go1", 5*time.Second)
	if !strings.Contains(contact, e.LocalAddr()) {
		t.Errorf("kamailio contact %q", contact)
	}
	if got := e.reg.active(); got != k.Addr {
		t.Errorf("active registrar %s, want %s", got, k.Addr)
	}
}

// stunResponder answers every Binding request with XOR-MAPPED-ADDRESS
// mapped (a tiny RFC 5389 server for the test).
func stunResponder(t *testing.T, mapped net.IP) string {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 20 || buf[0] != 0 || buf[1] != 1 {
				continue
			}
			res := make([]byte, 32)
			res[0], res[1] = 0x01, 0x01
			res[3] = 12
			copy(res[4:20], buf[4:20]) // magic cookie and transaction id
			res[20], res[21], res[23] = 0x00, 0x20, 8
			res[25] = 0x01
			port := uint16(from.(*net.UDPAddr).Port) ^ 0x2112
			res[26], res[27] = byte(port>>8), byte(port)
			ip := mapped.To4()
			cookie := []byte{0x21, 0x12, 0xA4, 0x42}
			for i := 0; i < 4; i++ {
				res[28+i] = ip[i] ^ cookie[i]
			}
			_, _ = c.WriteTo(res, from)
		}
	}()
	return c.LocalAddr().String()
}

// TestSTUNAddressInSDP: with a STUN server the SDP advertises the mapped
// address; requests carry rport (symmetric signalling through NAT).
func TestSTUNAddressInSDP(t *testing.T) {
	stun := stunResponder(t, net.IPv4(127, 0, 0, 2))
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", STUNServer: stun}, "x")
	uas := sipp.Start(t, uasReply(486, "Busy Here"), "-m", "1")
	id := domain.NewCallID()
	if err := e.Dial(id, "sip:x@"+uas.Addr); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "failure", 10*time.Second, isFailed(id))
	if err := uas.Wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	msgs := uas.Messages()
	if !strings.Contains(msgs, "c=IN IP4 127.0.0.2") {
		t.Errorf("sdp does not advertise the stun address:\n%s", msgs)
	}
	if !strings.Contains(msgs, ";rport") {
		t.Errorf("via without rport:\n%s", msgs)
	}
}

// TestSTUNAddressKeptOnHold: the hold and resume re-INVITEs advertise the
// STUN-mapped address too (diago's own re-INVITE would put the local
// address there, and behind a NAT the far end would send into nowhere).
func TestSTUNAddressKeptOnHold(t *testing.T) {
	stun := stunResponder(t, net.IPv4(127, 0, 0, 2))
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1", STUNServer: stun}, "x")
	uas := sipp.Start(t, uasHold, "-m", "1")
	id := domain.NewCallID()
	if err := e.Dial(id, "sip:x@"+uas.Addr); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answer", 10*time.Second, isAnswered(id))
	for _, on := range []bool{true, false} {
		if err := e.Hold(id, on); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(15 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, uas.Log())
	}
	s.none(t, "hold failure", func(in domain.Input) bool { _, ok := in.(domain.HoldFailed); return ok })
	invites := 0
	for _, m := range strings.Split(uas.Messages(), "-----------------------------------------------") {
		if !strings.Contains(m, "message received") || !strings.Contains(m, " INVITE\r\n") && !strings.Contains(m, " INVITE\n") {
			continue
		}
		if !strings.Contains(m, "INVITE sip:") {
			continue
		}
		invites++
		if !strings.Contains(m, "c=IN IP4 127.0.0.2") {
			t.Errorf("an INVITE without the stun address:\n%s", m)
		}
	}
	if invites != 3 {
		t.Errorf("%d INVITEs seen, want 3 (call, hold, resume):\n%s", invites, uas.Messages())
	}
}

// TestSTUNResponseParsing: garbage, truncated and foreign answers are
// refused with an error, never a wrong address.
func TestSTUNResponseParsing(t *testing.T) {
	tx := []byte("0123456789ab")
	good := []byte{0x01, 0x01, 0, 12, 0x21, 0x12, 0xA4, 0x42}
	good = append(good, tx...)
	attr := []byte{0x00, 0x20, 0, 8, 0, 1, 0x13, 0x88, 10, 0, 0, 7} // port 5000, 10.0.0.7
	for i, k := range []byte{0x21, 0x12, 0x21, 0x12, 0xA4, 0x42} {
		attr[6+i] ^= k // xor with the magic cookie
	}
	good = append(good, attr...)
	ip, err := parseBindingResponse(good, tx)
	if err != nil || !ip.Equal(net.IPv4(10, 0, 0, 7)) {
		t.Errorf("good response: %v %v", ip, err)
	}
	for name, b := range map[string][]byte{
		"empty":     nil,
		"short":     good[:10],
		"other tx":  append(append(append([]byte{}, good[:8]...), []byte("zzzzzzzzzzzz")...), good[20:]...),
		"truncated": good[:len(good)-3],
		"no attr":   append(append([]byte{0x01, 0x01, 0, 0}, good[4:8]...), tx...),
	} {
		if ip, err := parseBindingResponse(b, tx); err == nil {
			t.Errorf("%s: accepted as %v", name, ip)
		}
	}
	if _, err := stunMappedIP("127.0.0.1", "127.0.0.1:1", 300*time.Millisecond); err == nil {
		t.Error("no stun server, yet an address")
	}
}

// TestSymmetricRTP: our RTP leaves from the port our SDP advertises
// (RFC 4961), so a NAT binding made by our packets is the one the far end
// sends back to, and the far end's RTP sent there reaches the call. The
// far end's media is a socket of the test, named in sipp's answer.
func TestSymmetricRTP(t *testing.T) {
	far, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer far.Close()
	farPort := far.LocalAddr().(*net.UDPAddr).Port
	answer := strings.ReplaceAll(okWithSDP("sendrecv"), "[media_port]", strconv.Itoa(farPort))
	answer = strings.ReplaceAll(answer, "c=IN IP4 [media_ip]", "c=IN IP4 127.0.0.1")
	uas := sipp.Start(t, `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="answer with the test's media socket">
  <recv request="INVITE" />
`+answer+`  <recv request="ACK" />
  <recv request="BYE" />
`+sipp.Reply("200 OK")+`</scenario>`, "-m", "1")
	e, s := startEngine(t, Account{User: "go1", Domain: "127.0.0.1"}, "x")
	id := domain.NewCallID()
	if err := e.Dial(id, "sip:x@"+uas.Addr); err != nil {
		t.Fatal(err)
	}
	s.wait(t, "answer", 10*time.Second, isAnswered(id))
	c, err := e.call(id)
	if err != nil {
		t.Fatal(err)
	}
	local, _ := c.sdpPair()
	var ourPort int
	for _, line := range strings.Split(string(local), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[0] == "m=audio" {
			ourPort, _ = strconv.Atoi(f[1])
		}
	}
	ca, err := e.CallAudio(id)
	if err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	defer stop.Store(true)
	go sendTone(ca.Tx, 1000, &stop)
	_ = far.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1500)
	n, from, err := far.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no RTP from us: %v", err)
	}
	if n < 12 || buf[0]>>6 != 2 {
		t.Fatalf("not RTP: % x", buf[:min(n, 16)])
	}
	if got := from.(*net.UDPAddr).Port; got != ourPort || ourPort == 0 {
		t.Fatalf("our RTP comes from port %d, our SDP says %d", got, ourPort)
	}
	// The far end answers to where our packets came from: a PCMU tone.
	go func() {
		pkt := make([]byte, 12+160)
		pkt[0], pkt[1] = 0x80, 0
		pkt[8], pkt[9], pkt[10], pkt[11] = 1, 2, 3, 4
		for i := 0; !stop.Load() && i < 200; i++ {
			binary.BigEndian.PutUint16(pkt[2:], uint16(i))
			binary.BigEndian.PutUint32(pkt[4:], uint32(i*160))
			pcm := make([]byte, 320)
			for j := 0; j < 160; j++ {
				v := int16(0.3 * 32767 * math.Sin(2*math.Pi*440*float64(i*160+j)/8000))
				binary.LittleEndian.PutUint16(pcm[2*j:], uint16(v))
			}
			if _, err := (g711Codec{}).encode(pcm, pkt[12:]); err != nil {
				return
			}
			_, _ = far.WriteTo(pkt, from)
			time.Sleep(20 * time.Millisecond)
		}
	}()
	readPCM(t, ca.Rx, 300*time.Millisecond)
	if sh := baresip.ToneShare(readPCM(t, ca.Rx, time.Second), 8000, 440); sh < 0.6 {
		t.Errorf("440 Hz share of what the far end sent back to our source port = %.2f", sh)
	}
	if err := e.Hangup(id); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(15 * time.Second); err != nil {
		t.Fatalf("%v\n%s", err, uas.Log())
	}
}
