//go:build cgo && !noportaudio

// Thin C shim between PortAudio and Go: the stream callback hands the
// buffers to the exported Go function with an integer handle, so no Go
// pointer crosses into C.
#include <stdint.h>
#include <portaudio.h>
#include "_cgo_export.h"

static int sp_callback(const void *in, void *out, unsigned long frames,
		const PaStreamCallbackTimeInfo *ti, PaStreamCallbackFlags flags, void *user) {
	(void)ti; (void)flags;
	spGoCallback((uintptr_t)user, (float *)in, (float *)out, frames);
	return paContinue;
}

PaError sp_open_stream(PaStream **s, int dev, int input, double rate,
		unsigned long fpb, double latency, uintptr_t handle) {
	PaStreamParameters p;
	p.device = dev;
	p.channelCount = 1;
	p.sampleFormat = paFloat32;
	p.suggestedLatency = latency;
	p.hostApiSpecificStreamInfo = NULL;
	return Pa_OpenStream(s, input ? &p : NULL, input ? NULL : &p, rate, fpb,
		paNoFlag, sp_callback, (void *)handle);
}
