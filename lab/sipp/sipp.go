package sipp

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callcentre/softphone/lab/internal/labio"
)

// Proc is a running sipp.
type Proc struct {
	// Port is sipp's SIP port on 127.0.0.1.
	Port int
	// Addr is "127.0.0.1:Port".
	Addr string
	// Dir holds the scenario and sipp's output files.
	Dir string

	cmd    *exec.Cmd
	out    *labio.Buffer
	exited chan struct{}
	err    error
}

// Require skips the test (or fails it when CI=true) if sipp is missing.
func Require(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("sipp"); err != nil {
		msg := "sipp not found: install the Debian package sip-tester (make deps) to run the SIP scenario tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// Start writes scenario (sipp XML) and runs
// `sipp -sf scenario -i 127.0.0.1 -p <free port> -nostdin args...`.
// A UAS scenario needs no remote address; a UAC scenario passes it (and
// -m) in args. sipp is waited for with Wait and killed in t.Cleanup.
// When another process takes a port between the pick and sipp's bind
// (sipp exits "Unable to bind"), it starts again on new ports, 3 times at
// most.
func Start(t testing.TB, scenario string, args ...string) *Proc {
	t.Helper()
	Require(t)
	dir := t.TempDir()
	sf := filepath.Join(dir, "scenario.xml")
	if err := os.WriteFile(sf, []byte(scenario), 0o600); err != nil {
		t.Fatal(err)
	}
	var p *Proc
	for attempt := 1; ; attempt++ {
		var retry bool
		p, retry = start(t, dir, sf, args)
		if !retry {
			return p
		}
		if attempt == 3 {
			t.Fatalf("sipp could not bind its ports 3 times:\n%s", p.Log())
		}
		t.Logf("sipp could not bind %s (taken meanwhile); starting it again on new ports", p.Addr)
	}
}

// pickPort picks sipp's ports (a test makes it hand out a taken one).
var pickPort = labio.FreeUDPPort

// start runs sipp once; retry reports that it exited because a port it
// was given was taken.
func start(t testing.TB, dir, sf string, args []string) (p *Proc, retry bool) {
	t.Helper()
	port, err := pickPort()
	if err != nil {
		t.Fatal(err)
	}
	mport, err := pickPort()
	if err != nil {
		t.Fatal(err)
	}
	p = &Proc{Port: port, Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: dir, out: &labio.Buffer{}, exited: make(chan struct{})}
	argv := append([]string{"-sf", sf, "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-mi", "127.0.0.1",
		"-mp", strconv.Itoa(mport), "-nostdin", "-trace_err", "-trace_msg"}, args...)
	p.cmd = exec.Command("sipp", argv...)
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start sipp: %v", err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
		if t.Failed() {
			t.Logf("sipp on %s (tail of its output and traces):\n%s", p.Addr, tail(p.Log(), 32<<10))
		}
	})
	bindFailed := func() bool { return strings.Contains(p.out.String(), "Unable to bind") }
	// Wait until the port is bound (a UAS must be listening before the
	// test sends it anything). A port bound by someone else makes sipp
	// exit at once, so a short grace after the bind tells the two apart.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.ListenPacket("udp", p.Addr)
		if err != nil {
			select {
			case <-p.exited:
				return p, bindFailed() // else a short scenario already ended: Wait reports how
			case <-time.After(300 * time.Millisecond):
			}
			return p, false
		}
		_ = c.Close()
		select {
		case <-p.exited:
			return p, bindFailed() // else a short scenario already ended: Wait reports how
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("sipp did not bind %s\n%s", p.Addr, p.Log())
	return nil, false
}

// Wait waits for sipp to end and returns nil when every call of the
// scenario succeeded (exit status 0).
func (p *Proc) Wait(within time.Duration) error {
	select {
	case <-p.exited:
		if p.err != nil {
			return fmt.Errorf("sipp: %w\n%s", p.err, p.Log())
		}
		return nil
	case <-time.After(within):
		return errors.New("sipp still running after " + within.String())
	}
}

// Log returns sipp's output plus its message and error traces.
func (p *Proc) Log() string {
	s := p.out.String()
	for _, pat := range []string{"*_errors.log", "*_messages.log"} {
		m, _ := filepath.Glob(filepath.Join(p.Dir, pat))
		for _, f := range m {
			b, _ := os.ReadFile(f)
			s += "\n--- " + filepath.Base(f) + "\n" + string(b)
		}
	}
	return s
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "...\n" + s[len(s)-n:]
}

// Messages returns sipp's message trace (every message sent and received).
func (p *Proc) Messages() string {
	m, _ := filepath.Glob(filepath.Join(p.Dir, "*_messages.log"))
	var s string
	for _, f := range m {
		b, _ := os.ReadFile(f)
		s += string(b)
	}
	return s
}

// Reply is a scenario's <send> of a bodiless response inside a dialog:
// the status line ("200 OK"), then the last request's Via, From, To,
// Call-ID and CSeq.
func Reply(status string) string {
	return `  <send><![CDATA[
SIP/2.0 ` + status + `
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
`
}
