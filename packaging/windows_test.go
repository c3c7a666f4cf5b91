//go:build unix

package packaging

import (
	"bytes"
	"debug/pe"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callcentre/softphone/provision"
)

// windowsExe returns the cross-built exe the MSI test packs. It builds it
// (make windows: mingw-w64 with clang for the cgo C parts, the cached
// static PortAudio, speexdsp and opus, go build); make test has started
// the same build in the background before go vet
// (packaging/windows/background.sh), so the cold build overlaps the other
// packages' tests, and this waits for that job first and then runs make
// windows itself, which with the warm cache takes seconds and builds from
// the current tree. With SOFTPHONE_TEST_WINDOWS=0 (a developer's quick
// run) it uses an exe an earlier make windows left in build/windows, or
// skips; never with CI=true.
func windowsExe(t *testing.T) string {
	t.Helper()
	r := root(t)
	exe := filepath.Join(r, "build", "windows", "softphone.exe")
	if os.Getenv("SOFTPHONE_TEST_WINDOWS") != "0" || os.Getenv("CI") == "true" {
		need(t, "x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32-windres", "x86_64-w64-mingw32-objdump", "icotool", "curl", "rsvg-convert")
		waitBackgroundBuild(t, filepath.Join(r, "build", "windows"))
		makeTargets(t, nil, "windows")
		t.Logf("built %s now (make windows)", exe)
		return exe
	}
	fi, err := os.Stat(exe)
	if err != nil {
		t.Skip("SOFTPHONE_TEST_WINDOWS=0 and no build/windows/softphone.exe, so the MSI is not checked: run make windows first, or drop SOFTPHONE_TEST_WINDOWS=0")
	}
	t.Logf("using %s from an earlier make windows (built %s ago); without SOFTPHONE_TEST_WINDOWS=0 it is rebuilt",
		exe, time.Since(fi.ModTime()).Round(time.Second))
	return exe
}

// waitBackgroundBuild waits while background.sh's job runs (its status
// file says "running PID" and the process lives), leaving the test binary
// time for the rest; a job still running then fails the test with its log.
func waitBackgroundBuild(t *testing.T, dir string) {
	t.Helper()
	status := filepath.Join(dir, "background.status")
	reserve := 4 * time.Minute // the foreground make windows, the MSI and signing checks
	deadline := time.Now().Add(25 * time.Minute)
	if d, ok := t.Deadline(); ok {
		deadline = d.Add(-reserve)
	}
	start := time.Now()
	for {
		raw, err := os.ReadFile(status)
		if err != nil {
			return // no background job: make windows below builds it all
		}
		f := strings.Fields(string(raw))
		if len(f) >= 2 && f[0] == "exit" {
			took := ""
			if len(f) >= 3 {
				took = " after " + f[2] + " s"
			}
			t.Logf("the background cross-build ended with exit %s%s (waited %s here)", f[1], took, time.Since(start).Round(time.Second))
			return
		}
		pid := 0
		if len(f) == 2 && f[0] == "running" {
			pid, _ = strconv.Atoi(f[1])
		}
		if pid <= 0 || syscall.Kill(pid, 0) != nil {
			t.Logf("the background cross-build (%q) is gone without a status; building here", strings.TrimSpace(string(raw)))
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "background.log"))
			t.Fatalf("the background cross-build (pid %d) still runs after %s of waiting; its log:\n%s",
				pid, time.Since(start).Round(time.Second), log)
		}
		time.Sleep(2 * time.Second)
	}
}

// systemDLLs are the DLLs every supported Windows has; the exe must need
// nothing else (no libwinpthread, no libgcc, no portaudio DLL).
var systemDLLs = []string{"advapi32.dll", "gdi32.dll", "kernel32.dll", "opengl32.dll", "setupapi.dll", "shell32.dll",
	"user32.dll", "winmm.dll", "msvcrt.dll", "ole32.dll", "dsound.dll", "ws2_32.dll", "bcrypt.dll", "crypt32.dll",
	"iphlpapi.dll", "ntdll.dll", "dnsapi.dll", "userenv.dll", "secur32.dll", "mswsock.dll", "powrprof.dll",
	"winhttp.dll", "imm32.dll", "dwmapi.dll", "version.dll", "comdlg32.dll", "uuid.dll", "oleaut32.dll",
	"netapi32.dll", "credui.dll", "shlwapi.dll", "comctl32.dll", "uxtheme.dll", "avrt.dll", "bcryptprimitives.dll"}

