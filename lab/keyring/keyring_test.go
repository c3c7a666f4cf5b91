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

// TestRequire checks that a missing program skips the test locally and
// fails it under CI=true.
func TestRequire(t *testing.T) {
	if os.Getenv("LAB_REQUIRE_CHILD") == "1" {
		Require(t, "no-such-program-for-lab-keyring")
		t.Log("Require returned")
		return
	}
	for _, tc := range []struct {
		ci       string
		wantFail bool
		wantText string
	}{
		{"", false, "--- SKIP: TestRequire"},
		{"true", true, "--- FAIL: TestRequire"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRequire$", "-test.v", "-test.count=1")
		cmd.Env = Environ(os.Environ(), []string{"LAB_REQUIRE_CHILD=1", "CI=" + tc.ci})
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.wantFail || !strings.Contains(string(out), tc.wantText) || !strings.Contains(string(out), "gnome-keyring") {
			t.Errorf("CI=%q: err %v, output:\n%s", tc.ci, err, out)
		}
	}
}
