package kamailio

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"github.com/callcentre/softphone/lab/internal/labio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"
)

//go:embed kamailio.cfg.tmpl
var cfgTemplate string

// User is a test account known to the registrar.
type User struct {
	Name     string
	Password string
}

// DefaultUsers are the accounts of every Server unless Options.Users is set:
// go1..go3 for the engine under test, alice, bob and carol for remote
// phones, uas for sipp, and 1000..1009 (password pw1000, ...).
func DefaultUsers() []User {
	u := []User{
		{"go1", "go1-pw"}, {"go2", "go2-pw"}, {"go3", "go3-pw"},
		{"alice", "alice-pw"}, {"bob", "bob-pw"}, {"carol", "carol-pw"},
		{"uas", "uas-pw"},
	}
	for i := 1000; i < 1010; i++ {
		u = append(u, User{strconv.Itoa(i), "pw" + strconv.Itoa(i)})
	}
	return u
}

// Options configure a Server.
type Options struct {
	// Users replaces DefaultUsers.
	Users []User
	// NoInviteAuth turns off the 407 challenge of INVITEs from the domain.
	NoInviteAuth bool
	// MinExpires is the shortest registration the registrar accepts
	// (default 10 s; lower it for refresh tests).
	MinExpires int
	// TLS adds a SIP-over-TLS listener (Server.TLSAddr) with a server
	// certificate for 127.0.0.1 from a throwaway CA (Server.CAFile). It
	// needs the Debian package kamailio-tls-modules.
	TLS bool
}

// Server is a running kamailio.
type Server struct {
	// Port is the UDP and TCP port on 127.0.0.1.
	Port int
	// Addr is "127.0.0.1:Port".
	Addr string
	// Dir holds the rendered config, the control socket and the log.
	Dir string
	// TLSAddr is "127.0.0.1:port" of the TLS listener (Options.TLS).
	TLSAddr string
	// CAFile is the PEM file of the CA that signed the TLS certificate.
	CAFile string

	ctl    string
	cmd    *exec.Cmd
	log    *labio.Buffer
	exited chan struct{}
}

