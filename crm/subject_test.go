package crm_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/callcentre/softphone/crm"
)

func TestCallSubject(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"", 255, ""},
		{" \t\n ", 255, ""},
		{"  Billing question \n", 255, "Billing question"},
		{"Billing question", 0, ""},
		{"abcdef", 3, "abc"},
		{"ab cdef", 3, "ab"},      // no trailing space after the cut
		{"Größe", 4, "Grö" + "ß"}, // runes, not bytes: 5 runes, 7 bytes
		{"Größe", 3, "Grö"},       // never half of ö
		{"a😀b", 2, "a"},           // 😀 counts two units: it does not fit in 2
		{"a😀b", 3, "a😀"},          //
		{"日本語の件名", 6, "日本語の件名"},   // exactly max
		{"\xffabc", 2, "\xffa"},   // invalid UTF-8 counts one unit per byte
		{strings.Repeat("é", 300), 255, strings.Repeat("é", 255)},
	} {
		got := crm.CallSubject(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("CallSubject(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if utf8.ValidString(tc.in) && !utf8.ValidString(got) {
			t.Errorf("CallSubject(%q, %d) = %q: not valid UTF-8", tc.in, tc.max, got)
		}
		if n := len(utf16.Encode([]rune(got))); tc.max > 0 && n > tc.max {
			t.Errorf("CallSubject(%q, %d) = %d UTF-16 units", tc.in, tc.max, n)
		}
	}
}

func TestNormalizerPhones(t *testing.T) {
	n := crm.NewNormalizer("US")
	got := n.Phones("", " (415) 555-1212 ", "+1 415 555 1212", "ext. 12", "  ", "+44 20 7946 0018", "ext. 12")
	want := []string{"+14155551212", "ext. 12", "+442079460018"}
	if !slices.Equal(got, want) {
		t.Fatalf("Phones = %q, want %q", got, want)
	}
	if got := n.Phones("", " "); got != nil {
		t.Fatalf("Phones of blanks = %q, want nil", got)
	}
}
