package audio

// processor cleans the microphone: echo cancellation against the speaker
// signal, noise suppression and automatic gain control, in place, on 20 ms
// frames at the mix rate.
type processor interface {
	Process(mic, ref []float32)
	Close()
}

func (e *Engine) newProc() processor {
	s := e.settings
	if !s.EchoCancel && !s.NoiseSuppress && !s.AutoGain {
		return nil
	}
	p, err := newSpeex(mixRate, mixFrame, s.EchoCancel, s.NoiseSuppress, s.AutoGain)
	if err != nil {
		e.log.Warn("audio processing unavailable", "err", err)
		return nil
	}
	return p
}
