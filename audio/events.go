package audio

import "sync"

// Role is what a device is used for.
type Role uint8

// Role values.
const (
	RoleUnknown    Role = 0
	RoleMicrophone Role = 1
	RoleSpeaker    Role = 2
	RoleRinger     Role = 3
)

// String names the role.
func (r Role) String() string {
	switch r {
	case RoleMicrophone:
		return "microphone"
	case RoleSpeaker:
		return "speaker"
	case RoleRinger:
		return "ringer"
	}
	return "unknown"
}

// Event is something the engine tells the app about devices and levels.
// Events are delivered in order, never dropped, on one goroutine of the
// engine's (never the caller's, never the audio thread): the handler
// given with WithEventHandler must return quickly (hand off to the UI with
// fyne.Do, for example).
type Event interface{ isEvent() }

// DeviceFallback says a chosen device could not be opened (it is unplugged,
// or busy) and the system default is used instead. The choice is kept: the
// device is tried again at the next open and after a refresh.
type DeviceFallback struct {
	Role   Role
	Wanted DeviceID
	Using  DeviceID
	Reason string
}

// DeviceLost says a device stopped working in the middle of a stream (it
// vanished, or its sound server died). The engine reopens the streams on
// the chosen device, or on the default (reporting DeviceFallback).
type DeviceLost struct {
	Role   Role
	Device DeviceID
	Reason string
}

// DeviceUnavailable says no device at all could be opened for a role; the
// engine keeps the calls' audio flowing (silence) and retries every few
// seconds.
type DeviceUnavailable struct {
	Role   Role
	Reason string
}

// DeviceOpened says which device a role is using now.
type DeviceOpened struct {
	Role   Role
	Device DeviceID
}

// DevicesChanged carries the device list after a scan.
type DevicesChanged struct{ Devices []Device }

// LevelsChanged carries the meters, sampled at 15 Hz while a stream is open.
type LevelsChanged struct{ Levels Levels }

// RecordingSaved says a recording file was completed.
type RecordingSaved struct {
	Key  string
	Path string
}

func (DeviceFallback) isEvent()    {}
func (DeviceLost) isEvent()        {}
func (DeviceUnavailable) isEvent() {}
func (DeviceOpened) isEvent()      {}
func (DevicesChanged) isEvent()    {}
func (LevelsChanged) isEvent()     {}
func (RecordingSaved) isEvent()    {}

// notifier runs functions in order on its own goroutine, with an unbounded
// queue, so the engine's loop never waits for the app or the agent's inbox.
type notifier struct {
	mu    sync.Mutex
	q     []func()
	wake  chan struct{}
	quit  chan struct{}
	done  chan struct{}
	close sync.Once
}

func newNotifier() *notifier {
	n := &notifier{wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go n.run()
	return n
}

func (n *notifier) push(f func()) {
	n.mu.Lock()
	n.q = append(n.q, f)
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

func (n *notifier) run() {
	defer close(n.done)
	for {
		n.mu.Lock()
		q := n.q
		n.q = nil
		n.mu.Unlock()
		for _, f := range q {
			f()
		}
		if len(q) > 0 {
			continue
		}
		select {
		case <-n.wake:
		case <-n.quit:
			n.mu.Lock()
			q := n.q
			n.q = nil
			n.mu.Unlock()
			for _, f := range q {
				f()
			}
			return
		}
	}
}

// stop delivers what is queued and stops.
func (n *notifier) stop() {
	n.close.Do(func() { close(n.quit) })
	<-n.done
}
