//go:build unix

package pulse

import (
	"context"
	"encoding/binary"
	"fmt"
	"github.com/callcentre/softphone/lab/internal/labio"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// MicTone is the frequency of the sine feeding the "mic" sink, in Hz.
const MicTone = 700

// Rate is the sample rate of every sink, in Hz.
const Rate = 48000

// Server is a running private PulseAudio daemon.
type Server struct {
	// Dir holds the socket, the daemon's state and the client config.
	Dir string
	// Socket is the daemon's native protocol socket.
	Socket string
	// Vars are the environment variables a client (our process through
	// PortAudio, or pactl/parec) needs to reach this daemon.
	Vars []string

	t      testing.TB
	script string
	cmd    *exec.Cmd
	done   chan struct{}
}

// Require skips the test (or fails it when CI=true) when a program is missing.
func Require(t testing.TB, programs ...string) {
	t.Helper()
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			msg := fmt.Sprintf("%s not found: install the Debian packages pulseaudio, pulseaudio-utils and libasound2-plugins to run the real audio tests", p)
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

const asoundrc = `# Written by lab/pulse (test support). ALSA "default" and three named
# devices go to the PulseAudio daemon named by PULSE_SERVER.
pcm.!default { type pulse hint { show on description "Default (lab pulse)" } }
ctl.!default { type pulse }
pcm.lab_headset { type pulse device "headset" hint { show on description "Lab headset" } }
pcm.lab_ringer { type pulse device "ringer" hint { show on description "Lab ringer" } }
pcm.lab_mic { type pulse device "mic.monitor" hint { show on description "Lab microphone" } }
`

const script = `.fail
load-module module-native-protocol-unix socket=%s auth-anonymous=1
load-module module-null-sink sink_name=headset rate=48000 channels=1 sink_properties=device.description=Headset
load-module module-null-sink sink_name=ringer rate=48000 channels=1 sink_properties=device.description=Ringer
load-module module-null-sink sink_name=mic rate=48000 channels=1 sink_properties=device.description=Mic
load-module module-sine sink=mic frequency=%d
set-default-sink headset
set-default-source mic.monitor
`

// alsaDir is the fixed per-user directory holding the asoundrc.
func alsaDir() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("labpulse-alsa-%d", os.Getuid()))
}

