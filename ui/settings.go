package ui

import (
	"context"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
)

// meterRate is how often the level meters are sampled (10 Hz).
const meterRate = 100 * time.Millisecond

func (d *Desk) loadSettings() {
	st, as := d.settings, d.autostart
	if st == nil && as == nil {
		return
	}
	d.background(func(context.Context) {
		s, err := DefaultSettings(), error(nil)
		if st != nil {
			s, err = st.LoadSettings()
		}
		var asErr error
		if as != nil && err == nil {
			// The OS entry is the truth: the user may have removed it.
			s.StartAtLogin, asErr = as.Enabled()
		}
		d.do(func() {
			if err != nil {
				d.toast(domain.NoticeError, d.T("Settings could not be loaded: %s", err.Error()))
				return
			}
			if asErr != nil {
				d.toast(domain.NoticeError, d.T("Start at login could not be read: %s", asErr.Error()))
			}
			d.set = s
		})
	})
}

// mergeSettings folds the agent's own settings into the configuration from
// provisioning: provisioned outcomes win (they are the CRM's picklist), the
// agent's quick notes are added after the provisioned ones, and the agent's
// screen-pop choice and default call subject apply.
func (d *Desk) mergeSettings(cfg domain.Config) domain.Config {
	s := d.set
	if s.DefaultSubject != "" {
		cfg.CallSubject = s.DefaultSubject
	}
	if len(cfg.Outcomes) == 0 && len(s.Outcomes) > 0 {
		cfg.Outcomes = slices.Clone(s.Outcomes)
	}
	for _, q := range s.QuickNotes {
		if !slices.ContainsFunc(cfg.QuickNotes, func(x domain.QuickNote) bool { return x.Name == q.Name }) {
			cfg.QuickNotes = append(cfg.QuickNotes, q)
		}
	}
	if s.ScreenPop != domain.ScreenPopUnknown {
		cfg.ScreenPop = s.ScreenPop
	}
	return cfg
}

func (d *Desk) chooseStatus(s domain.Status) {
	if s.Presence == domain.PresenceOffline {
		d.report(d.core.Logout())
		return
	}
	d.report(d.core.SetStatus(s))
}

// Bind attaches the desk to its window: keyboard shortcuts, typed digits
// when nothing is focused, dialogs, and focus handling.
func (d *Desk) Bind(w fyne.Window) {
	d.win = w
	d.canvas = w.Canvas()
	d.installShortcuts(d.canvas)
	d.focusDefault()
}

// showSync lists the call logs the CRM did not accept, with Resend.
func (d *Desk) showSync() {
	src := d.sync
	if src == nil || d.canvas == nil {
		return
	}
	d.background(func(context.Context) {
		failed, err := src.Failed()
		d.do(func() {
			if err != nil {
				d.toast(domain.NoticeError, d.T("The CRM sync state could not be read: %s", err.Error()))
				return
			}
			d.showFailed(failed)
		})
	})
}

func (d *Desk) showFailed(failed []FailedLog) {
	rows := container.NewVBox()
	if st := d.sync.SyncState(); st.SignInNeeded {
		if si, ok := d.sync.(CRMSignIn); ok {
			rows.Add(d.crmSignInButton(si, st.CRM))
		}
		if ds, ok := d.sync.(CRMDeviceSignIn); ok && ds.DeviceCodeOffered() {
			rows.Add(d.crmDeviceButton(ds, st.CRM))
		}
	}
	if len(failed) == 0 {
		rows.Add(widget.NewLabel(d.T("Every call log reached the CRM")))
	}
	for _, f := range failed {
		key := f.Key
		var resend *widget.Button
		resend = widget.NewButton(d.T("Resend"), func() {
			resend.Disable()
			d.background(func(context.Context) {
				err := d.sync.Resend(key)
				d.do(func() {
					if err != nil {
						resend.Enable()
						d.toast(domain.NoticeError, d.T("Resend failed: %s", err.Error()))
						return
					}
					d.toast(domain.NoticeInfo, d.T("The call log is queued for the CRM again"))
				})
			})
		})
		text := widget.NewLabel(f.Who + " · " + f.At.Local().Format("02.01. 15:04") + "\n" + f.Error)
		text.Wrapping = fyne.TextWrapWord
		rows.Add(container.NewBorder(nil, nil, nil, resend, text))
	}
	d.confirm(d.T("CRM sync: call logs the CRM has not accepted"), container.NewVScroll(rows), widget.NewButton(d.T("Close"), nil))
}

