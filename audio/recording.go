package audio

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

type recording struct {
	key       string
	path      string
	calls     []domain.CallID
	w         *WAVWriter
	paused    bool
	lastFlush time.Time
}

func (r *recording) write(left, right []float32) error {
	if err := r.w.WriteStereo(left, right); err != nil {
		return err
	}
	if time.Since(r.lastFlush) > time.Second {
		r.lastFlush = time.Now()
		return r.w.Flush()
	}
	return nil
}

func safeName(key string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, key)
}

func (e *Engine) record(key string, calls []domain.CallID, action domain.RecordAction) {
	r := e.recs[key]
	switch action {
	case domain.RecordStart:
		if r != nil {
			r.calls, r.paused = calls, false
			return
		}
		dir := e.recordingsDir()
		if dir == "" {
			e.post(domain.RecordingFailed{Key: key, Reason: ErrNoRecordingsDir.Error()})
			return
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			e.post(domain.RecordingFailed{Key: key, Reason: fmt.Sprintf("cannot create the recordings folder: %v", err)})
			return
		}
		name := fmt.Sprintf("%s-%s.wav", time.Now().UTC().Format("20060102-150405"), safeName(key))
		path := filepath.Join(dir, name)
		w, err := CreateWAV(path, mixRate, 2)
		if err != nil {
			e.post(domain.RecordingFailed{Key: key, Reason: fmt.Sprintf("cannot create the recording file: %v", err)})
			return
		}
		e.recs[key] = &recording{key: key, path: path, calls: calls, w: w, lastFlush: time.Now()}
		e.post(domain.RecordingStarted{Key: key, Ref: path})
	case domain.RecordPause, domain.RecordResume:
		if r == nil {
			e.post(domain.RecordingFailed{Key: key, Reason: "not recording"})
			return
		}
		r.paused = action == domain.RecordPause
		if len(calls) > 0 {
			r.calls = calls
		}
	case domain.RecordStop:
		if r == nil {
			return // already stopped (or failed, which was reported)
		}
		delete(e.recs, key)
		e.finishRecording(r)
	}
}

func (e *Engine) finishRecording(r *recording) {
	if err := r.w.Close(); err != nil {
		e.post(domain.RecordingFailed{Key: r.key, Reason: fmt.Sprintf("cannot finish the recording file: %v", err)})
		return
	}
	e.emit(RecordingSaved{Key: r.key, Path: r.path})
}

func (e *Engine) failRecording(key string, r *recording, err error) {
	delete(e.recs, key)
	_ = r.w.Close()
	e.log.Error("recording failed", "key", key, "err", err)
	e.post(domain.RecordingFailed{Key: key, Reason: fmt.Sprintf("writing the recording failed: %v", err)})
}
