// Package audio is the media adapter: the only package that imports
// PortAudio (cgo). It implements domain.Media (ringer, ringback, routing the
// calls' PCM to the headset, mute, recording, announcements) with lock-free
// ring buffers between the PortAudio callbacks and Go; the callback never
// allocates, locks, logs or blocks.
//
// Status: the pipeline is built in the audio engine issue; until then this
// file pins github.com/gordonklaus/portaudio so every build compiles it.
//
// It must not import agent (only agent/domain), ui, sip, store or crm.
package audio

import _ "github.com/gordonklaus/portaudio" // pinned in go.mod