// Start starts a daemon and waits until it answers. It is stopped in
// t.Cleanup.
func Start(t testing.TB) *Server {
	t.Helper()
	Require(t, "pulseaudio", "pactl", "parec")
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/alsa-lib/libasound_module_pcm_pulse.so"); err != nil {
		if m, _ := filepath.Glob("/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so"); len(m) == 0 {
			msg := "the ALSA pulse plugin is missing: install the Debian package libasound2-plugins"
			if os.Getenv("CI") == "true" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
	dir, err := os.MkdirTemp("", "lpa-") // short: socket paths are limited to ~107 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	for _, d := range []string{"run", "state", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	xdg := alsaDir()
	if err := os.MkdirAll(filepath.Join(xdg, "alsa"), 0o700); err != nil {
		t.Fatal(err)
	}
	rc := filepath.Join(xdg, "alsa", "asoundrc")
	if b, err := os.ReadFile(rc); err != nil || string(b) != asoundrc {
		tmp := rc + fmt.Sprintf(".%d", os.Getpid())
		if err := os.WriteFile(tmp, []byte(asoundrc), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, rc); err != nil {
			t.Fatal(err)
		}
	}
	s := &Server{t: t, Dir: dir, Socket: filepath.Join(dir, "run", "native")}
	clientConf := filepath.Join(dir, "client.conf")
	if err := os.WriteFile(clientConf, []byte("autospawn = no\ndefault-server = unix:"+s.Socket+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.script = filepath.Join(dir, "default.pa")
	if err := os.WriteFile(s.script, []byte(fmt.Sprintf(script, s.Socket, MicTone)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "daemon.conf"), []byte("exit-idle-time = -1\nflat-volumes = no\ndefault-sample-rate = 48000\nalternate-sample-rate = 48000\ndefault-sample-channels = 1\ndefault-fragments = 2\ndefault-fragment-size-msec = 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Vars = []string{
		"PULSE_SERVER=unix:" + s.Socket,
		"PULSE_CLIENTCONFIG=" + clientConf,
		"PULSE_COOKIE=" + filepath.Join(dir, "state", "cookie"),
		"XDG_CONFIG_HOME=" + xdg,
		"JACK_NO_START_SERVER=1", // PortAudio probes JACK too; do not start one
	}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *Server) start() {
	t := s.t
	t.Helper()
	cmd := exec.Command("pulseaudio", "-n", "-F", s.script, "--daemonize=no", "--system=no",
		"--exit-idle-time=-1", "--realtime=no", "--high-priority=no", "--use-pid-file=no",
		"--disallow-exit=yes", "--disable-shm=yes", "--log-target=stderr", "--log-level=error")
	cmd.Env = append(os.Environ(),
		"HOME="+filepath.Join(s.Dir, "home"),
		"XDG_RUNTIME_DIR="+filepath.Join(s.Dir, "run"),
		"PULSE_RUNTIME_PATH="+filepath.Join(s.Dir, "run"),
		"PULSE_STATE_PATH="+filepath.Join(s.Dir, "state"),
		"PULSE_CONFIG="+filepath.Join(s.Dir, "daemon.conf"),
		"XDG_CONFIG_HOME="+filepath.Join(s.Dir, "home"),
	)
	logb := &labio.Buffer{}
	cmd.Stdout, cmd.Stderr = logb, logb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pulseaudio: %v", err)
	}
	s.cmd = cmd
	s.done = make(chan struct{})
	done := s.done
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if out, err := s.Pactl("info"); err == nil && strings.Contains(out, "Server Name") {
			return
		}
		select {
		case <-done:
			t.Fatalf("pulseaudio exited: %s", logb.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			t.Fatalf("pulseaudio did not answer within 20 s: %s", logb.String())
		}
	}
}

func (s *Server) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	s.cmd = nil
}

// Kill stops the daemon abruptly (SIGKILL), as when a sound server or a USB
// device disappears under a running stream.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
	_ = os.Remove(s.Socket)
}

// Restart starts the daemon again on the same socket after Kill.
func (s *Server) Restart() {
	s.t.Helper()
	s.start()
}

// Env returns os.Environ with the client variables applied.
func (s *Server) Env() []string { return append(os.Environ(), s.Vars...) }

// Setenv sets the client variables in this process (for PortAudio) for the
// duration of the test.
func (s *Server) Setenv(t testing.TB) {
	t.Helper()
	for _, v := range s.Vars {
		k, val, _ := strings.Cut(v, "=")
		t.Setenv(k, val)
	}
}

// Pactl runs pactl against the daemon.
func (s *Server) Pactl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pactl", args...)
	cmd.Env = s.Env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("pactl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// Record captures d of mono 48 kHz audio from source (for example
// "headset.monitor") and returns it as samples in [-1, 1].
func (s *Server) Record(ctx context.Context, source string, d time.Duration) ([]float32, error) {
	ctx, cancel := context.WithTimeout(ctx, d+10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "parec", "-d", source, "--raw", "--format=s16le",
		fmt.Sprintf("--rate=%d", Rate), "--channels=1", "--latency-msec=20")
	cmd.Env = s.Env()
	var errb labio.Buffer
	cmd.Stderr = &errb
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("parec: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("parec: %w", err)
	}
	want := int(d.Seconds()*Rate) * 2
	b := make([]byte, want)
	n, _ := io.ReadFull(pipe, b) // ends early only if parec dies or ctx expires
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()
	b = b[:n]
	if len(b) < want/2 {
		return nil, fmt.Errorf("parec %s: got %d of %d bytes: %s", source, len(b), want, errb.String())
	}
	b = b[:min(len(b), want)]
	x := make([]float32, len(b)/2)
	for i := range x {
		x[i] = float32(int16(binary.LittleEndian.Uint16(b[2*i:]))) / 32768
	}
	return x, nil
}

// ToneLevel is the amplitude (0..1) of a sine of freq Hz in x sampled at
// rate Hz (Goertzel).
func ToneLevel(x []float32, rate int, freq float64) float64 {
	if len(x) == 0 {
		return 0
	}
	w := 2 * math.Pi * freq / float64(rate)
	coef := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + coef*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - coef*s1*s2
	return 2 * math.Sqrt(math.Max(p, 0)) / float64(len(x))
}
