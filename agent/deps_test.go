package agent_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreImportsNoAdapterLibrary fails the build when the core (agent and
// everything below it) reaches an adapter's library, directly or through
// another package. The core must stay pure: adapters depend on it, never the
// other way round.
func TestCoreImportsNoAdapterLibrary(t *testing.T) {
	forbidden := []string{
		"fyne.io/",
		"github.com/emiago/",
		"github.com/gordonklaus/portaudio",
		"github.com/zalando/go-keyring",
		"go.etcd.io/bbolt",
		"net/http",
		"github.com/callcentre/softphone/sip",
		"github.com/callcentre/softphone/audio",
		"github.com/callcentre/softphone/ui",
		"github.com/callcentre/softphone/store",
		"github.com/callcentre/softphone/crm",
		"github.com/callcentre/softphone/secrets",
	}
	out, err := exec.Command("go", "list", "-deps", "-test", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list returned too little to be trusted: %q", deps)
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == strings.TrimSuffix(f, "/") || strings.HasPrefix(d, f) || strings.HasPrefix(d, f+"/") {
				t.Errorf("the core depends on %s", d)
			}
		}
	}
}