// crmDeviceButton runs the external CRM's device code sign-in: the code
// and where to enter it appear under the button until the agent has
// entered it on another device.
func (d *Desk) crmDeviceButton(ds CRMDeviceSignIn, name string) fyne.CanvasObject {
	code := widget.NewLabel("")
	code.Wrapping = fyne.TextWrapWord
	code.TextStyle = fyne.TextStyle{Bold: true}
	code.Hide()
	var b *widget.Button
	b = widget.NewButton(d.T("Sign in to %s with a code", name), func() {
		b.Disable()
		d.background(func(ctx context.Context) {
			err := ds.SignInCRMDeviceCode(ctx, func(dc DeviceCode) {
				d.do(func() {
					code.SetText(d.T("On your phone or any computer, open %s and enter the code %s", dc.URL, dc.Code))
					code.Show()
				})
			})
			d.do(func() {
				b.Enable()
				code.Hide()
				if err != nil {
					d.toast(domain.NoticeError, d.T("%s sign-in failed: %s", name, err.Error()))
					return
				}
				b.Hide()
				d.toast(domain.NoticeInfo, d.T("Signed in to %s", name))
				d.SyncChanged(nil)
			})
		})
	})
	return container.NewVBox(b, code)
}

// crmSignInButton runs the external CRM's sign-in in the browser; the
// header shows the result through the next sync state.
func (d *Desk) crmSignInButton(si CRMSignIn, name string) *widget.Button {
	var b *widget.Button
	b = widget.NewButtonWithIcon(d.T("Sign in to %s", name), theme.LoginIcon(), func() {
		b.Disable()
		b.SetText(d.T("Finish the sign-in in your browser…"))
		d.background(func(ctx context.Context) {
			err := si.SignInCRM(ctx)
			d.do(func() {
				b.Enable()
				b.SetText(d.T("Sign in to %s", name))
				if err != nil {
					d.toast(domain.NoticeError, d.T("%s sign-in failed: %s", name, err.Error()))
					return
				}
				b.Hide()
				d.toast(domain.NoticeInfo, d.T("Signed in to %s", name))
				d.SyncChanged(nil)
			})
		})
	})
	b.Importance = widget.HighImportance
	return b
}

// SettingsPanel is the settings screen.
type SettingsPanel struct {
	d       *Desk
	content fyne.CanvasObject

	mic, speaker, ringer *widget.Select
	micLevel, spkLevel   *widget.ProgressBar
	testSpeaker          *widget.Button
	testRinger           *widget.Button
	echo, noise, gain    *widget.Check
	screenPop            *widget.RadioGroup
	autoSave             *widget.Check
	subject              *widget.Entry
	quickNotes           *widget.Entry
	outcomes             *widget.Entry
	tooltips             *widget.Check
	editBefore           *widget.Check
	confirmLinks         *widget.Check
	startAtLogin         *widget.Check
	preShift             *widget.Button
	preShiftAtSignIn     *widget.Check
	whenNote             *widget.Label // which settings wait for the next sign-in
	language             *widget.Select
	verbose              *widget.Check
	export               *widget.Button
	save                 *widget.Button
	message              *widget.Label

	devices []AudioDevice
	stop    chan struct{}
}

var popLabels = map[domain.ScreenPopPolicy]string{
	domain.ScreenPopAtRinging: "When it rings",
	domain.ScreenPopAtAnswer:  "When I answer",
	domain.ScreenPopNever:     "Never",
}

var languageNames = map[string]string{"": "System language", "en": "English", "de": "Deutsch"}

