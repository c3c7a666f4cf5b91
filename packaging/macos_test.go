package packaging

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/callcentre/softphone/provision"
)

// TestMacOSBundle checks what Linux can check of the macOS bundle: the
// layout, the plists, the icns sizes. Building, signing, notarizing and
// the DMG run on a Mac (packaging/macos/build-mac.sh).
func TestMacOSBundle(t *testing.T) {
	need(t, "rsvg-convert")
	r := root(t)
	makeTargets(t, nil, "macos-bundle")
	app := filepath.Join(r, "dist", "macos", "Softphone.app")

	info := readPlist(t, filepath.Join(app, "Contents", "Info.plist")).(map[string]any)
	for k, want := range map[string]string{
		"CFBundleIdentifier": appID, "CFBundleExecutable": "softphone", "CFBundlePackageType": "APPL",
		"CFBundleShortVersionString": version, "CFBundleVersion": version, "LSMinimumSystemVersion": "12.0",
		"CFBundleIconFile": "softphone.icns",
	} {
		if got, _ := info[k].(string); got != want {
			t.Errorf("Info.plist %s = %q, want %q", k, got, want)
		}
	}
	if d, _ := info["NSMicrophoneUsageDescription"].(string); len(d) < 10 {
		t.Errorf("NSMicrophoneUsageDescription = %q: without it TCC kills the app at the first microphone access", d)
	}
	var schemes []string
	types, _ := info["CFBundleURLTypes"].([]any)
	for _, ty := range types {
		d, _ := ty.(map[string]any)
		if d["CFBundleURLName"] == nil {
			t.Errorf("a URL type without CFBundleURLName: %v", d)
		}
		list, _ := d["CFBundleURLSchemes"].([]any)
		for _, s := range list {
			schemes = append(schemes, s.(string))
		}
	}
	slices.Sort(schemes)
	if !slices.Equal(schemes, []string{"callto", "sip", "sips", "tel"}) {
		t.Errorf("URL schemes = %v", schemes)
	}
	if b, err := os.ReadFile(filepath.Join(app, "Contents", "PkgInfo")); err != nil || string(b) != "APPL????" {
		t.Errorf("PkgInfo = %q, %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(app, "Contents", "MacOS")); err != nil || !fi.IsDir() {
		t.Errorf("Contents/MacOS: %v", err)
	}

	ent := readPlist(t, filepath.Join(r, "packaging", "macos", "entitlements.plist")).(map[string]any)
	if ent["com.apple.security.device.audio-input"] != true {
		t.Errorf("entitlements lack com.apple.security.device.audio-input (mandatory under the hardened runtime): %v", ent)
	}

	// The configuration profile example carries valid provisioning.
	prof := readPlist(t, filepath.Join(r, "packaging", "macos", "softphone.mobileconfig.example")).(map[string]any)
	payloads, _ := prof["PayloadContent"].([]any)
	if len(payloads) != 1 {
		t.Fatalf("profile payloads: %v", payloads)
	}
	settings := map[string]any{}
	for k, v := range payloads[0].(map[string]any) {
		if !strings.HasPrefix(k, "Payload") {
			settings[k] = v
		}
	}
	if payloads[0].(map[string]any)["PayloadType"] != appID {
		t.Errorf("the payload's domain must be %s", appID)
	}
	if _, err := provision.FromMap("mobileconfig", settings); err != nil {
		t.Errorf("the profile's settings: %v", err)
	}

	// The icns holds the sizes Finder and the Dock use, PNG-coded from 256 up.
	icns := filepath.Join(app, "Contents", "Resources", "softphone.icns")
	got := icnsSizes(t, icns)
	for _, want := range []string{"icp4:16", "icp5:32", "ic07:128", "ic08:256", "ic09:512", "ic10:1024", "ic11:32", "ic12:64", "ic13:256", "ic14:512"} {
		if !slices.Contains(got, want) {
			t.Errorf("the icns lacks %s (has %v)", want, got)
		}
	}
	logSize(t, icns)
	t.Logf("verified: the macOS bundle skeleton %s (no binary: cgo for darwin builds only on a Mac)", strings.TrimPrefix(app, r+"/"))
}

// icnsSizes lists "type:size" for each element of an icns file; PNG
// elements are decoded for their size, the legacy RGB ones are known by
// type.
func icnsSizes(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 8 || string(b[:4]) != "icns" || int(binary.BigEndian.Uint32(b[4:8])) != len(b) {
		t.Fatalf("%s: not an icns file or wrong length", path)
	}
	legacy := map[string]int{"is32": 16, "il32": 32, "ih32": 48, "it32": 128}
	var out []string
	for off := 8; off < len(b); {
		if off+8 > len(b) {
			t.Fatalf("%s: truncated element header at %d", path, off)
		}
		typ := string(b[off : off+4])
		n := int(binary.BigEndian.Uint32(b[off+4 : off+8]))
		if n < 8 || off+n > len(b) {
			t.Fatalf("%s: element %s has bad length %d", path, typ, n)
		}
		data := b[off+8 : off+n]
		if s, ok := legacy[typ]; ok {
			out = append(out, typ+":"+strconv.Itoa(s))
		} else if bytes.HasPrefix(data, []byte("\x89PNG")) {
			cfg, err := png.DecodeConfig(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: element %s: %v", path, typ, err)
			}
			if cfg.Width != cfg.Height {
				t.Errorf("%s: element %s is %dx%d", path, typ, cfg.Width, cfg.Height)
			}
			out = append(out, typ+":"+strconv.Itoa(cfg.Width))
		}
		off += n
	}
	return out
}

// readPlist decodes an XML property list (dict, array, string, integer,
// real, true, false) and fails the test on anything malformed, such as
// an XML comment containing "--".
func readPlist(t *testing.T, path string) any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(raw))
	d.Strict = true
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local != "plist" {
			v, err := plistNode(d, se)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			return v
		}
	}
}

func plistNode(d *xml.Decoder, se xml.StartElement) (any, error) {
	switch se.Name.Local {
	case "dict", "array":
		m := map[string]any{}
		var list []any
		key := ""
		for {
			tok, err := d.Token()
			if err != nil {
				return nil, err
			}
			switch x := tok.(type) {
			case xml.EndElement:
				if se.Name.Local == "dict" {
					if key != "" {
						return nil, fmt.Errorf("key %q without a value", key)
					}
					return m, nil
				}
				return list, nil
			case xml.StartElement:
				if se.Name.Local == "dict" && key == "" {
					if x.Name.Local != "key" {
						return nil, fmt.Errorf("<%s> where a <key> belongs", x.Name.Local)
					}
					if err := d.DecodeElement(&key, &x); err != nil {
						return nil, err
					}
					if _, dup := m[key]; dup {
						return nil, fmt.Errorf("duplicate key %q", key)
					}
					continue
				}
				v, err := plistNode(d, x)
				if err != nil {
					return nil, err
				}
				if se.Name.Local == "dict" {
					m[key], key = v, ""
				} else {
					list = append(list, v)
				}
			}
		}
	case "string", "integer", "real", "true", "false":
		var s string
		if err := d.DecodeElement(&s, &se); err != nil {
			return nil, err
		}
		switch se.Name.Local {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "integer":
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bad integer %q", s)
			}
			return float64(n), nil
		case "real":
			return strconv.ParseFloat(strings.TrimSpace(s), 64)
		}
		return s, nil
	}
	return nil, fmt.Errorf("unexpected <%s>", se.Name.Local)
}
