package audio

// processor cleans the microphone: echo cancellation against the speaker
// signal, noise suppression and automatic gain control, in place, on 20 ms
// frames at the mix rate.
type processor interface {
	Process(mic, ref []float32)
	Close()
}

func (e *Engine) newProc() processor { return e.newProcAt(mixRate) }

// newProcAt returns the processor for the settings at rate (mixRate, or
// narrowRate wrapped to take mix-rate frames); nil when every stage is off
// or speexdsp is unavailable.
func (e *Engine) newProcAt(rate int) processor {
	s := e.settings
	if !s.EchoCancel && !s.NoiseSuppress && !s.AutoGain {
		return nil
	}
	p, err := newSpeex(rate, rate/50, s.EchoCancel, s.NoiseSuppress, s.AutoGain)
	if err != nil {
		e.log.Warn("audio processing unavailable", "err", err)
		return nil
	}
	if rate == narrowRate {
		return newNarrowband(p)
	}
	return p
}

// procFor picks the processor for a frame whose headset calls are legs:
// the 8 kHz one when every one of them is narrowband (G.711), else the
// 16 kHz one (wideband calls, tones and checks without a call). Each keeps
// its own echo canceller state, so switching back and forth (a wideband
// call joining a conference) does not start either from scratch.
func (e *Engine) procFor(legs []*leg) processor {
	if e.proc == nil || len(legs) == 0 {
		return e.proc
	}
	for _, l := range legs {
		if l.ca.SampleRate != narrowRate {
			return e.proc
		}
	}
	if e.procNB == nil {
		e.procNB = e.newProcAt(narrowRate)
		if e.procNB == nil {
			return e.proc
		}
	}
	return e.procNB
}

// closeProc closes both processors (settings changed, or shutdown).
func (e *Engine) closeProc() {
	if e.proc != nil {
		e.proc.Close()
		e.proc = nil
	}
	if e.procNB != nil {
		e.procNB.Close()
		e.procNB = nil
	}
}
