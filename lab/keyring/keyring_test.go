//go:build unix && !darwin

package keyring

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestStart stores and reads a secret with secret-tool (libsecret) in the
// private keyring and checks that it did not land in the real HOME.
func TestStart(t *testing.T) {
	Require(t, "secret-tool")
	e := Start(t)
	env := Environ(os.Environ(), e.Vars)
	store := exec.Command("secret-tool", "store", "--label=lab", "service", "lab-test", "username", "u1")
	store.Env = env
	store.Stdin = strings.NewReader("v4lue")
	if out, err := store.CombinedOutput(); err != nil {
		t.Fatalf("secret-tool store: %v\n%s", err, out)
	}
	look := exec.Command("secret-tool", "lookup", "service", "lab-test", "username", "u1")
	look.Env = env
	out, err := look.Output()
	if err != nil || string(out) != "v4lue" {
		t.Fatalf("secret-tool lookup = %q, %v", out, err)
	}
	if _, err := os.Stat(e.Dir + "/data/keyrings/login.keyring"); err != nil {
		t.Errorf("login keyring not in the private directory: %v", err)
	}
}

func TestEnviron(t *testing.T) {
	got := Environ([]string{"A=1", "B=2", "C=3"}, []string{"B=x", "D=4"})
	if strings.Join(got, " ") != "A=1 C=3 B=x D=4" {
		t.Errorf("Environ = %v", got)
	}
}
