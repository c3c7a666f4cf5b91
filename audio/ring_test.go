package audio

import (
	"sync"
	"testing"
)

func TestRingWrapAndLimits(t *testing.T) {
	r := NewRing(5)
	if r.Cap() != 8 {
		t.Fatalf("cap %d, want 8", r.Cap())
	}
	if n := r.Write([]float32{1, 2, 3, 4, 5, 6}); n != 6 {
		t.Fatalf("wrote %d", n)
	}
	out := make([]float32, 4)
	if n := r.Read(out); n != 4 || out[0] != 1 || out[3] != 4 {
		t.Fatalf("read %d %v", n, out)
	}
	if n := r.Write([]float32{7, 8, 9, 10, 11, 12, 13}); n != 6 {
		t.Fatalf("full ring accepted %d, want 6", n)
	}
	if r.Free() != 0 || r.Len() != 8 {
		t.Fatalf("len %d free %d", r.Len(), r.Free())
	}
	if n := r.Discard(1); n != 1 {
		t.Fatalf("discard %d", n)
	}
	out = make([]float32, 10)
	n := r.Read(out)
	want := []float32{6, 7, 8, 9, 10, 11, 12}
	if n != len(want) {
		t.Fatalf("read %d want %d", n, len(want))
	}
	for i, v := range want {
		if out[i] != v {
			t.Fatalf("out %v want %v", out[:n], want)
		}
	}
	if r.Read(out) != 0 || r.Discard(3) != 0 {
		t.Fatal("empty ring returned data")
	}
}

// TestRingConcurrent streams a counting sequence through a small ring from
// one goroutine to another with odd chunk sizes; run under -race.
func TestRingConcurrent(t *testing.T) {
	r := NewRing(64)
	const total = 200000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		next := 0
		chunk := make([]float32, 37)
		for next < total {
			n := min(len(chunk), total-next)
			for i := 0; i < n; i++ {
				chunk[i] = float32(next + i)
			}
			w := r.Write(chunk[:n])
			next += w
			if w == 0 {
				yield()
			}
		}
	}()
	got := 0
	buf := make([]float32, 23)
	for got < total {
		n := r.Read(buf)
		for i := 0; i < n; i++ {
			if buf[i] != float32(got+i) {
				t.Fatalf("sample %d = %v", got+i, buf[i])
			}
		}
		got += n
		if n == 0 {
			yield()
		}
	}
	wg.Wait()
}
