package urlevents

import (
	"errors"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestQueueKeepsOrderWithoutBlocking(t *testing.T) {
	release := make(chan struct{})
	got := make(chan string, 1000)
	q := newQueue(func(u string) {
		<-release // a slow consumer must not block push
		got <- u
	})
	var want []string
	for i := range 500 {
		u := "tel:" + strconv.Itoa(i)
		want = append(want, u)
		q.push(u)
	}
	close(release)
	var seen []string
	deadline := time.After(30 * time.Second)
	for len(seen) < len(want) {
		select {
		case u := <-got:
			seen = append(seen, u)
		case <-deadline:
			t.Fatalf("got %d of %d links", len(seen), len(want))
		}
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("order lost: %v", seen[:10])
	}
}

func TestStartOutsideMacOS(t *testing.T) {
	if runtime.GOOS == "darwin" {
		t.Skip("on macOS Start installs the real handler; checked on the Mac job")
	}
	if err := Start(func(string) {}); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("err = %v", err)
	}
	if err := Start(nil); err == nil {
		t.Fatal("a nil handler must be refused")
	}
}
