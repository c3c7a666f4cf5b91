package labio

import "testing"

func TestBufferKeepsTheTail(t *testing.T) {
	b := Buffer{Max: 8}
	for _, s := range []string{"aaaa", "bbbb", "cccc", "dddd"} {
		if _, err := b.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	// 12 bytes > Max: the last Max/2 bytes are kept before "dddd" is added.
	if got := b.String(); got != "ccccdddd" {
		t.Fatalf("bounded buffer holds %q", got)
	}
	var u Buffer
	for i := 0; i < 100; i++ {
		_, _ = u.Write([]byte("x"))
	}
	if len(u.String()) != 100 {
		t.Fatalf("unbounded buffer lost data: %d bytes", len(u.String()))
	}
}

func TestFreePorts(t *testing.T) {
	for _, f := range []func() (int, error){FreeUDPPort, FreeTCPPort} {
		if p, err := f(); err != nil || p <= 0 {
			t.Fatalf("port %d, %v", p, err)
		}
	}
}