// Require skips the test (or fails it when CI=true) if kamailio is missing.
func Require(t testing.TB) {
	t.Helper()
	for _, p := range []string{"kamailio", "kamcmd"} {
		if _, err := exec.LookPath(p); err != nil {
			msg := fmt.Sprintf("%s not found: install the Debian package kamailio (make deps) to run the SIP registrar tests", p)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// Start renders the configuration, starts kamailio on a free port and waits
// until it answers an OPTIONS request.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	Require(t)
	if opts.Users == nil {
		opts.Users = DefaultUsers()
	}
	if opts.MinExpires == 0 {
		opts.MinExpires = 10
	}
	if opts.TLS {
		if _, err := os.Stat(filepath.Join(modulesDir(), "tls.so")); err != nil {
			msg := "kamailio tls.so not found: install the Debian package kamailio-tls-modules (make deps) to run the SIP-over-TLS tests"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	for _, u := range opts.Users {
		if strings.ContainsAny(u.Name+u.Password, "\"\\\n$") {
			t.Fatalf("kamailio: user %q: name and password must not contain quotes, backslashes, $ or newlines", u.Name)
		}
	}
	// The control socket path must stay short (unix sockets: ~108 bytes).
	dir, err := os.MkdirTemp("", "labkam-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })

	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		s, err := start(dir, opts)
		if err == nil {
			t.Cleanup(s.stop)
			return s
		}
		lastErr = err // most likely the port was taken between probe and bind
	}
	t.Fatalf("kamailio did not start: %v", lastErr)
	return nil
}

func start(dir string, opts Options) (*Server, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Port: port, Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: dir,
		ctl: filepath.Join(dir, "ctl"), log: &labio.Buffer{Max: labio.ChattyMax}}
	_ = os.Remove(s.ctl)
	var tlsPort int
	var tlsCfg string
	if opts.TLS {
		if tlsPort, err = FreePort(); err != nil {
			return nil, err
		}
		if s.CAFile, tlsCfg, err = writeTLSFiles(dir); err != nil {
			return nil, err
		}
		s.TLSAddr = "127.0.0.1:" + strconv.Itoa(tlsPort)
	}
	var cfg bytes.Buffer
	err = template.Must(template.New("cfg").Parse(cfgTemplate)).Execute(&cfg, map[string]any{
		"Port": port, "CtlSock": s.ctl, "Users": opts.Users,
		"NoInviteAuth": opts.NoInviteAuth, "MinExpires": opts.MinExpires,
		"TLS": opts.TLS, "TLSPort": tlsPort, "TLSCfg": tlsCfg,
	})
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(cfgPath, cfg.Bytes(), 0o600); err != nil {
		return nil, err
	}
	s.cmd = exec.Command("kamailio", "-f", cfgPath, "-P", filepath.Join(dir, "kamailio.pid"),
		"-Y", dir, "-w", dir, "-DD", "-E", "-m", "32", "-M", "4")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start kamailio: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return nil, fmt.Errorf("kamailio exited during start-up:\n%s", s.log.String())
		default:
		}
		if s.ping() == nil {
			s.exited = exited
			return s, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.kill()
	<-exited
	return nil, fmt.Errorf("kamailio did not answer OPTIONS on %s:\n%s", s.Addr, s.log.String())
}

// ping sends an OPTIONS to the proxy itself and waits briefly for a 200.
func (s *Server) ping() error {
	c, err := net.Dial("udp", s.Addr)
	if err != nil {
		return err
	}
	defer c.Close()
	local := c.LocalAddr().String()
	msg := "OPTIONS sip:" + s.Addr + " SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-lab" + strconv.FormatInt(time.Now().UnixNano(), 36) + ";rport\r\n" +
		"Max-Forwards: 70\r\nFrom: <sip:probe@" + local + ">;tag=lab\r\nTo: <sip:" + s.Addr + ">\r\n" +
		"Call-ID: lab-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(buf[:n], []byte("SIP/2.0 200")) {
		return errors.New("unexpected answer to OPTIONS")
	}
	return nil
}

// Log returns what kamailio has logged so far.
func (s *Server) Log() string { return s.log.String() }

// Contacts returns the registered contacts of user as kamcmd prints them
// (empty when the user is not registered). The user goes to kamcmd with
// its "s:" prefix: kamcmd sends a bare numeric argument (1000) as a
// number, which ul.lookup refuses.
func (s *Server) Contacts(user string) string {
	out, err := exec.Command("kamcmd", "-s", "unix:"+s.ctl, "ul.lookup", "location", "s:"+user).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Contact") {
		return ""
	}
	return string(out)
}

// WaitRegistered waits until user has a registered contact.
func (s *Server) WaitRegistered(t testing.TB, user string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if c := s.Contacts(user); c != "" {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("kamailio: %s not registered within %v", user, within)
	return ""
}

// WaitUnregistered waits until user has no registered contact.
func (s *Server) WaitUnregistered(t testing.TB, user string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if s.Contacts(user) == "" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("kamailio: %s still registered after %v", user, within)
}

func (s *Server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	}
}

func (s *Server) stop() {
	s.kill()
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
	// kamailio's children are in the same process group; give them a moment.
	for i := 0; i < 50 && syscall.Kill(-s.cmd.Process.Pid, 0) == nil; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
}

// FreePort returns a port that is free on 127.0.0.1 for both UDP and TCP
// at the time of the call.
func FreePort() (int, error) {
	for i := 0; i < 50; i++ {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, errors.New("no free udp+tcp port on 127.0.0.1")
}

// modulesDir is where Debian installs kamailio's modules.
func modulesDir() string {
	m, _ := filepath.Glob("/usr/lib/*/kamailio/modules")
	for _, d := range append(m, "/usr/lib/kamailio/modules", "/usr/local/lib/kamailio/modules") {
		if _, err := os.Stat(filepath.Join(d, "tm.so")); err == nil {
			return d
		}
	}
	return "/usr/lib/kamailio/modules"
}
