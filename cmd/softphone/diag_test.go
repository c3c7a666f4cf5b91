package main

import (
	"archive/zip"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/ui"
)

type plantedSettings struct{ s any }

// settingsWithSecret is settings as a future version might store them,
// with a secret in them: the bundle must not carry it.
type settingsWithSecret struct {
	ui.Settings
	CRMToken string `json:"crm_token"`
	Nested   struct {
		APIKey string `json:"api_key"`
	} `json:"nested"`
}

func (p plantedSettings) LoadSettings() (ui.Settings, error) {
	return p.s.(settingsWithSecret).Settings, nil
}
func (p plantedSettings) SaveSettings(ui.Settings) error { return nil }

// TestDiagnosticsBundleRedactsSecrets plants secrets in the logs (as
// attributes, a bearer header, a URL password and the control token as
// free text), exports the bundle, and proves none of them is in it while
// the rest of the logs, the version and the configuration are.
func TestDiagnosticsBundleRedactsSecrets(t *testing.T) {
	const (
		controlToken = "ctl-9f8e7d6c5b4a39281706f5e4"
		password     = "Pl4nted-SIP-Pa55"
		oauth        = "00Dxx0000001gPL!AR8AQPlantedAccessToken"
		bearerTok    = "eyJhbGciOiJIUzI1NiJ9.planted.bearer"
		urlPass      = "urlPl4ntedPass"
	)
	ring := newLogRing(100)
	log := slog.New(slog.NewTextHandler(ring, nil))
	for i := 0; i < 150; i++ { // the ring keeps the latest 100 lines
		log.Debug("filler")
		log.Info("filler", "n", i)
	}
	log.Info("registered", "account", "1001@pbx.example.com")
	log.Info("sign-in", "password", password, "access_token", oauth)
	log.Warn("crm request", "header", "Authorization: Bearer "+bearerTok)
	log.Info("proxy", "url", "https://agent:"+urlPass+"@proxy.example.com/")
	log.Info("control api ready, token " + controlToken)
	log.Info("last line", "access_token", oauth)

	shared := true
	d := &diagnostics{
		dir: t.TempDir(), logs: ring, demo: true,
		settings: plantedSettings{s: settingsWithSecret{Settings: ui.DefaultSettings()}},
		config:   configFile{Account: &accountConfig{User: "1001", Domain: "pbx.example.com"}, SharedPC: &shared, AllowedOrigins: []string{"https://x:" + urlPass + "@crm.example"}},
		known:    func() []string { return []string{controlToken} },
		now:      func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) },
	}
	path, err := d.ExportDiagnostics()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = string(b)
	}
	all := string(raw)
	for _, c := range files {
		all += c
	}
	for _, secret := range []string{controlToken, password, oauth, bearerTok, urlPass} {
		if strings.Contains(all, secret) {
			t.Errorf("the bundle carries the planted secret %q", secret)
		}
	}
	if !strings.Contains(files["version.txt"], "softphone "+version) || !strings.Contains(files["config.json"], "pbx.example.com") ||
		!strings.Contains(files["settings.json"], "ScreenPop") {
		t.Fatalf("bundle contents: %v", files)
	}
	logs := files["logs.txt"]
	if !strings.Contains(logs, "last line") || !strings.Contains(logs, redacted) || strings.Count(logs, "\n") != 100 ||
		!strings.Contains(logs, "1001@pbx.example.com") || strings.Contains(logs, "n=0 ") {
		t.Fatalf("logs (%d lines):\n%s", strings.Count(logs, "\n"), logs)
	}
	// Secrets named by key in JSON are blanked, whatever the nesting.
	var s settingsWithSecret
	s.CRMToken, s.Nested.APIKey = oauth, password
	b, err := redactJSON(s, nil)
	if err != nil || strings.Contains(string(b), oauth) || strings.Contains(string(b), password) {
		t.Fatalf("redactJSON: %s %v", b, err)
	}
}
