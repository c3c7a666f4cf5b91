package packaging

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/provision"
)

// version is the package version the tests build (make's PKG_VERSION).
const version = "0.1.0"

// appID is the reverse-DNS id: desktop file, icons, AppStream, bundle id.
const appID = "io.callcentre.softphone"

// root is the repository root.
func root(t *testing.T) string {
	t.Helper()
	r, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// ci reports whether a missing tool is a failure rather than a skip.
func ci() bool { return os.Getenv("CI") == "true" }

// need skips (locally) or fails (CI=true) when a tool is missing.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if ci() {
				t.Fatalf("%s is missing (scripts/deps.d/packaging.txt; run make deps)", tool)
			}
			t.Skipf("%s is missing: run make deps (scripts/deps.d/packaging.txt)", tool)
		}
	}
}

// run runs a command in dir and returns its standard output; a failure
// fails the test with the command's output.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runErr(dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = env
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// makeTargets runs make in the repository root (the same targets CI and
// IT use) and logs how long it took.
func makeTargets(t *testing.T, env []string, targets ...string) {
	t.Helper()
	need(t, "make")
	start := time.Now()
	run(t, root(t), append(os.Environ(), env...), "make", append([]string{"--no-print-directory", "PKG_VERSION=" + version}, targets...)...)
	t.Logf("make %s: %s", strings.Join(targets, " "), time.Since(start).Round(time.Second))
}

// logSize logs an artifact's size.
func logSize(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("artifact %s: %.1f MB", strings.TrimPrefix(path, root(t)+"/"), float64(fi.Size())/1e6)
}

// checkPNG checks that path is a size x size PNG.
func checkPNG(t *testing.T, path string, size int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if cfg.Width != size || cfg.Height != size {
		t.Errorf("%s is %dx%d, want %dx%d", path, cfg.Width, cfg.Height, size, size)
	}
}

// hicolorSizes are the PNG sizes the Linux packages install.
var hicolorSizes = []int{16, 32, 48, 64, 128, 256, 512}

