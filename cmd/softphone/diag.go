package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/callcentre/softphone/ui"
)

// logRing keeps the most recent log lines in memory for the diagnostics
// bundle (the logs also go to stderr). It is an io.Writer the slog handler
// writes whole records to; safe for concurrent use.
type logRing struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

// logLines is how many recent log lines the bundle carries.
const logLines = 5000

func newLogRing(n int) *logRing { return &logRing{lines: make([]string, n)} }

func (r *logRing) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		r.lines[r.next] = l
		r.next = (r.next + 1) % len(r.lines)
		if r.next == 0 {
			r.full = true
		}
	}
	return len(p), nil
}

// snapshot returns the kept lines, oldest first.
func (r *logRing) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]string(nil), r.lines[:r.next]...)
	}
	return append(append([]string(nil), r.lines[r.next:]...), r.lines[:r.next]...)
}

// diagnostics implements ui.Diagnostics: a zip of the recent logs, the
// version, the agent's settings and the configuration, with secrets,
// tokens and passwords redacted.
type diagnostics struct {
	dir      string // where bundles are written
	logs     *logRing
	settings ui.SettingsStore
	config   configFile
	demo     bool
	known    func() []string // secret values to blank wherever they appear (the control token)
	now      func() time.Time
}

var _ ui.Diagnostics = (*diagnostics)(nil)

const redacted = "[redacted]"

// secretName matches keys and log attributes that name a secret.
var secretName = regexp.MustCompile(`(?i)(pass(word|wd|phrase)?|secret|token|authori[sz]ation|bearer|api[_-]?key|credential|cookie|signature)`)

// secretAttr matches "name=value" and "name: value" pairs of a log line
// whose name names a secret; the value is redacted.
var secretAttr = regexp.MustCompile(`(?i)([\w.-]*(?:pass(?:word|wd|phrase)?|secret|token|authori[sz]ation|api[_-]?key|credential|cookie|signature)[\w.-]*"?\s*[=:]\s*)("(?:[^"\\]|\\.)*"|\S+)`)

// bearer matches an HTTP bearer credential anywhere.
var bearer = regexp.MustCompile(`(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+`)

// userinfo matches a password in a URL (scheme://user:password@host).
var userinfo = regexp.MustCompile(`(://[^/\s:@]+:)[^@\s/]+@`)

// redactLine removes secrets from one log line.
func redactLine(l string, known []string) string {
	for _, k := range known {
		if len(k) >= 4 {
			l = strings.ReplaceAll(l, k, redacted)
		}
	}
	l = bearer.ReplaceAllString(l, "${1}"+redacted)
	l = secretAttr.ReplaceAllString(l, "${1}"+redacted)
	return userinfo.ReplaceAllString(l, "${1}"+redacted+"@")
}

// redactJSON marshals v with every value under a secret-naming key
// replaced, and known secret values blanked wherever they appear.
func redactJSON(v any, known []string) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return nil, err
	}
	var walk func(x any) any
	walk = func(x any) any {
		switch x := x.(type) {
		case map[string]any:
			for k, val := range x {
				if secretName.MatchString(k) {
					x[k] = redacted
					continue
				}
				x[k] = walk(val)
			}
			return x
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
			return x
		case string:
			return redactLine(x, known)
		}
		return x
	}
	return json.MarshalIndent(walk(generic), "", "  ")
}

// ExportDiagnostics writes the bundle and returns its path.
func (d *diagnostics) ExportDiagnostics() (string, error) {
	now := time.Now
	if d.now != nil {
		now = d.now
	}
	var known []string
	if d.known != nil {
		known = d.known()
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) error {
		w, err := zw.Create(name)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	version := fmt.Sprintf("softphone %s\ngo %s\nos %s/%s\ndemo %v\nexported %s\n",
		version, runtime.Version(), runtime.GOOS, runtime.GOARCH, d.demo, now().UTC().Format(time.RFC3339))
	if err := add("version.txt", []byte(version)); err != nil {
		return "", fmt.Errorf("diagnostics: %w", err)
	}
	cfg, err := redactJSON(d.config, known)
	if err != nil {
		return "", fmt.Errorf("diagnostics: configuration: %w", err)
	}
	if err := add("config.json", cfg); err != nil {
		return "", fmt.Errorf("diagnostics: %w", err)
	}
	if d.settings != nil {
		set, lerr := d.settings.LoadSettings()
		var data []byte
		if lerr != nil {
			data = []byte(fmt.Sprintf("{\"error\": %q}\n", redactLine(lerr.Error(), known)))
		} else if data, err = redactJSON(set, known); err != nil {
			return "", fmt.Errorf("diagnostics: settings: %w", err)
		}
		if err := add("settings.json", data); err != nil {
			return "", fmt.Errorf("diagnostics: %w", err)
		}
	}
	var logs strings.Builder
	if d.logs != nil {
		for _, l := range d.logs.snapshot() {
			logs.WriteString(redactLine(l, known))
			logs.WriteByte('\n')
		}
	}
	if err := add("logs.txt", []byte(logs.String())); err != nil {
		return "", fmt.Errorf("diagnostics: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("diagnostics: %w", err)
	}
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return "", fmt.Errorf("diagnostics: %w", err)
	}
	path := filepath.Join(d.dir, "softphone-diagnostics-"+now().UTC().Format("20060102-150405")+".zip")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("diagnostics: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("diagnostics: %w", err)
	}
	return path, nil
}
