package conformance

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
)

// envBroken names the broken connector the re-executed child of
// CatchesBroken runs the suite on.
const envBroken = "CRM_CONFORMANCE_BROKEN"

// CountingHarness is a Harness whose emulator counts writes per record.
type CountingHarness interface {
	Harness
	WriteCounter
}

// CatchesBroken proves that the suite, over h, fails broken connectors: one
// that reports success without writing loses logs, and one that replays an
// ambiguous write without reading first writes a record twice. Each runs
// in a re-executed test binary (a failing subtest cannot run in this one),
// where CatchesBroken runs the suite on the broken connector instead; so
// it must be called from a top-level test of its own.
func CatchesBroken(t *testing.T, h CountingHarness) {
	if kind := os.Getenv(envBroken); kind != "" {
		Run(t, &brokenHarness{CountingHarness: h, kind: kind})
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ kind, run, want string }{
		{"fake-success", "EachFault$/^ServerError$", "5 lost"},
		{"no-read-first", "EachFault$/^CommitThenDrop$", "written again by a replay"},
	} {
		t.Run(c.kind, func(t *testing.T) {
			cmd := exec.Command(exe, "-test.run=^"+t.Name()[:strings.IndexByte(t.Name(), '/')]+"$/^"+c.run, "-test.count=1")
			cmd.Env = append(os.Environ(), envBroken+"="+c.kind)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || !strings.Contains(string(out), c.want) {
				t.Fatalf("the suite should fail with %q on a %s connector; got %v:\n%s", c.want, c.kind, err, out)
			}
		})
	}
}

// brokenHarness hands the suite a broken connector; the harness itself
// signs the real one in.
type brokenHarness struct {
	CountingHarness
	kind string
}

func (h *brokenHarness) Connector(tb testing.TB, kr *crmtest.Keyring, timeout time.Duration) crm.Connector {
	return brokenConnector{Connector: h.CountingHarness.Connector(tb, kr, timeout), kind: h.kind}
}

func (h *brokenHarness) SignIn(tb testing.TB, conn crm.Connector, agent string) {
	if b, ok := conn.(brokenConnector); ok {
		conn = b.Connector
	}
	h.CountingHarness.SignIn(tb, conn, agent)
}

type brokenConnector struct {
	crm.Connector
	kind string
}

func (c brokenConnector) SignIn(ctx context.Context, agent string, o crm.SignInOptions) (crm.Session, error) {
	s, err := c.Connector.SignIn(ctx, agent, o)
	if err != nil {
		return nil, err
	}
	return brokenSession{Session: s, kind: c.kind}, nil
}

func (c brokenConnector) Resume(ctx context.Context, agent string) (crm.Session, error) {
	s, err := c.Connector.Resume(ctx, agent)
	if err != nil {
		return nil, err
	}
	return brokenSession{Session: s, kind: c.kind}, nil
}

type brokenSession struct {
	crm.Session
	kind string
}

func (s brokenSession) LogCalls(ctx context.Context, items []crm.LogItem) ([]crm.LogResult, error) {
	switch s.kind {
	case "fake-success":
		return make([]crm.LogResult, len(items)), nil
	case "no-read-first":
		items = slices.Clone(items)
		for i := range items {
			items[i].MayExist = false
		}
	}
	return s.Session.LogCalls(ctx, items)
}
