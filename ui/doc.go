// Package ui is the agent desktop built with Fyne: sign-in, the header with
// the status menu, the idle screen (number entry, dial pad, search,
// favorites, recents), the incoming call, the active call (hold, mute,
// keypad, transfer, consultation, conference, recording, bookmarks,
// announcements, quality), the line switcher, wrap-up, toasts, settings,
// keyboard shortcuts and the tray menu.
//
// It is a client of the core: commands go to the agent through Core (they
// never block); state comes back as agent.Notify, is folded by
// ui/viewmodel, and is applied to widgets on the Fyne goroutine. Data the
// core does not hold comes through the small interfaces in sources.go
// (Library, Finder, Audio, PreShift, SettingsStore, Diagnostics, Accounts,
// Sync, Stats, Shell, ContactBook), which cmd/softphone implements over store,
// crm, audio and secrets. The local CRM's in-app screen pops arrive through
// ShowScreenPop (the contact card, or the new-contact form that saves
// through ContactBook), the outbox's changes through SyncChanged, and a
// clicked link's confirmation (the ConfirmLinks setting) is asked by
// ConfirmDial.
//
// It imports agent, agent/domain, assets, ui/viewmodel and Fyne; never sip,
// audio, crm, store or secrets, nor fyne.io/fyne/v2/app (cmd creates the
// app), so its tests run headless with Fyne's test driver.
//
// # Concurrency contract
//
// Widgets are touched only on the Fyne goroutine: in widget callbacks, or
// in functions handed to the dispatcher (fyne.Do by default; tests inject
// their own, which runs the functions on the test goroutine). Widget
// callbacks never block: calls into the source interfaces run on their own
// goroutines and hand their results back through the dispatcher. The
// watcher goroutine of agent.Watch only dispatches. ShowScreenPop and
// SyncChanged may be called from any goroutine and only dispatch;
// ConfirmDial blocks until the agent answers, so it is called only from
// other goroutines (never the UI goroutine). The 1 Hz ticker (call
// timers, wrap-up countdown, quality sampling) and the 10 Hz level meters
// of the settings and pre-shift check windows (only while they are open)
// are the only periodic updates.
package ui
