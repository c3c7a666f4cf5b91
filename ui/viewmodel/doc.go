// Package viewmodel maps what the core publishes (agent.Notify, folded into
// an agent.Mirror) to what the agent desktop shows: which screen, the header
// (name, status dot, registration, CRM sync), the lines, the ringing call,
// the active call with its consultation or conference, the wrap-up form and
// the toasts, all as plain strings and flags in the chosen language.
//
// It owns no widgets and imports no Fyne, so every rule of the screens is
// tested here with plain Go tests. It imports agent, agent/domain, assets and
// the standard library only; never sip, audio, crm, store or secrets.
//
// # Concurrency contract
//
// A Model is not safe for concurrent use: the UI applies notifications and
// reads views on its own goroutine (inside fyne.Do). View is a pure function
// of the mirror, the latest call statistics and the time passed in.
package viewmodel