func newSettingsPanel(d *Desk) *SettingsPanel {
	p := &SettingsPanel{d: d}
	p.mic = widget.NewSelect(nil, nil)
	p.speaker = widget.NewSelect(nil, nil)
	p.ringer = widget.NewSelect(nil, nil)
	p.micLevel = widget.NewProgressBar()
	p.micLevel.TextFormatter = func() string { return d.T("Microphone level") }
	p.spkLevel = widget.NewProgressBar()
	p.spkLevel.TextFormatter = func() string { return d.T("Headset level") }
	p.testSpeaker = widget.NewButton(d.T("Test headset"), func() { p.test(p.speaker.Selected, false) })
	p.testRinger = widget.NewButton(d.T("Test ringer"), func() { p.test(p.ringer.Selected, true) })
	p.echo = widget.NewCheck(d.T("Echo cancellation"), nil)
	p.noise = widget.NewCheck(d.T("Noise suppression"), nil)
	p.gain = widget.NewCheck(d.T("Automatic gain"), nil)
	pops := []string{d.T(popLabels[domain.ScreenPopAtRinging]), d.T(popLabels[domain.ScreenPopAtAnswer]), d.T(popLabels[domain.ScreenPopNever])}
	p.screenPop = widget.NewRadioGroup(pops, nil)
	p.screenPop.Horizontal = true
	p.autoSave = widget.NewCheck(d.T("Save notes automatically"), nil)
	p.subject = widget.NewEntry()
	p.subject.SetPlaceHolder(d.T("Default call subject"))
	p.quickNotes = widget.NewMultiLineEntry()
	p.quickNotes.SetPlaceHolder(d.T("One quick note per line: name = text"))
	p.outcomes = widget.NewMultiLineEntry()
	p.outcomes.SetPlaceHolder(d.T("One outcome per line"))
	p.tooltips = widget.NewCheck(d.T("Show tooltips"), nil)
	p.editBefore = widget.NewCheck(d.T("Edit numbers before dialling"), nil)
	p.confirmLinks = widget.NewCheck(d.T("Ask before a clicked link dials"), nil)
	p.startAtLogin = widget.NewCheck(d.T("Start when I log in to this computer"), nil)
	if d.autostart == nil {
		p.startAtLogin.Hide()
	}
	p.preShift = widget.NewButtonWithIcon(d.T("Pre-shift check…"), theme.MediaPlayIcon(), d.ShowPreShift)
	p.preShiftAtSignIn = widget.NewCheck(d.T("Open the pre-shift check after I sign in"), nil)
	if d.preShift == nil {
		p.preShift.Disable()
		p.preShiftAtSignIn.Hide()
	}
	langs := []string{d.T(languageNames[""]), languageNames["en"], languageNames["de"]}
	p.language = widget.NewSelect(langs, nil)
	p.verbose = widget.NewCheck(d.T("Verbose logs"), nil)
	p.export = widget.NewButton(d.T("Export diagnostics"), p.exportDiagnostics)
	p.save = widget.NewButton(d.T("Save"), p.saveSettings)
	p.save.Importance = widget.HighImportance
	p.message = widget.NewLabel("")
	p.message.Wrapping = fyne.TextWrapWord

	whenCalls := widget.NewLabel(d.T("These settings apply when you save, also during a call; a call keeps the outcome and notes it already has."))
	p.whenNote = whenCalls
	whenCalls.Wrapping = fyne.TextWrapWord
	whenCalls.SizeName = theme.SizeNameCaptionText
	whenAudio := widget.NewLabel(d.T("Devices and sound processing apply when you save, also during a call."))
	whenAudio.Wrapping = fyne.TextWrapWord
	whenAudio.SizeName = theme.SizeNameCaptionText
	whenLang := widget.NewLabel(d.T("The language applies when the app restarts."))
	whenLang.Wrapping = fyne.TextWrapWord
	whenLang.SizeName = theme.SizeNameCaptionText
	audio := widget.NewForm(
		widget.NewFormItem("", whenAudio),
		widget.NewFormItem(d.T("Microphone"), container.NewVBox(p.mic, p.micLevel)),
		widget.NewFormItem(d.T("Headset"), container.NewVBox(p.speaker, p.spkLevel, p.testSpeaker)),
		widget.NewFormItem(d.T("Ringer"), container.NewVBox(p.ringer, p.testRinger)),
		widget.NewFormItem("", container.NewVBox(p.echo, p.noise, p.gain)),
		widget.NewFormItem(d.T("Check"), container.NewVBox(p.preShift, p.preShiftAtSignIn)),
	)
	calls := widget.NewForm(
		widget.NewFormItem("", whenCalls),
		widget.NewFormItem(d.T("Screen pop"), p.screenPop),
		widget.NewFormItem("", p.autoSave),
		widget.NewFormItem(d.T("Call subject"), p.subject),
		widget.NewFormItem(d.T("Quick notes"), p.quickNotes),
		widget.NewFormItem(d.T("Outcomes"), p.outcomes),
		widget.NewFormItem("", p.editBefore),
		widget.NewFormItem("", p.confirmLinks),
		widget.NewFormItem("", p.startAtLogin),
	)
	general := widget.NewForm(
		widget.NewFormItem(d.T("Language"), container.NewVBox(p.language, whenLang)),
		widget.NewFormItem("", p.tooltips),
		widget.NewFormItem(d.T("Diagnostics"), container.NewVBox(p.verbose, p.export)),
	)
	tabs := container.NewAppTabs(
		container.NewTabItem(d.T("Audio"), container.NewVScroll(audio)),
		container.NewTabItem(d.T("Calls"), container.NewVScroll(calls)),
		container.NewTabItem(d.T("General"), container.NewVScroll(general)),
	)
	p.content = container.NewBorder(nil, container.NewVBox(p.message, p.save), nil, nil, tabs)
	p.fill(d.set)
	return p
}

