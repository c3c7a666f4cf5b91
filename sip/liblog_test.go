package sip

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log destination written by the libraries' goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestRedactingHandler(t *testing.T) {
	var buf lockedBuffer
	l := slog.New(redacting(slog.NewTextHandler(&buf, nil))).With("msg_line", "INVITE sip:+4930123456@pbx SIP/2.0")
	l.Error("failed to parse +4930123456",
		"data", "INVITE sip:+4930123456@pbx SIP/2.0\r\nAuthorization: Digest response=\"abc\"\r\n",
		"error", errors.New("bad header From: <sip:4930123456@pbx>"),
		slog.Group("tx", "req", "BYE sip:0049301234567@pbx"),
		"port", 5060, "ip", "127.0.0.1", "caller", "TransportLayer")
	out := buf.String()
	for _, leak := range []string{"4930123456", "Digest", "response="} {
		if strings.Contains(out, leak) {
			t.Fatalf("%q reached the log: %s", leak, out)
		}
	}
	for _, kept := range []string{"failed to parse", "bytes not logged", "bad header", "port=5060", "ip=127.0.0.1", "caller=TransportLayer"} {
		if !strings.Contains(out, kept) {
			t.Fatalf("%q lost: %s", kept, out)
		}
	}
}

// TestPerPacketWarningsAtDebug: diago's warning for each reordered RTP
// packet is logged at debug level (dropped at info), other warnings stay.
func TestPerPacketWarningsAtDebug(t *testing.T) {
	var info, debug lockedBuffer
	li := slog.New(redacting(slog.NewTextHandler(&info, nil)))
	ld := slog.New(redacting(slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug})))
	for _, l := range []*slog.Logger{li, ld} {
		l.Warn("sequence duplicate", "caller", "media")
		l.Warn("bad sequence", "caller", "media")
		l.Warn("rtp read failed", "caller", "media")
	}
	if out := info.String(); strings.Contains(out, "sequence") || !strings.Contains(out, "level=WARN msg=\"rtp read failed\"") {
		t.Errorf("at info level:\n%s", out)
	}
	out := debug.String()
	for _, want := range []string{"level=DEBUG msg=\"sequence duplicate\"", "level=DEBUG msg=\"bad sequence\"", "level=WARN msg=\"rtp read failed\""} {
		if !strings.Contains(out, want) {
			t.Errorf("at debug level, %s missing:\n%s", want, out)
		}
	}
}

// TestUnparsableMessageNotLogged: sipgo's transport logs a message it
// cannot parse whole, through its process-wide logger; the engine points
// that at its own logger, redacted.
func TestUnparsableMessageNotLogged(t *testing.T) {
	var buf lockedBuffer
	e, _ := startEngine(t, Account{User: "go1", Domain: "127.0.0.1"}, "x",
		WithKeepAlive(0), WithLogger(slog.New(slog.NewTextHandler(&buf, nil))))
	conn, err := net.Dial("udp", e.LocalAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("INVITE sip:+4930123456@pbx SIP/2.0\r\nFrom: <<<sip:+4930123456@@\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(buf.String(), "failed to parse") {
		if time.Now().After(deadline) {
			t.Fatalf("sipgo's parse failure never reached the engine's logger:\n%s", buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out := buf.String(); strings.Contains(out, "4930123456") {
		t.Fatalf("the phone number reached the log:\n%s", out)
	}
}
