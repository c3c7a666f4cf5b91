package emukit

import "testing"

func TestCallbackIgnorePortRootPath(t *testing.T) {
	s := New(Config{CallbackURLs: []string{"http://localhost"}, IgnorePort: true})
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://localhost", true},
		{"http://localhost:51234/", true},
		{"http://localhost:51234", true},
		{"http://localhost:51234/other", false},
		{"http://127.0.0.1:51234/", false},
		{"https://localhost:51234/", false},
	} {
		if got := s.callbackOK(tc.url); got != tc.ok {
			t.Errorf("callbackOK(%q) = %v, want %v", tc.url, got, tc.ok)
		}
	}
	exact := New(Config{CallbackURLs: []string{"http://localhost:1717/cb"}})
	if exact.callbackOK("http://localhost:1718/cb") {
		t.Error("a different port passed an exact callback match")
	}
}
