package linphone

import (
	"errors"
	"fmt"
	"github.com/callcentre/softphone/lab/internal/labio"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Options configure a Phone.
type Options struct {
	// User is the SIP user (default "carol").
	User string
	// Password authenticates User at Registrar.
	Password string
	// Registrar is "host:port" of the registrar/proxy (UDP); empty: no
	// registration.
	Registrar string
	// AutoAnswer answers incoming calls at once.
	AutoAnswer bool
	// Codecs are the enabled codecs ("PCMU", "PCMA", "opus"; default
	// PCMU only); linphone enables every codec it knows unless told not to.
	Codecs []string
	// Env is linphonec's environment (default: this process's), e.g. a
	// lab/pulse Server's Env. HOME is always set to the phone's own.
	Env []string
}

// Phone is a running linphonec.
type Phone struct {
	// SIPPort is the UDP SIP port on 127.0.0.1.
	SIPPort int
	// User is the SIP user name.
	User string
	// URI is the phone's direct address, sip:user@127.0.0.1:SIPPort.
	URI string
	// Dir holds the config, HOME and the debug log.
	Dir string

	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan struct{}
	out    *labio.Buffer
}

// Require skips the test (or fails it when CI=true) if linphonec is
// missing.
func Require(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("linphonec"); err != nil {
		msg := "linphonec not found: install the Debian package linphone-cli (make deps) to run the linphone tests"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// Start renders the configuration and starts linphonec; with a Registrar
// it waits until the registration succeeded.
func Start(t testing.TB, o Options) *Phone {
	t.Helper()
	Require(t)
	if o.User == "" {
		o.User = "carol"
	}
	if len(o.Codecs) == 0 {
		o.Codecs = []string{"PCMU"}
	}
	for _, s := range append([]string{o.User, o.Password, o.Registrar}, o.Codecs...) {
		if strings.ContainsAny(s, "\n\r<>\"") {
			t.Fatalf("linphone: option %q must not contain newlines, quotes or angle brackets", s)
		}
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		p, err := start(t.TempDir(), o)
		if err != nil {
			lastErr = err // most likely a port was taken between probe and bind
			continue
		}
		t.Cleanup(p.stop)
		if o.Registrar != "" {
			if err := p.WaitOutput("to [LinphoneRegistrationOk]", 20*time.Second); err != nil {
				t.Fatalf("linphonec %s did not register: %v\n%s", o.User, err, p.Log())
			}
		}
		return p
	}
	t.Fatalf("linphonec did not start: %v", lastErr)
	return nil
}

// codecs linphone knows (mime, rate, channels): each is written enabled or
// disabled explicitly.
var codecs = [][3]string{
	{"opus", "48000", "2"}, {"PCMU", "8000", "1"}, {"PCMA", "8000", "1"}, {"speex", "16000", "1"},
	{"speex", "8000", "1"}, {"speex", "32000", "1"}, {"GSM", "8000", "1"}, {"G722", "8000", "1"},
	{"G729", "8000", "1"}, {"L16", "44100", "2"}, {"L16", "44100", "1"},
}

func start(dir string, o Options) (*Phone, error) {
	port, err := labio.FreeUDPPort()
	if err != nil {
		return nil, err
	}
	rtpLo := 30000 + rand.IntN(300)*100
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(filepath.Join(home, ".local", "share", "linphone"), 0o700); err != nil {
		return nil, err
	}
	p := &Phone{SIPPort: port, User: o.User, Dir: dir, out: &labio.Buffer{Max: labio.ChattyMax}, exited: make(chan struct{}),
		URI: fmt.Sprintf("sip:%s@127.0.0.1:%d", o.User, port)}
	var b strings.Builder
	fmt.Fprintf(&b, `[sip]
sip_port=%d
sip_tcp_port=-1
sip_tls_port=-1
bind_address=127.0.0.1
use_ipv6=0
guess_hostname=0
contact=sip:%s@127.0.0.1:%d
register_only_when_network_is_up=0
register_only_when_upnp_is_ok=0
auto_send_ringing=1
inc_timeout=60
media_encryption=none

[net]
mtu=1300
firewall_policy=0

[rtp]
audio_rtp_port=%d-%d
video_rtp_port=%d-%d
text_rtp_port=%d-%d
audio_jitt_comp=60
nortp_timeout=30
rtcp_mux=0

[sound]
playback_dev_id=ALSA Unknown: default
ringer_dev_id=ALSA Unknown: default
capture_dev_id=ALSA Unknown: default
media_dev_id=ALSA Unknown: default
echocancellation=0

[video]
display=0
capture=0
automatically_initiate=0
automatically_accept=0
`, port, o.User, port, rtpLo, rtpLo+49, rtpLo+50, rtpLo+79, rtpLo+80, rtpLo+99)
	if o.Registrar != "" {
		host, _, _ := net.SplitHostPort(o.Registrar)
		fmt.Fprintf(&b, `
[proxy_0]
reg_proxy=<sip:%s;transport=udp>
reg_route=<sip:%s;transport=udp;lr>
reg_identity="%s" <sip:%s@%s>
reg_expires=600
reg_sendregister=1
publish=0
dial_escape_plus=0
quality_reporting_enabled=0
avpf=0

[auth_info_0]
username=%s
passwd=%s
realm=%s
domain=%s
`, o.Registrar, o.Registrar, o.User, o.User, o.Registrar, o.User, o.Password, host, host)
	}
	for i, c := range codecs {
		en := 0
		for _, want := range o.Codecs {
			if strings.EqualFold(want, c[0]) {
				en = 1
			}
		}
		fmt.Fprintf(&b, "\n[audio_codec_%d]\nmime=%s\nrate=%s\nchannels=%s\nenabled=%d\n", i, c[0], c[1], c[2], en)
	}
	rc := filepath.Join(dir, "linphonerc")
	if err := os.WriteFile(rc, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	args := []string{"-c", rc, "-d", "1", "-l", filepath.Join(dir, "debug.log")}
	if o.AutoAnswer {
		args = append(args, "-a")
	}
	p.cmd = exec.Command("linphonec", args...)
	env := o.Env
	if env == nil {
		env = os.Environ()
	}
	p.cmd.Env = append(append([]string{}, env...), "HOME="+home)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start linphonec: %w", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	// linphonec binds its SIP port while starting: wait for it.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("linphonec exited during start-up:\n%s", p.out.String())
		default:
		}
		c, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			return p, nil // bound by linphonec
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("linphonec did not bind udp %d:\n%s", port, p.out.String())
}

// Command writes one console command ("call sip:...", "answer",
// "terminate", ...).
func (p *Phone) Command(line string) error {
	if strings.ContainsAny(line, "\r\n") {
		return errors.New("linphone: command must be one line")
	}
	_, err := io.WriteString(p.stdin, line+"\n")
	return err
}

// WaitOutput waits until linphonec's output (console and debug log, see
// Log) contains substr (case sensitive) at least n times counting from the
// start; n defaults to 1. Useful debug-log markers: "to
// [LinphoneRegistrationOk]", "to LinphoneCallStreamsRunning", "to
// LinphoneCallEnd".
func (p *Phone) WaitOutput(substr string, within time.Duration, n ...int) error {
	want := 1
	if len(n) > 0 {
		want = n[0]
	}
	deadline := time.Now().Add(within)
	for strings.Count(p.Log(), substr) < want {
		select {
		case <-p.exited:
			return fmt.Errorf("linphonec exited before %q", substr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %q within %v", substr, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// Log returns linphonec's console output followed by its debug log (the
// console says little when stdin is not a terminal).
func (p *Phone) Log() string {
	dbg, _ := os.ReadFile(filepath.Join(p.Dir, "debug.log"))
	return p.out.String() + "\n--- debug.log\n" + string(dbg)
}

// Pid is linphonec's process id.
func (p *Phone) Pid() int { return p.cmd.Process.Pid }

func (p *Phone) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.Command("quit")
	select {
	case <-p.exited:
		return
	case <-time.After(3 * time.Second):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}