// Content is the panel's root object.
func (p *SettingsPanel) Content() fyne.CanvasObject { return p.content }

func (p *SettingsPanel) fill(s Settings) {
	p.echo.SetChecked(s.EchoCancel)
	p.noise.SetChecked(s.NoiseSuppression)
	p.gain.SetChecked(s.AutoGain)
	if l, ok := popLabels[s.ScreenPop]; ok {
		p.screenPop.SetSelected(p.d.T(l))
	}
	p.autoSave.SetChecked(s.AutoSaveNotes)
	p.subject.SetText(s.DefaultSubject)
	lines := make([]string, len(s.QuickNotes))
	for i, q := range s.QuickNotes {
		lines[i] = q.Name + " = " + q.Text
	}
	p.quickNotes.SetText(strings.Join(lines, "\n"))
	p.outcomes.SetText(strings.Join(s.Outcomes, "\n"))
	p.tooltips.SetChecked(s.Tooltips)
	p.editBefore.SetChecked(s.EditBeforeDial)
	p.confirmLinks.SetChecked(s.ConfirmLinks)
	p.startAtLogin.SetChecked(s.StartAtLogin)
	p.preShiftAtSignIn.SetChecked(s.PreShiftAtSignIn)
	name := languageNames[s.Language]
	if s.Language == "" {
		name = p.d.T(name)
	}
	p.language.SetSelected(name)
	p.verbose.SetChecked(s.VerboseLogs)
}

// read builds Settings from the form; it fails on a malformed quick note.
func (p *SettingsPanel) read() (Settings, error) {
	s := p.d.set
	s.EchoCancel, s.NoiseSuppression, s.AutoGain = p.echo.Checked, p.noise.Checked, p.gain.Checked
	for pol, l := range popLabels {
		if p.d.T(l) == p.screenPop.Selected {
			s.ScreenPop = pol
		}
	}
	s.AutoSaveNotes = p.autoSave.Checked
	s.DefaultSubject = strings.TrimSpace(p.subject.Text)
	s.QuickNotes = nil
	for i, line := range strings.Split(p.quickNotes.Text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		name, text, ok := strings.Cut(line, "=")
		name, text = strings.TrimSpace(name), strings.TrimSpace(text)
		if !ok || name == "" || text == "" {
			return s, &settingsError{msg: p.d.T("Quick note on line %d needs the form: name = text", i+1)}
		}
		s.QuickNotes = append(s.QuickNotes, domain.QuickNote{Name: name, Text: text})
	}
	s.Outcomes = nil
	for _, line := range strings.Split(p.outcomes.Text, "\n") {
		if line = strings.TrimSpace(line); line != "" && !slices.Contains(s.Outcomes, line) {
			s.Outcomes = append(s.Outcomes, line)
		}
	}
	s.Tooltips, s.EditBeforeDial, s.VerboseLogs = p.tooltips.Checked, p.editBefore.Checked, p.verbose.Checked
	s.ConfirmLinks = p.confirmLinks.Checked
	if p.d.preShift != nil {
		s.PreShiftAtSignIn = p.preShiftAtSignIn.Checked
	}
	if p.d.autostart != nil {
		s.StartAtLogin = p.startAtLogin.Checked
	}
	s.Language = ""
	for code, name := range languageNames {
		if code != "" && name == p.language.Selected {
			s.Language = code
		}
	}
	s.Microphone = p.deviceID(p.mic.Selected, s.Microphone)
	s.Speaker = p.deviceID(p.speaker.Selected, s.Speaker)
	s.Ringer = p.deviceID(p.ringer.Selected, s.Ringer)
	return s, nil
}

