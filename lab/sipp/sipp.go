package sipp

import (
	"errors"
	"fmt"
	"github.com/callcentre/softphone/lab/internal/labio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
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
func Start(t testing.TB, scenario string, args ...string) *Proc {
	t.Helper()
	Require(t)
	dir := t.TempDir()
	sf := filepath.Join(dir, "scenario.xml")
	if err := os.WriteFile(sf, []byte(scenario), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := labio.FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	mport, err := labio.FreeUDPPort()
	if err != nil {
		t.Fatal(err)
	}
	p := &Proc{Port: port, Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: dir, out: &labio.Buffer{}, exited: make(chan struct{})}
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
	})
	// Wait until sipp has bound its port (a UAS must be listening before
	// the test sends it anything).
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.ListenPacket("udp", p.Addr)
		if err != nil {
			return p // bound by sipp
		}
		c.Close()
		select {
		case <-p.exited:
			t.Fatalf("sipp exited at start: %v\n%s", p.err, p.Log())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("sipp did not bind %s\n%s", p.Addr, p.Log())
	return nil
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
