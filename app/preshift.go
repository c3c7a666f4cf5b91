package app

import (
	"context"
	"time"

	"github.com/callcentre/softphone/audio"
	"github.com/callcentre/softphone/sip/demopbx"
)

// The pre-shift check the desk offers from its settings (and, when the
// agent asks for it, after sign-in): the microphone's level, a test tone in
// the headset measured back through the microphone (audio.Engine.Check),
// and an echo test call.

// PreShiftCheck runs the audio engine's pre-shift check for d (at least a
// second): the chosen microphone and headset are opened, a 1 kHz test tone
// plays in the headset and the microphone is measured. It blocks; call it
// off the UI goroutine. Without audio it returns AudioErr (wrapping
// ErrAudioOff).
func (a *App) PreShiftCheck(ctx context.Context, d time.Duration) (audio.CheckResult, error) {
	if a.Audio == nil {
		return audio.CheckResult{}, a.AudioErr
	}
	return a.Audio.Check(ctx, d)
}

// MicLevel is the microphone's peak level (0..1) since the last call, for
// the check's meter; 0 without audio or while the microphone is closed
// (the engine opens it for a call or a check).
func (a *App) MicLevel() float64 {
	if a.Audio == nil {
		return 0
	}
	return float64(a.Audio.Levels().Microphone)
}

// EchoTestNumber is the number of the PBX's echo test for the check's echo
// call: the demo PBX's, else Config.EchoTestNumber ("" when the PBX has
// none configured).
func (a *App) EchoTestNumber() string {
	if a.PBX != nil {
		return demopbx.ExtEcho
	}
	return a.echoNumber
}
