package domain

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeDialString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		err  error
	}{
		{"201", "201", nil},
		{" +49 (30) 1234-567 ", "+49301234567", nil},
		{"+1.212.555.0100", "+12125550100", nil},
		{"\u200b+44\u00a020 7946 0958\u200e", "+442079460958", nil},
		{"*43", "*43", nil},
		{"#31#0800", "#31#0800", nil},
		{"tel:+1-212-555-0100", "+12125550100", nil},
		{"TEL:5550100;phone-context=+1212", "5550100", nil},
		{"callto:+4930123", "+4930123", nil},
		{"callto://alice", "alice", nil},
		{"sip:bob@example.com", "sip:bob@example.com", nil},
		{"SIPS:bob@example.com:5061;transport=tls", "sips:bob@example.com:5061;transport=tls", nil},
		{"alice", "alice", nil},
		{"", "", ErrEmptyNumber},
		{"   ", "", ErrEmptyNumber},
		{"tel:", "", ErrEmptyNumber},
		{"---", "", ErrEmptyNumber},
		{"+", "", ErrInvalidNumber},
		{"12+34", "", ErrInvalidNumber},
		{"call me", "", ErrInvalidNumber},
		{"sip:", "", ErrInvalidNumber},
		{"sip:@host", "", ErrInvalidNumber},
		{"sip:bob@", "", ErrInvalidNumber},
		{"sip:bob <x>@h", "", ErrInvalidNumber},
		{"callto:callto:1", "", ErrInvalidNumber},
		{"\xff\xfe", "", ErrInvalidNumber},
		{strings.Repeat("1", 33), "", ErrNumberTooLong},
		{"sip:" + strings.Repeat("a", 300) + "@h", "", ErrNumberTooLong},
	}
	for _, tt := range tests {
		got, err := NormalizeDialString(tt.in)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("NormalizeDialString(%q) = %q, %v; want %q, %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func FuzzNormalizeDialString(f *testing.F) {
	for _, s := range []string{"+49 30 123", "tel:+1-2;x=y", "sip:a@b", "callto://x", "alice", "*43#", "\u200b1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeDialString(s)
		if err != nil {
			if got != "" {
				t.Fatalf("error %v with result %q", err, got)
			}
			return
		}
		if got == "" || !utf8.ValidString(got) || strings.ContainsAny(got, " \t\r\n<>\"") {
			t.Fatalf("NormalizeDialString(%q) = %q", s, got)
		}
		// Normalising is idempotent: a target can be normalised again by
		// the SIP adapter without changing.
		again, err := NormalizeDialString(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}

func TestValidDTMF(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{"0123456789*#": true, "ABCDabcd": true, "": false, "1 2": false, "E": false, strings.Repeat("1", 65): false} {
		if got := ValidDTMF(s); got != want {
			t.Errorf("ValidDTMF(%q) = %v", s, got)
		}
	}
}

func TestNewCallIDUnique(t *testing.T) {
	t.Parallel()
	seen := map[CallID]bool{}
	for i := 0; i < 10000; i++ {
		id := NewCallID()
		if len(id) != 32 || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

func TestEnumStrings(t *testing.T) {
	t.Parallel()
	// Every enum value has a name, and names are unique per enum.
	check := func(name string, n int, str func(int) string) {
		seen := map[string]bool{}
		for i := 0; i < n; i++ {
			s := str(i)
			if s == "" || strings.Contains(s, "(") || seen[s] {
				t.Errorf("%s(%d) = %q", name, i, s)
			}
			seen[s] = true
		}
		if !strings.Contains(str(200), "(") {
			t.Errorf("%s(200) = %q, want a fallback", name, str(200))
		}
	}
	check("Presence", 6, func(i int) string { return Presence(i).String() })
	check("AgentStatus", 10, func(i int) string { return AgentStatus(i).String() })
	check("RegState", 5, func(i int) string { return RegState(i).String() })
	check("Direction", 3, func(i int) string { return Direction(i).String() })
	check("CallState", 7, func(i int) string { return CallState(i).String() })
	check("CallRole", 3, func(i int) string { return CallRole(i).String() })
	check("TransferKind", 4, func(i int) string { return TransferKind(i).String() })
	check("EndCause", 18, func(i int) string { return EndCause(i).String() })
	check("RecordingState", 5, func(i int) string { return RecordingState(i).String() })
	check("RecordingPolicy", 4, func(i int) string { return RecordingPolicy(i).String() })
	check("RecordAction", 5, func(i int) string { return RecordAction(i).String() })
	check("ScreenPopPolicy", 4, func(i int) string { return ScreenPopPolicy(i).String() })
	check("MatchState", 6, func(i int) string { return MatchState(i).String() })
	check("Phase", 3, func(i int) string { return Phase(i).String() })
	check("RingerMode", 3, func(i int) string { return RingerMode(i).String() })
	check("NoticeKind", 3, func(i int) string { return NoticeKind(i).String() })
	check("TimerKind", 4, func(i int) string { return TimerKind(i).String() })
	for c := EndCause(0); c < 18; c++ {
		if c.Message() == "" {
			t.Errorf("cause %s has no message", c)
		}
	}
}
