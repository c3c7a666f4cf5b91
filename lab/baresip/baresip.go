package baresip

import (
	"bufio"
	"encoding/json"
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
	"sync"
	"syscall"
	"testing"
	"time"
)

// Options configure a Phone.
type Options struct {
	// User is the SIP user (default "alice").
	User string
	// Password authenticates User at Registrar.
	Password string
	// Registrar is "host:port" of the registrar/proxy; empty: no
	// registration, calls go straight to the dialled URI.
	Registrar string
	// Manual turns auto-answer off (incoming calls ring until Command
	// "accept").
	Manual bool
	// ToneHz is the frequency of the sine the phone sends (default 440).
	ToneHz int
	// Codecs restricts the account's codecs, e.g. "PCMU/8000/1" (default).
	Codecs string
	// Player is baresip's audio_player (default "alsa,null", which
	// busy-loops: fine for tests, unfair for CPU figures). With a private
	// pulseaudio (lab/pulse) use "alsa,default" and pass its Env.
	Player string
	// MediaEnc is the account's media encryption, e.g. "srtp-mand" (SDES,
	// required) or "srtp" (offered); empty: none.
	MediaEnc string
	// Modules are further codec modules loaded after g711.so, e.g.
	// "opus.so" or "g722.so" (baresip-core ships them).
	Modules []string
	// Env is baresip's environment (default: this process's), e.g. a
	// lab/pulse Server's Env so ALSA's default device is its null sink.
	Env []string
}

// Phone is a running baresip.
type Phone struct {
	// SIPPort is the UDP/TCP SIP port on 127.0.0.1 (baresip also takes
	// SIPPort+1 for TLS).
	SIPPort int
	// User is the SIP user name.
	User string
	// URI is the phone's direct address, sip:user@127.0.0.1:SIPPort.
	URI string
	// Dir holds config, log and recordings.
	Dir string
	// RecordDir holds the sndfile dumps: *-enc.wav is what the phone sent,
	// *-dec.wav what it received.
	RecordDir string

	ctrlPort int
	cmd      *exec.Cmd
	exited   chan struct{}
	log      *labio.Buffer

	conn   net.Conn
	mu     sync.Mutex
	events []Event
	resp   chan Response
	wake   chan struct{}
	cmdMu  sync.Mutex
}

// Event is a baresip ctrl_tcp event.
type Event struct {
	Type    string `json:"type"`
	Class   string `json:"class"`
	Param   string `json:"param"`
	PeerURI string `json:"peeruri"`
	// PeerName is the peer's display name (baresip's peerdisplayname).
	PeerName  string `json:"peerdisplayname"`
	ID        string `json:"id"`
	Direction string `json:"direction"`
}

// Response is the answer to a Command.
type Response struct {
	OK   bool   `json:"ok"`
	Data string `json:"data"`
}

