//go:build linux

package desktop

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAutostartLinux enables, reads and disables the real XDG autostart
// entry in a temporary XDG_CONFIG_HOME.
func TestAutostartLinux(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	a := Autostart{Exec: "/opt/Soft Phone/softphone", Args: []string{"--minimized", `50%"$x`}}
	if on, err := a.Enabled(); err != nil || on {
		t.Fatalf("enabled before enable: %v %v", on, err)
	}
	if err := a.Enable(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(cfg, "autostart", "softphone.desktop")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"[Desktop Entry]\n", "Type=Application\n",
		`Exec="/opt/Soft Phone/softphone" --minimized "50%%\\"\\$x"` + "\n"} {
		if !strings.Contains(s, want) {
			t.Fatalf("entry lacks %q:\n%s", want, s)
		}
	}
	if on, err := a.Enabled(); err != nil || !on {
		t.Fatalf("enabled after enable: %v %v", on, err)
	}
	if err := a.Enable(); err != nil { // idempotent
		t.Fatal(err)
	}
	if err := a.Disable(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Fatalf("entry left behind: %v", err)
	}
	if err := a.Disable(); err != nil {
		t.Fatalf("disable twice: %v", err)
	}
	if err := (Autostart{Exec: "softphone"}).Enable(); err == nil {
		t.Fatal("relative executable accepted")
	}
}
