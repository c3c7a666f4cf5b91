package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/callcentre/softphone/agent/domain"
)

func TestOpenPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix permissions")
	}
	dir := filepath.Join(t.TempDir(), "a", "b")
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, FileName): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got&^want != 0 {
			t.Errorf("%s: mode %o, want at most %o", path, got, want)
		}
	}
	if v, err := db.SchemaVersion(); err != nil || v != schemaVersion {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, schemaVersion)
	}
}

func TestOpenTwiceInProcess(t *testing.T) {
	db, dir := openTest(t)
	start := time.Now()
	_, err := Open(dir, WithOpenTimeout(100*time.Millisecond))
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Open: %v, want ErrAlreadyRunning", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("second Open took %v", d)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db2, err := Open(dir)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	db2.Close()
}

const childEnv = "STORE_TEST_CHILD"

// TestOpenTwiceChild opens the database in a child process while this one
// holds it.
func TestOpenTwiceChild(t *testing.T) {
	if os.Getenv(childEnv) == "open" {
		_, err := Open(os.Getenv("STORE_TEST_DIR"), WithOpenTimeout(200*time.Millisecond))
		if errors.Is(err, ErrAlreadyRunning) {
			os.Stdout.WriteString("ALREADY-RUNNING\n")
			os.Exit(0)
		}
		os.Stdout.WriteString("UNEXPECTED " + errString(err) + "\n")
		os.Exit(3)
	}
	_, dir := openTest(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenTwiceChild$")
	cmd.Env = append(os.Environ(), childEnv+"=open", "STORE_TEST_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ALREADY-RUNNING") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestSchemaTooNew(t *testing.T) {
	db, dir := openTest(t)
	if err := db.update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(kSchema, itob(schemaVersion+1)) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(dir)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open: %v, want ErrSchemaTooNew", err)
	}
	// The failed Open released the lock.
	_, err = Open(dir, WithOpenTimeout(100*time.Millisecond))
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("second Open: %v, want ErrSchemaTooNew", err)
	}
}

func TestClosed(t *testing.T) {
	db, _ := openTest(t)
	p, err := db.Profile("a1")
	if err != nil {
		t.Fatal(err)
	}
	c := db.NewCallLogger()
	c.Attach(newSink())
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if _, err := p.History(ViewAll, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("History after Close: %v", err)
	}
	if err := c.SaveCallLog(mkLog("a1", 1, "in", t0)); !errors.Is(err, ErrClosed) {
		t.Errorf("SaveCallLog after Close: %v", err)
	}
}

func TestDefaultDir(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("linux layout")
	}
	tests := []struct{ xdg, home, want string }{
		{"/x/data", "/home/u", "/x/data/softphone"},
		{"", "/home/u", "/home/u/.local/share/softphone"},
		{"relative/ignored", "/home/u", "/home/u/.local/share/softphone"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Setenv("XDG_DATA_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			got, err := DefaultDir()
			if err != nil || got != tt.want {
				t.Errorf("DefaultDir = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestProfileValidation(t *testing.T) {
	db, _ := openTest(t)
	for _, id := range []string{"", strings.Repeat("x", maxAgentIDLen+1)} {
		if _, err := db.Profile(id); !errors.Is(err, ErrInvalidAgent) {
			t.Errorf("Profile(%d bytes): %v", len(id), err)
		}
	}
	if _, err := db.Profile("agent/with:odd chars@example.com"); err != nil {
		t.Errorf("Profile(odd): %v", err)
	}
	ids, err := db.Profiles()
	if err != nil || len(ids) != 1 {
		t.Errorf("Profiles = %v, %v", ids, err)
	}
}

func TestMachineSettings(t *testing.T) {
	db, dir := openTest(t)
	m, err := db.MachineSettings()
	if err != nil || m.Shared {
		t.Fatalf("default = %+v, %v", m, err)
	}
	if err := db.PutMachineSettings(MachineSettings{Shared: true}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if m, _ := db2.MachineSettings(); !m.Shared {
		t.Error("shared flag lost across reopen")
	}
}

func TestCompactKeepsDataAndServes(t *testing.T) {
	db, dir := openTest(t)
	fill(t, db, "a1", 50, t0, "crm")
	p, _ := db.Profile("a1")
	if _, err := p.PurgeHistoryBefore(t0.Add(40 * time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Writes keep coming while the file is compacted.
	sink := newSink()
	c := db.NewCallLogger("crm")
	c.Attach(sink)
	for i := 100; i < 120; i++ {
		if err := c.SaveCallLog(mkLog("a1", i, "in", t0)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, ok := sink.wait(t).(domain.CallLogSaved); !ok {
			t.Fatal("not saved")
		}
	}
	if n, _ := p.HistoryLen(); n != 11+20 { // calls 39..49 end after the cutoff
		t.Errorf("history %d after compact, want 31", n)
	}
	if cnt, _ := p.Counts(); cnt.Pending != 70 {
		t.Errorf("outbox %+v after compact, want 70 pending", cnt)
	}
	// Still the single instance.
	if _, err := Open(dir, WithOpenTimeout(50*time.Millisecond)); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("Open during use after compact: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+".compact")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left: %v", err)
	}
}