func checkExe(t *testing.T, path string) {
	t.Helper()
	f, err := pe.Open(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer func() { _ = f.Close() }()
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Errorf("machine = %#x, want amd64", f.Machine)
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok {
		t.Fatal("not PE32+")
	}
	if oh.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_GUI {
		t.Errorf("subsystem = %d, want the GUI subsystem (no console window)", oh.Subsystem)
	}
	// debug/pe's ImportedLibraries is not implemented (it returns
	// nothing), so the import directory is read with mingw's objdump.
	need(t, "x86_64-w64-mingw32-objdump")
	var libs []string
	for _, line := range strings.Split(run(t, "", nil, "x86_64-w64-mingw32-objdump", "-p", path), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "DLL Name: "); ok {
			libs = append(libs, name)
		}
	}
	if len(libs) == 0 {
		t.Fatal("objdump lists no imported DLLs")
	}
	for _, l := range libs {
		if !slices.Contains(systemDLLs, strings.ToLower(l)) {
			t.Errorf("the exe imports %s, which is not a system DLL", l)
		}
	}
	t.Logf("imports: %s", strings.Join(libs, " "))
	rsrc := f.Section(".rsrc")
	if rsrc == nil {
		t.Fatal("no .rsrc section: the icon, manifest and version information are missing")
	}
	data, err := rsrc.Data()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"requestedExecutionLevel", "PerMonitorV2"} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("the manifest resource lacks %s", want)
		}
	}
	if !bytes.Contains(data, utf16("Softphone")) || !bytes.Contains(data, utf16(version)) {
		t.Error("the version resource lacks the product name or version")
	}
}

func utf16(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), 0)
	}
	return b
}

// msiTable returns a table's rows (msiinfo export), without the three
// header lines.
func msiTable(t *testing.T, msi, table string) [][]string {
	t.Helper()
	out := run(t, "", nil, "msiinfo", "export", msi, table)
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(out, "\r\n", "\n"), "\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("table %s: %q", table, out)
	}
	var rows [][]string
	for _, l := range lines[3:] {
		rows = append(rows, strings.Split(l, "\t"))
	}
	return rows
}

// publicProperties are the msiexec properties IT sets, and the
// provisioning keys they become.
var publicProperties = map[string]string{
	"SIPSERVER": "sip.server", "SIPTRANSPORT": "sip.transport", "SIPUSER": "sip.user", "SIPAUTHUSER": "sip.auth_user", "ECHOTESTNUMBER": "sip.echo_test_number", "CRMTYPE": "crm.type", "CRMURL": "crm.instance_url", "CRMCLIENTID": "crm.client_id",
	"SHAREDPC": "policy.shared_pc", "AUTOSTART": "policy.autostart", "LOCKED": "locked",
}

func TestWindowsMSI(t *testing.T) {
	need(t, "wixl", "msibuild", "msiinfo", "msidump", "msiextract")
	r := root(t)
	exe := windowsExe(t)
	checkExe(t, exe)
	logSize(t, exe)

	dir := t.TempDir()
	msi := filepath.Join(dir, "Softphone-"+version+"-x64.msi")
	run(t, r, append(os.Environ(), "VERSION="+version), "packaging/windows/build-msi.sh", exe, msi)
	logSize(t, msi)
	checkMSI(t, msi, exe)
	t.Logf("verified: the MSI authored from the real cross-built %s", exe)

	t.Run("sign", func(t *testing.T) { testSign(t, exe) })
}

