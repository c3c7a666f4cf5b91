package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
)

// windowShell implements Shell over a Fyne app and its main window.
type windowShell struct {
	app fyne.App
	win fyne.Window
}

// NewShell returns the Shell of a window: the title, attention on an
// incoming call (show, raise and focus the window, and send an OS
// notification) and the tray icon (when the app has a tray).
func NewShell(app fyne.App, win fyne.Window) Shell { return &windowShell{app: app, win: win} }

func (s *windowShell) SetTitle(title string) { s.win.SetTitle(title) }

// Attention raises the window and notifies. Fyne has no API to keep a
// window on top after it is shown (desktop.Window.RequestAlwaysOnTop
// applies before Show), so cmd requests it at start when configured; on
// Wayland the raise itself is up to the compositor.
func (s *windowShell) Attention(title, body string) {
	s.win.Show()
	s.win.RequestFocus()
	s.app.SendNotification(fyne.NewNotification(title, body))
}

// Notify shows an OS notification without raising the window (failures:
// a call that could not be placed, a CRM log that failed, the phone system
// lost), so an agent working in the CRM notices them.
func (s *windowShell) Notify(title, body string) {
	s.app.SendNotification(fyne.NewNotification(title, body))
}

func (s *windowShell) SetTrayIcon(res fyne.Resource) {
	if d, ok := s.app.(desktop.App); ok {
		d.SetSystemTrayIcon(res)
	}
}
