package audio

import "sync/atomic"

// Ring is a lock-free single-producer / single-consumer ring buffer of
// float32 samples. Exactly one goroutine (or PortAudio callback thread) may
// call the producer methods (Write, Free) and exactly one the consumer
// methods (Read, Discard, Len); they never allocate, lock or block, so they
// are safe in a real-time audio callback.
type Ring struct {
	buf  []float32
	mask uint64
	_    [64]byte // keep the counters on their own cache lines
	w    atomic.Uint64
	_    [56]byte
	r    atomic.Uint64
}

// NewRing returns a ring holding at least capacity samples (rounded up to
// a power of two).
func NewRing(capacity int) *Ring {
	n := 1
	for n < capacity {
		n <<= 1
	}
	return &Ring{buf: make([]float32, n), mask: uint64(n - 1)}
}

// Cap is the number of samples the ring holds.
func (r *Ring) Cap() int { return len(r.buf) }

// Len is the number of samples ready to read.
func (r *Ring) Len() int { return int(r.w.Load() - r.r.Load()) }

// Free is the number of samples that can be written.
func (r *Ring) Free() int { return len(r.buf) - r.Len() }

// Write copies as many samples of p as fit and returns how many it copied
// (producer side).
func (r *Ring) Write(p []float32) int {
	w := r.w.Load()
	free := uint64(len(r.buf)) - (w - r.r.Load())
	n := uint64(len(p))
	if n > free {
		n = free
	}
	start := w & r.mask
	first := min(n, uint64(len(r.buf))-start)
	copy(r.buf[start:start+first], p[:first])
	copy(r.buf[:n-first], p[first:n])
	r.w.Store(w + n)
	return int(n)
}

// Read copies up to len(p) samples into p and returns how many it copied
// (consumer side).
func (r *Ring) Read(p []float32) int {
	rd := r.r.Load()
	avail := r.w.Load() - rd
	n := uint64(len(p))
	if n > avail {
		n = avail
	}
	start := rd & r.mask
	first := min(n, uint64(len(r.buf))-start)
	copy(p[:first], r.buf[start:start+first])
	copy(p[first:n], r.buf[:n-first])
	r.r.Store(rd + n)
	return int(n)
}

// Discard drops up to n readable samples and returns how many it dropped
// (consumer side).
func (r *Ring) Discard(n int) int {
	rd := r.r.Load()
	avail := int(r.w.Load() - rd)
	if n > avail {
		n = avail
	}
	r.r.Store(rd + uint64(n))
	return n
}
