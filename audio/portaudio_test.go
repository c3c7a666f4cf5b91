//go:build cgo && !noportaudio

package audio

import (
	"context"
	"testing"
	"time"

	"github.com/callcentre/softphone/lab/pulse"
)

func TestPortAudioScanSeesLabDevices(t *testing.T) {
	srv := pulse.Start(t)
	srv.Setenv(t)
	pa, err := NewPortAudio()
	if err != nil {
		t.Fatal(err)
	}
	defer pa.Close()
	devs, err := pa.Scan()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		t.Logf("%+v", d)
	}
	_ = context.Background
	_ = time.Second
}