type settingsError struct{ msg string }

func (e *settingsError) Error() string { return e.msg }

func (p *SettingsPanel) deviceID(name, old string) string {
	for _, dv := range p.devices {
		if dv.Name == name {
			return dv.ID
		}
	}
	return old
}

func (p *SettingsPanel) deviceName(id string) string {
	for _, dv := range p.devices {
		if dv.ID == id {
			return dv.Name
		}
	}
	return ""
}

func (p *SettingsPanel) saveSettings() {
	s, err := p.read()
	if err != nil {
		p.say(err.Error(), true)
		return
	}
	st, as := p.d.settings, p.d.autostart
	changeAutostart := as != nil && s.StartAtLogin != p.d.set.StartAtLogin
	if st == nil && !changeAutostart {
		p.d.set = s
		p.say(p.d.T("Settings apply until you close the app (they cannot be stored here)"), false)
		return
	}
	p.save.Disable()
	p.d.background(func(context.Context) {
		var asErr, err error
		if changeAutostart {
			asErr = as.SetEnabled(s.StartAtLogin)
		}
		if asErr == nil && st != nil {
			err = st.SaveSettings(s)
		}
		p.d.do(func() {
			p.save.Enable()
			if asErr != nil {
				p.say(p.d.T("Start at login could not be changed: %s", asErr.Error()), true)
				return
			}
			if err != nil {
				p.say(p.d.T("Settings could not be saved: %s", err.Error()), true)
				return
			}
			old := p.d.set
			langChanged := s.Language != old.Language
			p.d.set = s
			msg := p.d.T("Saved")
			if coreChanged(old, s) {
				p.d.reconfigure()
			}
			if langChanged {
				msg += ". " + p.d.T("The language changes when the app restarts")
			}
			p.say(msg, false)
		})
	})
}

// coreChanged reports whether a change reaches the phone core's
// configuration (outcomes, quick notes, screen pop, call subject).
func coreChanged(old, s Settings) bool {
	return !slices.Equal(old.Outcomes, s.Outcomes) || !slices.Equal(old.QuickNotes, s.QuickNotes) ||
		old.ScreenPop != s.ScreenPop || old.DefaultSubject != s.DefaultSubject
}

// reconfigure hands the core the agent's settings folded into the
// configuration they signed in with (Core.Reconfigure): they apply at
// once, also during a call; a call in progress keeps the outcome and
// notes it already has. Signed out, the next sign-in takes them.
func (d *Desk) reconfigure() {
	if !d.vm.SignedIn() {
		return
	}
	base := d.signInCfg
	if base.MaxLines == 0 { // signed in elsewhere (control API, -agent): the desk's own
		base = d.cfg
	}
	c := d.mergeSettings(base.Clone())
	d.report(d.core.Reconfigure(domain.Reconfigure{Outcomes: c.Outcomes, QuickNotes: c.QuickNotes, ScreenPop: c.ScreenPop, CallSubject: c.CallSubject}))
}

func (p *SettingsPanel) say(s string, bad bool) {
	p.message.Importance = widget.MediumImportance
	if bad {
		p.message.Importance = widget.DangerImportance
	}
	p.message.SetText(s)
}

// test plays the test tone (ring: the ringtone) on the device chosen by
// name, saved or not.
func (p *SettingsPanel) test(name string, ring bool) {
	a := p.d.audio
	if a == nil {
		p.say(p.d.T("Audio devices are not available"), true)
		return
	}
	id := p.deviceID(name, "")
	if id == "" {
		p.say(p.d.T("Choose a device first"), true)
		return
	}
	p.d.background(func(context.Context) {
		play := a.Test
		if ring {
			play = a.TestRinger
		}
		err := play(id)
		p.d.do(func() {
			if err != nil {
				p.say(p.d.T("The test sound could not be played: %s", err.Error()), true)
				return
			}
			if ring {
				p.say(p.d.T("Playing the ringtone on %s", name), false)
				return
			}
			p.say(p.d.T("Playing a test sound on %s", name), false)
		})
	})
}

