//go:build cgo && !noportaudio

package audio

import (
	"testing"

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
	want := map[string]bool{"default": false, "lab_headset": false, "lab_ringer": false, "lab_mic": false}
	for _, d := range devs {
		if _, ok := want[d.ID.Name]; ok && d.ID.HostAPI == "ALSA" {
			want[d.ID.Name] = true
		}
	}
	for n, ok := range want {
		if !ok {
			t.Errorf("ALSA device %q not listed (got %v)", n, devs)
		}
	}
}
