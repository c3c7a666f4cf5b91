package viewmodel

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/callcentre/softphone/agent/domain"
)

// dynamic lists strings that reach T through variables: the default break
// reasons, the auto-pause reason, CRM record types and quality grades.
var dynamic = []string{"Break", "Lunch", "Meeting", "Training", "Signing in", domain.AutoPauseReason,
	"Contact", "Lead", "Account", "Good", "Fair", "Poor", "CRM", "Contacts", "History", "Favorites",
	domain.ErrEmptyNumber.Error(), domain.ErrInvalidNumber.Error(), domain.ErrNumberTooLong.Error(),
	// Fixed notices of the core the agent sees often.
	"Sign in first", "Choose an outcome before finishing wrap-up", "Wrap-up time is up: choose an outcome to finish",
	"You will be signed out when your calls and wrap-up are finished", "Connected to the phone system again",
	"Choose an outcome from the list", "Wrap-up can be extended only once", "Digits can only be sent on an active call",
	"A transfer is already in progress", "Finish the current consultation first",
	// Settings labels looked up through maps.
	"When it rings", "When I answer", "Never", "System language"}

var literalT = regexp.MustCompile(`\bT\(\s*("(?:[^"\\]|\\.)*")`)

// sourceStrings collects every string literal passed to T in the ui
// packages (not tests).
func sourceStrings(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range literalT.FindAllStringSubmatch(string(src), -1) {
			s, err := strconv.Unquote(m[1])
			if err != nil {
				t.Errorf("%s: %v", path, err)
				continue
			}
			seen[s] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

var verbs = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

// TestGermanCatalogIsComplete fails when a string shown to the agent has no
// German translation, or when a translation drops or reorders a format verb.
func TestGermanCatalogIsComplete(t *testing.T) {
	de, err := LoadCatalog("de")
	if err != nil {
		t.Fatal(err)
	}
	want := sourceStrings(t)
	if len(want) < 50 {
		t.Fatalf("only %d strings found: is the scan broken?", len(want))
	}
	want = append(want, dynamic...)
	for c := domain.EndCause(0); c <= domain.CauseFailed; c++ {
		want = append(want, c.Message())
	}
	var missing []string
	for _, s := range want {
		tr, ok := de[s]
		if !ok || tr == "" {
			missing = append(missing, strconv.Quote(s))
			continue
		}
		if a, b := verbs.FindAllString(s, -1), verbs.FindAllString(tr, -1); strings.Join(a, " ") != strings.Join(b, " ") {
			t.Errorf("%q -> %q: format verbs %v became %v", s, tr, a, b)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%d strings have no German translation:\n%s", len(missing), strings.Join(missing, ",\n"))
	}
}

func TestTranslatorFallsBack(t *testing.T) {
	for lang, want := range map[string]string{"": "en", "en_US.UTF-8": "en", "de_DE.UTF-8": "de", "de-AT": "de", "fr_FR": "en", "C": "en"} {
		if got := NewTranslator(lang).Lang(); got != want {
			t.Errorf("%q: %q, want %q", lang, got, want)
		}
	}
	de := NewTranslator("de")
	if got := de.T("no such string %d", 3); got != "no such string 3" {
		t.Errorf("fallback %q", got)
	}
	if got := de.T("Available"); got != "Verfügbar" {
		t.Errorf("Available in German: %q", got)
	}
	var nilT *Translator
	if nilT.T("x") != "x" || nilT.Lang() != "en" {
		t.Error("nil translator must speak English")
	}
}
