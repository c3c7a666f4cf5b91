//go:build !cgo

package audio

func newSpeex(rate, frame int, aec, ns, agc bool) (processor, error) {
	return nil, ErrNotImplemented
}