// Require skips the test (or fails it when CI=true) if baresip or sox is
// missing.
func Require(t testing.TB) {
	t.Helper()
	for _, p := range []string{"baresip", "sox"} {
		if _, err := exec.LookPath(p); err != nil {
			msg := fmt.Sprintf("%s not found: install the Debian packages baresip-core and sox (make deps) to run the remote-phone tests", p)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	if modulePath() == "" {
		msg := "baresip modules (g711.so) not found: install the Debian package baresip-core"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

func modulePath() string {
	if p := os.Getenv("BARESIP_MODPATH"); p != "" {
		return p
	}
	cands := []string{"/usr/lib/baresip/modules", "/usr/local/lib/baresip/modules"}
	m, _ := filepath.Glob("/usr/lib/*/baresip/modules")
	for _, d := range append(cands, m...) {
		if _, err := os.Stat(filepath.Join(d, "g711.so")); err == nil {
			return d
		}
	}
	return ""
}

// Start renders the configuration and starts baresip; with a Registrar it
// waits until the phone reports REGISTER_OK.
func Start(t testing.TB, o Options) *Phone {
	t.Helper()
	Require(t)
	if o.User == "" {
		o.User = "alice"
	}
	if o.ToneHz == 0 {
		o.ToneHz = 440
	}
	if o.Codecs == "" {
		o.Codecs = "PCMU/8000/1"
	}
	if o.Player == "" {
		o.Player = "alsa,null"
	}
	dir := t.TempDir()
	wav := filepath.Join(dir, "tone.wav")
	if out, err := exec.Command("sox", "-q", "-D", "-n", "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer",
		"-t", "wav", wav, "synth", "60", "sine", strconv.Itoa(o.ToneHz), "vol", "0.3").CombinedOutput(); err != nil {
		t.Fatalf("sox: %v\n%s", err, out)
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		p, err := start(dir, wav, o)
		if err == nil {
			t.Cleanup(p.stop)
			if o.Registrar != "" {
				// The REGISTER_OK event may fire before ctrl_tcp is
				// connected: the log line counts too.
				deadline := time.Now().Add(15 * time.Second)
				for !strings.Contains(p.Log(), "200 OK") || !strings.Contains(p.Log(), "binding") {
					if time.Now().After(deadline) {
						t.Fatalf("baresip %s did not register:\n%s", o.User, p.Log())
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			return p
		}
		lastErr = err
	}
	t.Fatalf("baresip did not start: %v", lastErr)
	return nil
}

func start(dir, wav string, o Options) (*Phone, error) {
	sipPort, err := freePortPair()
	if err != nil {
		return nil, err
	}
	ctrlPort, err := labio.FreeTCPPort()
	if err != nil {
		return nil, err
	}
	rtpLo := 20000 + rand.IntN(400)*100
	p := &Phone{SIPPort: sipPort, User: o.User, Dir: dir, RecordDir: filepath.Join(dir, "rec"),
		URI: fmt.Sprintf("sip:%s@127.0.0.1:%d", o.User, sipPort), ctrlPort: ctrlPort, log: &labio.Buffer{Max: labio.ChattyMax},
		resp: make(chan Response, 1), wake: make(chan struct{}, 1), exited: make(chan struct{})}
	if err := os.MkdirAll(p.RecordDir, 0o700); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`poll_method		epoll
call_local_timeout	120
call_max_calls		8
sip_listen		127.0.0.1:%d
net_interface		127.0.0.1
audio_player		%s
audio_source		aufile,%s
audio_alert		alsa,null
audio_level		no
ausrc_srate		48000
auplay_srate		48000
ausrc_channels		1
auplay_channels		1
audio_buffer		20-160
rtp_ports		%d-%d
rtcp_mux		no
jitter_buffer_delay	1-5
rtp_stats		yes
rtp_timeout		0
module_path		%s
module			g711.so
module			alsa.so
module			aufile.so
module			sndfile.so
module			srtp.so
module_tmp		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:%d
snd_path		%s
statmode_default	off
ringback_disabled	yes
`, sipPort, o.Player, wav, rtpLo, rtpLo+99, modulePath(), ctrlPort, p.RecordDir)
	for _, m := range o.Modules {
		cfg += "module\t\t\t" + m + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	answer := "auto"
	if o.Manual {
		answer = "manual"
	}
	var acc string
	if o.Registrar != "" {
		acc = fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;answermode=%s;regint=600;outbound=\"sip:%s\";audio_codecs=%s\n",
			o.User, o.Registrar, o.Password, answer, o.Registrar, o.Codecs)
	} else {
		acc = fmt.Sprintf("<sip:%s@127.0.0.1:%d>;answermode=%s;regint=0;audio_codecs=%s\n", o.User, sipPort, answer, o.Codecs)
	}
	if o.MediaEnc != "" {
		acc = strings.TrimSuffix(acc, "\n") + ";mediaenc=" + o.MediaEnc + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(acc), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "contacts"), nil, 0o600); err != nil {
		return nil, err
	}
	p.cmd = exec.Command("baresip", "-f", dir)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	p.cmd.Stdin = nil
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	env := o.Env
	if env == nil {
		env = os.Environ()
	}
	p.cmd.Env = append(append([]string{}, env...), "HOME="+dir)
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start baresip: %w", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return nil, fmt.Errorf("baresip exited during start-up:\n%s", p.log.String())
		default:
		}
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ctrlPort))
		if err == nil {
			p.conn = c
			go p.readLoop()
			return p, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("baresip ctrl_tcp did not come up:\n%s", p.log.String())
}

func (p *Phone) readLoop() {
	r := bufio.NewReader(p.conn)
	for {
		lenStr, err := r.ReadString(':')
		if err != nil {
			return
		}
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(lenStr, ":")))
		if err != nil || n < 0 || n > 1<<20 {
			return
		}
		buf := make([]byte, n+1) // payload and the trailing ','
		if _, err := io.ReadFull(r, buf); err != nil {
			return
		}
		var env struct {
			Event    bool `json:"event"`
			Response bool `json:"response"`
		}
		if err := json.Unmarshal(buf[:n], &env); err != nil {
			continue
		}
		switch {
		case env.Response:
			var r Response
			_ = json.Unmarshal(buf[:n], &r)
			select {
			case p.resp <- r:
			default:
			}
		case env.Event:
			var e Event
			_ = json.Unmarshal(buf[:n], &e)
			p.mu.Lock()
			p.events = append(p.events, e)
			p.mu.Unlock()
			select {
			case p.wake <- struct{}{}:
			default:
			}
		}
	}
}

// Command sends a ctrl_tcp command ("dial", "hangup", "accept", "hold",
// "resume", "sndcode", ...) and waits for its response.
func (p *Phone) Command(command, params string) (Response, error) {
	p.cmdMu.Lock()
	defer p.cmdMu.Unlock()
	js, _ := json.Marshal(map[string]string{"command": command, "params": params, "token": "lab"})
	frame := strconv.Itoa(len(js)) + ":" + string(js) + ","
	if _, err := p.conn.Write([]byte(frame)); err != nil {
		return Response{}, err
	}
	select {
	case r := <-p.resp:
		if !r.OK {
			return r, fmt.Errorf("baresip %s %s: %s", command, params, r.Data)
		}
		return r, nil
	case <-time.After(10 * time.Second):
		return Response{}, fmt.Errorf("baresip %s: no response", command)
	}
}

// WaitEvent waits for the next event of type typ (CALL_ESTABLISHED,
// CALL_CLOSED, CALL_INCOMING, ...) not yet consumed, and consumes it and
// every event before it.
func (p *Phone) WaitEvent(typ string, within time.Duration) (Event, error) {
	deadline := time.After(within)
	for {
		p.mu.Lock()
		for i, e := range p.events {
			if e.Type == typ {
				p.events = p.events[i+1:]
				p.mu.Unlock()
				return e, nil
			}
		}
		seen := make([]string, 0, len(p.events))
		for _, e := range p.events {
			seen = append(seen, e.Type)
		}
		p.mu.Unlock()
		select {
		case <-p.wake:
		case <-deadline:
			return Event{}, fmt.Errorf("no %s event within %v (pending %v)", typ, within, seen)
		case <-p.exited:
			return Event{}, errors.New("baresip exited")
		}
	}
}

// Events returns the events not yet consumed by WaitEvent.
func (p *Phone) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// Log returns baresip's output so far.
func (p *Phone) Log() string { return p.log.String() }

// Recordings returns the sndfile dumps: sent (*-enc.wav) and received
// (*-dec.wav), newest last.
func (p *Phone) Recordings() (sent, received []string) {
	sent, _ = filepath.Glob(filepath.Join(p.RecordDir, "*-enc.wav"))
	received, _ = filepath.Glob(filepath.Join(p.RecordDir, "*-dec.wav"))
	return sent, received
}

func (p *Phone) stop() {
	if p.conn != nil {
		_ = p.conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = p.conn.Write([]byte(`26:{"command":"quit","params":""},`))
	}
	select {
	case <-p.exited:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.exited
		}
	}
	if p.conn != nil {
		p.conn.Close()
	}
}

// Pid is baresip's process id (for CPU/RSS measurements).
func (p *Phone) Pid() int { return p.cmd.Process.Pid }

func freePortPair() (int, error) {
	for i := 0; i < 100; i++ {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		var ls []io.Closer
		ok := port < 65535
		for _, a := range []string{"tcp:" + strconv.Itoa(port), "tcp:" + strconv.Itoa(port+1), "udp:" + strconv.Itoa(port+1)} {
			if !ok {
				break
			}
			netw, pt, _ := strings.Cut(a, ":")
			var c io.Closer
			if netw == "tcp" {
				c, err = net.Listen("tcp", "127.0.0.1:"+pt)
			} else {
				c, err = net.ListenPacket("udp", "127.0.0.1:"+pt)
			}
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, c)
		}
		u.Close()
		for _, c := range ls {
			c.Close()
		}
		if ok {
			return port, nil
		}
	}
	return 0, errors.New("no free port pair on 127.0.0.1")
}