func (p *SettingsPanel) exportDiagnostics() {
	x := p.d.diag
	if x == nil {
		p.say(p.d.T("Diagnostics export is not available"), true)
		return
	}
	p.export.Disable()
	p.d.background(func(context.Context) {
		path, err := x.ExportDiagnostics()
		p.d.do(func() {
			p.export.Enable()
			if err != nil {
				p.say(p.d.T("The diagnostics could not be exported: %s", err.Error()), true)
				return
			}
			p.say(p.d.T("Diagnostics saved to %s (passwords and tokens removed)", path), false)
		})
	})
}

// loadDevices fills the device lists (off the UI goroutine).
func (p *SettingsPanel) loadDevices() {
	a := p.d.audio
	if a == nil {
		for _, s := range []*widget.Select{p.mic, p.speaker, p.ringer} {
			s.PlaceHolder = p.d.T("Audio devices are not available")
			s.Disable()
		}
		p.testSpeaker.Disable()
		p.testRinger.Disable()
		return
	}
	p.d.background(func(context.Context) {
		devs, err := a.Devices()
		p.d.do(func() {
			if err != nil {
				p.say(p.d.T("Audio devices could not be listed: %s", err.Error()), true)
				return
			}
			p.devices = devs
			var ins, outs []string
			for _, dv := range devs {
				if dv.Input {
					ins = append(ins, dv.Name)
				}
				if dv.Output {
					outs = append(outs, dv.Name)
				}
			}
			p.mic.SetOptions(ins)
			p.speaker.SetOptions(outs)
			p.ringer.SetOptions(outs)
			p.mic.SetSelected(p.deviceName(p.d.set.Microphone))
			p.speaker.SetSelected(p.deviceName(p.d.set.Speaker))
			p.ringer.SetSelected(p.deviceName(p.d.set.Ringer))
		})
	})
}

// startMeters samples the selected devices' levels at 10 Hz until stop.
func (p *SettingsPanel) startMeters() {
	a := p.d.audio
	if a == nil || p.stop != nil {
		return
	}
	p.stop = make(chan struct{})
	stop := p.stop
	mic, spk := p.deviceID(p.mic.Selected, p.d.set.Microphone), p.deviceID(p.speaker.Selected, p.d.set.Speaker)
	p.mic.OnChanged = func(string) { p.stopMeters(); p.startMeters() }
	p.speaker.OnChanged = p.mic.OnChanged
	p.d.loop(func(ctx context.Context) {
		t := time.NewTicker(meterRate)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-stop:
				return
			case <-t.C:
				m, s := a.Level(mic, true), a.Level(spk, false)
				p.d.do(func() { p.setLevels(m, s) })
			}
		}
	})
}

// SampleLevels reads the meters once (tests; the window samples at 10 Hz).
func (p *SettingsPanel) SampleLevels() {
	if a := p.d.audio; a != nil {
		p.setLevels(a.Level(p.deviceID(p.mic.Selected, ""), true), a.Level(p.deviceID(p.speaker.Selected, ""), false))
	}
}

func (p *SettingsPanel) setLevels(mic, spk float64) {
	p.micLevel.SetValue(min(max(mic, 0), 1))
	p.spkLevel.SetValue(min(max(spk, 0), 1))
}

func (p *SettingsPanel) stopMeters() {
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
}

// ShowSettings opens the settings window (or brings it to the front).
func (d *Desk) ShowSettings() {
	if d.settingsWin != nil {
		d.settingsWin.Show()
		d.settingsWin.RequestFocus()
		return
	}
	p := newSettingsPanel(d)
	d.settingsView = p
	p.loadDevices()
	w := fyne.CurrentApp().NewWindow(d.T("Settings"))
	w.SetContent(p.Content())
	w.Resize(fyne.NewSize(520, 560))
	w.SetOnClosed(func() {
		p.stopMeters()
		d.settingsWin, d.settingsView = nil, nil
	})
	d.settingsWin = w
	w.Show()
	p.startMeters()
}

// Settings returns the settings window's panel while it is open.
func (d *Desk) Settings() *SettingsPanel { return d.settingsView }