func TestLinuxPackages(t *testing.T) {
	need(t, "rsvg-convert", "dpkg-deb", "rpm", "desktop-file-validate", "update-desktop-database", "xdg-mime", "appstreamcli", "readelf", "ldconfig", "dpkg")
	r := root(t)
	makeTargets(t, nil, "deb", "rpm")
	deb := filepath.Join(r, "dist", "callcentre-softphone_"+version+"-1_amd64.deb")
	rpmFile := filepath.Join(r, "dist", "callcentre-softphone-"+version+"-1.x86_64.rpm")
	logSize(t, deb)
	logSize(t, rpmFile)

	run(t, r, nil, "desktop-file-validate", "packaging/linux/"+appID+".desktop")
	run(t, r, nil, "appstreamcli", "validate", "--no-net", "build/pkg/"+appID+".metainfo.xml")

	// The package installed into a test root.
	dir := t.TempDir()
	inst := filepath.Join(dir, "root")
	home := filepath.Join(dir, "home")
	env := []string{
		"HOME=" + home, "PATH=" + filepath.Join(inst, "usr/bin") + ":/usr/bin:/bin",
		"XDG_DATA_DIRS=" + filepath.Join(inst, "usr/share"), "XDG_DATA_HOME=" + filepath.Join(home, ".local/share"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_CONFIG_DIRS=" + filepath.Join(inst, "etc/xdg"),
	}
	if got := strings.TrimSpace(run(t, r, env, "xdg-mime", "query", "default", "x-scheme-handler/tel")); got != "" {
		t.Fatalf("before the package is installed tel: resolves to %q: the check would prove nothing", got)
	}
	run(t, r, nil, "dpkg-deb", "-x", deb, inst)
	for _, p := range []string{"usr/bin/softphone", "usr/share/applications/" + appID + ".desktop",
		"usr/share/metainfo/" + appID + ".metainfo.xml", "usr/share/icons/hicolor/scalable/apps/" + appID + ".svg",
		"etc/softphone/provisioning.json", "usr/share/doc/callcentre-softphone/provisioning.example.json"} {
		if _, err := os.Stat(filepath.Join(inst, p)); err != nil {
			t.Errorf("the .deb lacks /%s", p)
		}
	}
	for _, s := range hicolorSizes {
		checkPNG(t, filepath.Join(inst, "usr/share/icons/hicolor", sizeDir(s), "apps", appID+".png"), s)
	}
	if fi, err := os.Stat(filepath.Join(inst, "usr/bin/softphone")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("/usr/bin/softphone: %v %v", fi, err)
	}
	for _, p := range []string{"etc/softphone/provisioning.json", "usr/share/doc/callcentre-softphone/provisioning.example.json"} {
		if _, _, err := provision.LoadFile(filepath.Join(inst, p)); err != nil {
			t.Errorf("shipped /%s: %v", p, err)
		}
	}
	if c := run(t, r, nil, "dpkg-deb", "-I", deb, "conffiles"); strings.TrimSpace(c) != "/etc/softphone/provisioning.json" {
		t.Errorf("conffiles = %q", c)
	}
	ctrl := run(t, r, nil, "dpkg-deb", "-f", deb, "Depends", "Version", "Package")
	t.Logf("control:\n%s", ctrl)
	checkDepends(t, filepath.Join(inst, "usr/bin/softphone"), ctrl)

	// tel:, sip: and callto: resolve to the app with xdg-mime (and GLib),
	// once the desktop database exists (the dpkg trigger and postinst
	// build it) and the binary is on PATH.
	run(t, r, nil, "update-desktop-database", filepath.Join(inst, "usr/share/applications"))
	for _, scheme := range []string{"tel", "sip", "sips", "callto"} {
		got := strings.TrimSpace(run(t, r, env, "xdg-mime", "query", "default", "x-scheme-handler/"+scheme))
		if got != appID+".desktop" {
			t.Errorf("xdg-mime query default x-scheme-handler/%s = %q, want %s.desktop", scheme, got, appID)
		}
		if _, err := exec.LookPath("gio"); err == nil {
			if out := run(t, r, env, "gio", "mime", "x-scheme-handler/"+scheme); !strings.Contains(out, "Default application") || !strings.Contains(out, appID+".desktop") {
				t.Errorf("gio mime x-scheme-handler/%s:\n%s", scheme, out)
			}
		}
	}
	t.Logf("verified: %s installed into a test root, tel:/sip:/sips:/callto: resolve to %s.desktop", filepath.Base(deb), appID)

	// The rpm: same files, rpm-named dependencies, the conffile.
	files := run(t, r, nil, "rpm", "-qlp", rpmFile)
	for _, p := range []string{"/usr/bin/softphone", "/usr/share/applications/" + appID + ".desktop", "/etc/softphone/provisioning.json",
		"/usr/share/icons/hicolor/512x512/apps/" + appID + ".png"} {
		if !slices.Contains(strings.Split(files, "\n"), p) {
			t.Errorf("the rpm lacks %s", p)
		}
	}
	if cf := run(t, r, nil, "rpm", "-qcp", rpmFile); !strings.Contains(cf, "/etc/softphone/provisioning.json") {
		t.Errorf("rpm config files = %q", cf)
	}
	req := run(t, r, nil, "rpm", "-qRp", rpmFile)
	for _, d := range []string{"mesa-libGL", "libX11", "portaudio"} {
		if !strings.Contains(req, d) {
			t.Errorf("the rpm does not require %s:\n%s", d, req)
		}
	}
}

func sizeDir(s int) string { return strconv.Itoa(s) + "x" + strconv.Itoa(s) }

// checkDepends checks that every library the binary links (NEEDED) is
// provided by a package the .deb depends on, as dpkg knows it on the
// build host.
func checkDepends(t *testing.T, bin, control string) {
	t.Helper()
	var depends []string
	for _, line := range strings.Split(control, "\n") {
		if v, ok := strings.CutPrefix(line, "Depends:"); ok {
			for _, d := range strings.Split(v, ",") {
				depends = append(depends, strings.Fields(d)[0])
			}
		}
	}
	dyn := run(t, "", nil, "readelf", "-d", bin)
	needed := regexp.MustCompile(`\(NEEDED\)\s+Shared library: \[([^\]]+)\]`).FindAllStringSubmatch(dyn, -1)
	if len(needed) == 0 {
		t.Fatalf("readelf found no NEEDED entries in %s", bin)
	}
	cache := run(t, "", nil, "ldconfig", "-p")
	for _, m := range needed {
		lib := m[1]
		path := ""
		for _, line := range strings.Split(cache, "\n") {
			f := strings.Fields(line)
			if len(f) > 0 && f[0] == lib && strings.Contains(line, "x86-64") {
				path = f[len(f)-1]
				break
			}
		}
		if path == "" {
			t.Errorf("%s: not in the ldconfig cache", lib)
			continue
		}
		var owner string
		for _, p := range []string{path, "/usr" + path, strings.TrimPrefix(path, "/usr")} {
			if out, err := runErr("", nil, "dpkg", "-S", p); err == nil {
				owner = strings.Split(strings.Split(out, "\n")[0], ":")[0]
				break
			}
		}
		if owner == "" {
			t.Errorf("%s (%s): no Debian package owns it", lib, path)
			continue
		}
		if !slices.Contains(depends, owner) {
			t.Errorf("the binary needs %s from %s, which Depends lacks (%v)", lib, owner, depends)
		}
	}
}
