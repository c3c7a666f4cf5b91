package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// loginScreen is the hot-desk sign-in: agent ID and password, or "Sign in
// with <CRM>"; "remember me" is off (and cannot be turned on) on a PC
// marked shared.
type loginScreen struct {
	d        *Desk
	content  fyne.CanvasObject
	agentID  *widget.Entry
	password *widget.Entry
	remember *widget.Check
	shared   *widget.Label
	signIn   *widget.Button
	sso      *widget.Button
	device   *widget.Button // "Sign in with a code" (device code)
	code     *widget.Label  // the code and where to enter it
	cancel   *widget.Button // stops waiting for the code
	message  *widget.Label
	busy     bool
	stop     context.CancelFunc
}

func newLoginScreen(d *Desk) *loginScreen {
	l := &loginScreen{d: d}
	title := widget.NewLabelWithStyle(d.T("Sign in to start your shift"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.agentID = widget.NewEntry()
	l.agentID.SetPlaceHolder(d.T("Agent ID"))
	l.agentID.OnSubmitted = func(string) { l.submit() }
	l.agentID.OnChanged = func(string) { d.typed() }
	l.password = widget.NewPasswordEntry()
	l.password.SetPlaceHolder(d.T("Password"))
	l.password.OnSubmitted = func(string) { l.submit() }
	l.remember = widget.NewCheck(d.T("Remember me on this PC"), nil)
	l.shared = widget.NewLabel(d.T("This is a shared PC: nothing is remembered after you sign out"))
	l.shared.Wrapping = fyne.TextWrapWord
	l.shared.Hide()
	l.signIn = widget.NewButtonWithIcon(d.T("Sign in"), theme.LoginIcon(), l.submit)
	l.signIn.Importance = widget.HighImportance
	l.sso = widget.NewButton("", l.submitSSO)
	l.sso.Hide()
	l.device = widget.NewButton(d.T("Sign in with a code (no browser on this PC)"), l.submitDevice)
	l.device.Hide()
	l.code = widget.NewLabel("")
	l.code.Wrapping = fyne.TextWrapWord
	l.code.TextStyle = fyne.TextStyle{Bold: true}
	l.code.Hide()
	l.cancel = widget.NewButton(d.T("Cancel"), func() {
		if l.stop != nil {
			l.stop()
		}
	})
	l.cancel.Hide()
	l.message = widget.NewLabel("")
	l.message.Wrapping = fyne.TextWrapWord
	l.message.Importance = widget.DangerImportance
	form := container.NewVBox(title, l.agentID, l.password, l.remember, l.shared, l.signIn, l.sso, l.device, l.code, l.cancel, l.message)
	l.content = container.NewPadded(form)
	if a := d.accounts; a != nil {
		if a.Shared() {
			l.remember.SetChecked(false)
			l.remember.Disable()
			l.shared.Show()
		}
		if name := a.SSO(); name != "" {
			l.sso.SetText(d.T("Sign in with %s", name))
			l.sso.Show()
		}
		if ds, ok := a.(DeviceSignIn); ok && ds.DeviceCodeOffered() {
			l.device.Show()
		}
		if p, ok := a.(PasswordPolicy); ok && !p.AgentPasswords() {
			l.password.Hide()
		}
	} else {
		l.password.Hide()
		l.remember.Hide()
	}
	return l
}

// prefill puts the remembered agent ID in (off the UI goroutine: it may
// read the store).
func (l *loginScreen) prefill() {
	a := l.d.accounts
	if a == nil || a.Shared() {
		return
	}
	l.d.background(func(context.Context) {
		id := a.Remembered()
		if id == "" {
			return
		}
		l.d.do(func() {
			if l.agentID.Text == "" {
				l.agentID.SetText(id)
				l.remember.SetChecked(true)
			}
		})
	})
}

func (l *loginScreen) submit() {
	if l.busy {
		return
	}
	id := strings.TrimSpace(l.agentID.Text)
	if id == "" {
		l.say(l.d.T("Enter your agent ID to sign in"))
		return
	}
	a := l.d.accounts
	if a == nil {
		l.say("")
		l.d.report(l.d.core.Login(domain.AgentInfo{ID: id}, l.d.cfg))
		return
	}
	password, remember := l.password.Text, l.remember.Checked && !a.Shared()
	l.setBusy(true)
	l.d.background(func(ctx context.Context) {
		who, cfg, err := a.SignIn(ctx, id, password, remember)
		l.d.do(func() { l.finish(who, cfg, err) })
	})
}

func (l *loginScreen) submitSSO() {
	a := l.d.accounts
	if l.busy || a == nil {
		return
	}
	l.setBusy(true)
	l.d.background(func(ctx context.Context) {
		who, cfg, err := a.SignInSSO(ctx)
		l.d.do(func() { l.finish(who, cfg, err) })
	})
}

// submitDevice runs the device code sign-in: the code and where to enter
// it are shown until the agent has entered it on another device (or
// cancels).
func (l *loginScreen) submitDevice() {
	ds, ok := l.d.accounts.(DeviceSignIn)
	if l.busy || !ok {
		return
	}
	l.setBusy(true)
	l.cancel.Show()
	l.d.background(func(ctx context.Context) {
		ctx, stop := context.WithCancel(ctx)
		defer stop()
		l.d.do(func() { l.stop = stop })
		who, cfg, err := ds.SignInDeviceCode(ctx, func(dc DeviceCode) {
			l.d.do(func() { l.showCode(dc) })
		})
		l.d.do(func() {
			l.stop = nil
			l.cancel.Hide()
			l.code.Hide()
			l.finish(who, cfg, err)
		})
	})
}

// showCode shows a device code and where to enter it.
func (l *loginScreen) showCode(dc DeviceCode) {
	if !l.busy {
		return // finished meanwhile
	}
	l.code.SetText(l.d.T("On your phone or any computer, open %s and enter the code %s", dc.URL, dc.Code))
	l.code.Show()
	l.message.Importance = widget.MediumImportance
	l.message.SetText(l.d.T("Waiting for you to enter the code…"))
}

func (l *loginScreen) finish(who domain.AgentInfo, cfg domain.Config, err error) {
	l.setBusy(false)
	l.password.SetText("")
	if err != nil {
		l.say(l.d.T("Sign-in failed: %s", err.Error()))
		return
	}
	l.say("")
	l.d.signInCfg = cfg
	st := l.d.settings
	if st == nil {
		l.d.report(l.d.core.Login(who, l.d.mergeSettings(cfg)))
		l.offerPreShift()
		return
	}
	// The agent's own settings (quick notes, outcomes, screen pop) are
	// folded in before the core signs them in.
	l.setBusy(true)
	l.d.background(func(context.Context) {
		s, err := st.LoadSettings()
		l.d.do(func() {
			l.setBusy(false)
			l.say("")
			if err != nil {
				l.d.toast(domain.NoticeError, l.d.T("Settings could not be loaded: %s", err.Error()))
			} else {
				l.d.set = s
			}
			l.d.report(l.d.core.Login(who, l.d.mergeSettings(cfg)))
			l.offerPreShift()
		})
	})
}

// offerPreShift opens the pre-shift check after a sign-in when the agent
// asked for it (their PreShiftAtSignIn setting).
func (l *loginScreen) offerPreShift() {
	if l.d.set.PreShiftAtSignIn && l.d.preShift != nil {
		l.d.ShowPreShift()
	}
}

func (l *loginScreen) setBusy(on bool) {
	l.busy = on
	for _, w := range []disableable{l.agentID, l.password, l.signIn, l.sso, l.device} {
		setEnabled(w, !on)
	}
	if on {
		l.say(l.d.T("Signing in…"))
		l.message.Importance = widget.MediumImportance
	}
}

func (l *loginScreen) say(s string) {
	l.message.Importance = widget.DangerImportance
	l.message.SetText(s)
}

func (l *loginScreen) render(v *viewmodel.View) {
	if v.Screen == viewmodel.ScreenLogin {
		return
	}
	if l.message.Text != "" && !l.busy {
		l.message.SetText("")
	}
}