func checkMSI(t *testing.T, msi, exe string) {
	t.Helper()
	tables := strings.Fields(run(t, "", nil, "msiinfo", "tables", msi))
	for _, want := range []string{"Property", "Registry", "InstallExecuteSequence", "InstallUISequence", "CustomAction",
		"Upgrade", "LaunchCondition", "Shortcut", "MsiShortcutProperty", "Feature", "FeatureComponents", "Component",
		"File", "AppSearch", "RegLocator", "Icon", "Media"} {
		if !slices.Contains(tables, want) {
			t.Errorf("the MSI lacks the %s table (has %v)", want, tables)
		}
	}
	sum := run(t, "", nil, "msiinfo", "suminfo", msi)
	if !strings.Contains(sum, "x64;1033") {
		t.Errorf("summary information is not x64;1033:\n%s", sum)
	}

	props := map[string]string{}
	for _, row := range msiTable(t, msi, "Property") {
		props[row[0]] = row[1]
	}
	for k, want := range map[string]string{"ALLUSERS": "1", "ProductVersion": version, "ProductName": "Softphone",
		"Manufacturer": "Callcentre", "UpgradeCode": "{2ED77981-52A9-4946-B8D3-2D44A9CFCEE3}", "ARPNOMODIFY": "1",
		"ARPPRODUCTICON": "softphone.ico"} {
		if props[k] != want {
			t.Errorf("property %s = %q, want %q", k, props[k], want)
		}
	}
	secure := strings.Split(props["SecureCustomProperties"], ";")
	for p := range publicProperties {
		if !slices.Contains(secure, p) {
			t.Errorf("%s is not in SecureCustomProperties %v: a per-machine install would drop it", p, secure)
		}
	}
	for _, p := range []string{"WIX_UPGRADE_DETECTED", "WIX_DOWNGRADE_DETECTED"} {
		if !slices.Contains(secure, p) {
			t.Errorf("%s is not secure", p)
		}
	}

	// Registry rows: provisioning values, URL handlers, default-apps
	// registration, autostart.
	type regRow struct{ root, key, name, value, comp string }
	var reg []regRow
	for _, row := range msiTable(t, msi, "Registry") {
		if len(row) != 6 {
			t.Fatalf("registry row %v", row)
		}
		reg = append(reg, regRow{row[1], row[2], row[3], row[4], row[5]})
	}
	has := func(key, name, value, comp string) bool {
		return slices.ContainsFunc(reg, func(x regRow) bool {
			return x.root == "2" && x.key == key && x.name == name && x.value == value && x.comp == comp
		})
	}
	const provKey = `SOFTWARE\Callcentre\Softphone`
	for p, k := range publicProperties {
		if !has(provKey, k, "["+p+"]", "Provisioning") {
			t.Errorf("no HKLM row %s\\%s = [%s]", provKey, k, p)
		}
	}
	known := map[string]bool{"locked": true}
	for _, k := range provision.Keys() {
		known[string(k)] = true
	}
	for _, x := range reg {
		if x.key == provKey && !known[x.name] {
			t.Errorf("the MSI writes %q to %s, which the provision package rejects", x.name, provKey)
		}
	}
	cmd := `"[INSTALLDIR]softphone.exe" "%1"`
	for _, s := range []string{"tel", "sip", "sips", "callto"} {
		prog := `SOFTWARE\Classes\Callcentre.Softphone.` + s
		for _, key := range []string{prog, `SOFTWARE\Classes\` + s} {
			if !has(key, "URL Protocol", "", "UrlHandlers") || !has(key+`\shell\open\command`, "", cmd, "UrlHandlers") ||
				!has(key, "", "URL:"+s, "UrlHandlers") {
				t.Errorf("%s is not a complete URL protocol registration", key)
			}
		}
		if !has(provKey+`\Capabilities\URLAssociations`, s, "Callcentre.Softphone."+s, "UrlHandlers") {
			t.Errorf("Capabilities\\URLAssociations lacks %s", s)
		}
	}
	// DefaultAssociations.xml (what IT applies with DISM or Group Policy)
	// names ProgIds the MSI registers, for every scheme.
	raw, err := os.ReadFile(filepath.Join(root(t), "packaging", "windows", "DefaultAssociations.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var assoc struct {
		Associations []struct {
			Identifier string `xml:"Identifier,attr"`
			ProgID     string `xml:"ProgId,attr"`
		} `xml:"Association"`
	}
	if err := xml.Unmarshal(raw, &assoc); err != nil {
		t.Fatalf("DefaultAssociations.xml: %v", err)
	}
	var schemes []string
	for _, a := range assoc.Associations {
		schemes = append(schemes, a.Identifier)
		if !has(`SOFTWARE\Classes\`+a.ProgID+`\shell\open\command`, "", cmd, "UrlHandlers") {
			t.Errorf("DefaultAssociations.xml maps %s to %s, which the MSI does not register", a.Identifier, a.ProgID)
		}
	}
	if slices.Sort(schemes); !slices.Equal(schemes, []string{"callto", "sip", "sips", "tel"}) {
		t.Errorf("DefaultAssociations.xml covers %v", schemes)
	}
	if !has(`SOFTWARE\RegisteredApplications`, "Softphone", provKey+`\Capabilities`, "UrlHandlers") {
		t.Error("the app is not in RegisteredApplications (Default apps)")
	}
	if !has(`SOFTWARE\Microsoft\Windows\CurrentVersion\Run`, "CallcentreSoftphone", `"[INSTALLDIR]softphone.exe"`, "Autostart") {
		t.Error("no HKLM Run row in the Autostart component")
	}

	// The autostart feature is off unless AUTOSTART=1 raises INSTALLLEVEL.
	levels := map[string]string{}
	for _, row := range msiTable(t, msi, "Feature") {
		levels[row[0]] = row[5]
	}
	if levels["Main"] != "1" || levels["AutostartAtLogin"] != "1000" {
		t.Errorf("feature levels = %v", levels)
	}

	// The execute sequence: command-line values saved before AppSearch
	// reads the previous install's, restored after; INSTALLLEVEL before
	// costing; the old product removed after InstallValidate.
	seq := map[string]int{}
	cond := map[string]string{}
	for _, row := range msiTable(t, msi, "InstallExecuteSequence") {
		n := 0
		for _, c := range row[2] {
			n = n*10 + int(c-'0')
		}
		seq[row[0]], cond[row[0]] = n, row[1]
	}
	for p := range publicProperties {
		save, restore := seq["Save"+p], seq["Restore"+p]
		if save == 0 || restore == 0 || save >= seq["AppSearch"] || restore <= seq["AppSearch"] || restore >= seq["CostInitialize"] {
			t.Errorf("%s: Save at %d, AppSearch at %d, Restore at %d", p, save, seq["AppSearch"], restore)
		}
		if cond["Save"+p] != p || cond["Restore"+p] != "CMDLINE_"+p {
			t.Errorf("%s: conditions %q / %q", p, cond["Save"+p], cond["Restore"+p])
		}
	}
	if a := seq["AutostartFeature"]; a == 0 || a >= seq["CostInitialize"] || cond["AutostartFeature"] != `AUTOSTART="1"` {
		t.Errorf("AutostartFeature at %d (%q), CostInitialize at %d", a, cond["AutostartFeature"], seq["CostInitialize"])
	}
	if seq["RemoveExistingProducts"] <= seq["InstallValidate"] || seq["RemoveExistingProducts"] >= seq["InstallInitialize"] {
		t.Errorf("RemoveExistingProducts at %d", seq["RemoveExistingProducts"])
	}
	if seq["FindRelatedProducts"] == 0 || seq["LaunchConditions"] == 0 {
		t.Error("FindRelatedProducts or LaunchConditions missing")
	}
	for _, row := range msiTable(t, msi, "AppSearch") {
		if publicProperties[row[0]] == "" {
			t.Errorf("AppSearch for an unknown property %s", row[0])
		}
	}
	if n := len(msiTable(t, msi, "RegLocator")); n != len(publicProperties) {
		t.Errorf("%d RegLocator rows, want %d", n, len(publicProperties))
	}
	for _, row := range msiTable(t, msi, "RegLocator") {
		if row[2] != provKey || row[4] != "18" { // raw, 64-bit view
			t.Errorf("RegLocator %v", row)
		}
	}

	// Major upgrades, blocked downgrades, Windows 10+.
	up := msiTable(t, msi, "Upgrade")
	if !slices.ContainsFunc(up, func(r []string) bool { return r[2] == version && r[6] == "WIX_UPGRADE_DETECTED" }) ||
		!slices.ContainsFunc(up, func(r []string) bool { return r[1] == version && r[6] == "WIX_DOWNGRADE_DETECTED" }) {
		t.Errorf("upgrade rows %v", up)
	}
	lc := run(t, "", nil, "msiinfo", "export", msi, "LaunchCondition")
	for _, want := range []string{"NOT WIX_DOWNGRADE_DETECTED", "VersionNT64 >= 603"} {
		if !strings.Contains(lc, want) {
			t.Errorf("LaunchCondition lacks %q:\n%s", want, lc)
		}
	}

	// The Start-menu shortcut with the AppUserModelID toasts need.
	sc := msiTable(t, msi, "Shortcut")
	if len(sc) != 1 || sc[0][0] != "StartMenuShortcut" || sc[0][1] != "ProgramMenuFolder" {
		t.Errorf("shortcuts %v", sc)
	}
	sp := msiTable(t, msi, "MsiShortcutProperty")
	if len(sp) != 1 || sp[0][1] != "StartMenuShortcut" || sp[0][2] != "System.AppUserModel.ID" || sp[0][3] != appID {
		t.Errorf("MsiShortcutProperty %v", sp)
	}

	// The payload is the exe, byte for byte (msiextract; msidump -s
	// lists the streams, among them the cabinet).
	files := msiTable(t, msi, "File")
	if len(files) != 1 || !strings.HasSuffix(files[0][2], "softphone.exe") {
		t.Fatalf("files %v", files)
	}
	ex := t.TempDir()
	run(t, ex, nil, "msiextract", "-C", ex, msi)
	var found string
	_ = filepath.Walk(ex, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() == "softphone.exe" {
			found = p
		}
		return nil
	})
	want, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(found)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("msiextract: %s differs from %s (%v)", found, exe, err)
	}
	dump := t.TempDir()
	run(t, dump, nil, "msidump", "-s", "-t", msi)
	if _, err := os.Stat(filepath.Join(dump, "_Streams", "softphone.cab")); err != nil {
		t.Errorf("msidump -s: no softphone.cab stream: %v", err)
	}
}

// testSign signs a copy of the exe, packs it into an MSI, signs that with
// a throwaway self-signed certificate through sign.sh, and verifies both,
// including the exe extracted from the signed MSI.
func testSign(t *testing.T, exe string) {
	need(t, "osslsigncode", "openssl")
	r := root(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	run(t, dir, nil, "openssl", "req", "-x509", "-newkey", "rsa:3072", "-sha256", "-days", "2", "-nodes",
		"-keyout", key, "-out", cert, "-subj", "/CN=Softphone Test Code Signing/O=Callcentre Test",
		"-addext", "extendedKeyUsage=codeSigning")
	env := append(os.Environ(), "SIGN_CERT="+cert, "SIGN_KEY="+key, "SIGN_CA="+cert, "VERSION="+version)

	winDir := filepath.Join(dir, "windows")
	if err := os.MkdirAll(filepath.Join(winDir, "res"), 0o755); err != nil {
		t.Fatal(err)
	}
	signedExe := filepath.Join(winDir, "softphone.exe")
	copyFile(t, exe, signedExe)
	copyFile(t, filepath.Join(filepath.Dir(exe), "res", "softphone.ico"), filepath.Join(winDir, "res", "softphone.ico"))
	run(t, r, env, "packaging/windows/sign.sh", signedExe)
	msi := filepath.Join(dir, "signed.msi")
	run(t, r, env, "packaging/windows/build-msi.sh", signedExe, msi)
	run(t, r, env, "packaging/windows/sign.sh", msi)
	for _, f := range []string{signedExe, msi} {
		out := run(t, "", nil, "osslsigncode", "verify", "-CAfile", cert, "-in", f)
		if !strings.Contains(out, "Signature verification: ok") {
			t.Errorf("%s: %s", f, out)
		}
	}
	// The exe inside the signed MSI is the signed exe.
	ex := t.TempDir()
	run(t, ex, nil, "msiextract", "-C", ex, msi)
	var inner string
	_ = filepath.Walk(ex, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Name() == "softphone.exe" {
			inner = p
		}
		return nil
	})
	if out := run(t, "", nil, "osslsigncode", "verify", "-CAfile", cert, "-in", inner); !strings.Contains(out, "Signature verification: ok") {
		t.Errorf("the exe inside the MSI: %s", out)
	}
	// A signature does not verify against another CA, nor after tampering.
	other := filepath.Join(dir, "other.pem")
	run(t, dir, nil, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-days", "2", "-nodes", "-keyout", filepath.Join(dir, "other.key"),
		"-out", other, "-subj", "/CN=Someone Else")
	if out, err := runErr("", nil, "osslsigncode", "verify", "-CAfile", other, "-in", msi); err == nil {
		t.Errorf("verification against an unrelated CA passed:\n%s", out)
	}
	b, err := os.ReadFile(signedExe)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	tampered := filepath.Join(dir, "tampered.exe")
	if err := os.WriteFile(tampered, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := runErr("", nil, "osslsigncode", "verify", "-CAfile", cert, "-in", tampered); err == nil {
		t.Errorf("a tampered exe verified:\n%s", out)
	}
	logSize(t, msi)
	t.Logf("verified: exe and MSI signed with a throwaway self-signed certificate (no timestamp: no TSA reachable)")
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
