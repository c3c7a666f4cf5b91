//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callcentre/softphone/control"
	"github.com/callcentre/softphone/lab/kamailio"
	"github.com/callcentre/softphone/lab/keyring"
)

// TestProvisionedAgentAccount is a hot-desk PC as IT deploys it: no
// per-user softphone.json, only IT's provisioning with the registrar and
// sip.user "${agent}". The agent stores the SIP password once with
// -agent alice -set-password (into a real Secret Service), then the headless
// app started with -agent alice registers as alice at a real kamailio
// (digest auth with the keyring's password). Without -agent the app
// refuses to start and says why, instead of falling back to demo mode.
func TestProvisionedAgentAccount(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kamailio, a secret service and the app")
	}
	srv := kamailio.Start(t, kamailio.Options{})
	kr := keyring.Start(t)
	env := keyring.Environ(headlessEnv(t), kr.Vars)
	dir := t.TempDir()
	// TCP: over UDP an app with a real account binds 0.0.0.0 and sipgo
	// then fails to open 127.0.0.1:<same port> towards a loopback
	// registrar ("address already in use"); reported to the sip owner.
	prov := filepath.Join(dir, "provisioning.json")
	if err := os.WriteFile(prov, []byte(`{"version": 1, "sip.server": "`+srv.Addr+`", "sip.transport": "tcp",
		"sip.user": "${agent}", "locked": ["sip.server", "sip.user"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}

	// No agent: a clear error, no demo mode.
	cmd := exec.Command(exe, "-headless", "-provisioning", prov, "-control", "off")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "-agent") || !strings.Contains(string(out), "sip.user") {
		t.Fatalf("without -agent: %v\n%s", err, out)
	}

	// The agent's SIP password, under the expanded user.
	cmd = exec.Command(exe, "-provisioning", prov, "-agent", "alice", "-set-password")
	cmd.Env = env
	cmd.Stdin = strings.NewReader("alice-pw\n")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "alice@"+srv.Addr) {
		t.Fatalf("-set-password: %v\n%s", err, out)
	}

	cmd = exec.Command(exe, "-headless", "-provisioning", prov, "-agent", "alice", "-control", "off")
	cmd.Env = env
	var stderr strings.Builder
	var mu sync.Mutex
	cmd.Stderr = &lockedStrings{mu: &mu, b: &stderr}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	registered := make(chan struct{})
	go func() {
		var once sync.Once
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var ev control.Event
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.State.Agent.ID == "alice" && ev.State.Agent.Registration == "registered" {
				once.Do(func() { close(registered) })
			}
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	select {
	case <-registered:
	case err := <-exited:
		exited <- err
		t.Fatalf("the app ended (%v) before registering:\n%s", err, stderrOf(&mu, &stderr))
	case <-time.After(90 * time.Second):
		t.Fatalf("not registered within 90 s:\n%s", stderrOf(&mu, &stderr))
	}
	// The registrar has alice's contact: the real PBX, not the demo one.
	// (lab/kamailio's lookup passes the user to kamcmd, which would read a
	// numeric user such as 1001 as a number: hence a named agent.)
	srv.WaitRegistered(t, "alice", 30*time.Second)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderrOf(&mu, &stderr))
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no exit within 60 s of SIGTERM")
	}
	if log := stderrOf(&mu, &stderr); strings.Contains(log, "alice-pw") || strings.Contains(log, "WARNING: DATA RACE") {
		t.Fatalf("the log shows the password or a race:\n%s", log)
	}
}
