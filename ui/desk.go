// Package ui is the agent desktop built with Fyne. It is a client of the
// core: commands go to the agent (they never block), state comes back as
// agent.Notify and is applied on the Fyne goroutine through fyne.Do. It never
// imports sip, audio, crm, store or secrets, nor fyne.io/fyne/v2/app (cmd
// creates the app), so its tests run headless with Fyne's test driver.
//
// Status: this is the foundation desk (sign-in, status, dialling, the call
// list, answer / hang up, wrap-up and notices); the full agent desktop is
// built in the UI issue.
package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
)

// Core is the part of the agent's client API the desk uses; *agent.Agent
// implements it.
type Core interface {
	Watch(ctx context.Context, fn func(agent.Notify)) (stop func())
	Login(who domain.AgentInfo, cfg domain.Config) error
	Logout() error
	SetStatus(s domain.Status) error
	Dial(target string) (domain.CallID, error)
	Answer(id domain.CallID) error
	Reject(id domain.CallID, decline bool) error
	Hangup(id domain.CallID) error
	CompleteWrapUp(key string) error
}

// Desk is the main window's content.
type Desk struct {
	core Core
	cfg  domain.Config
	do   func(func()) // runs a function on the UI goroutine (fyne.Do)
	stop func()

	view     agent.Mirror
	updating bool // set while the desk changes widgets itself

	status   *widget.Label
	reg      *widget.Label
	notice   *widget.Label
	agentID  *widget.Entry
	signIn   *widget.Button
	signOut  *widget.Button
	presence *widget.Select
	number   *widget.Entry
	dial     *widget.Button
	calls    *fyne.Container
	content  fyne.CanvasObject
}

// Option configures a Desk.
type Option func(*Desk)

// WithDispatcher replaces fyne.Do (tests run updates on their own goroutine).
func WithDispatcher(do func(func())) Option { return func(d *Desk) { d.do = do } }

const (
	labelAvailable = "Available"
	labelDND       = "Do not disturb"
	labelOffline   = "Offline"
	breakPrefix    = "Break: "
)

// New builds the desk. cfg is the signed-in agent's configuration (from the
// profile and provisioning).
func New(core Core, cfg domain.Config, opts ...Option) *Desk {
	d := &Desk{core: core, cfg: cfg.Normalize(), do: fyne.Do}
	for _, o := range opts {
		o(d)
	}
	d.status = widget.NewLabel("Signed out")
	d.status.TextStyle.Bold = true
	d.reg = widget.NewLabel("")
	d.notice = widget.NewLabel("")
	d.notice.Wrapping = fyne.TextWrapWord

	d.agentID = widget.NewEntry()
	d.agentID.SetPlaceHolder("Agent ID")
	d.agentID.OnSubmitted = func(string) { d.doSignIn() }
	d.signIn = widget.NewButton("Sign in", d.doSignIn)
	d.signOut = widget.NewButton("Sign out", func() { d.report(d.core.Logout()) })

	options := []string{labelAvailable}
	for _, r := range d.cfg.BreakReasons {
		options = append(options, breakPrefix+r)
	}
	options = append(options, labelDND, labelOffline)
	d.presence = widget.NewSelect(options, d.choosePresence)
	d.presence.PlaceHolder = "Status"

	d.number = widget.NewEntry()
	d.number.SetPlaceHolder("Number or SIP address")
	d.number.OnSubmitted = func(string) { d.doDial() }
	d.dial = widget.NewButton("Call", d.doDial)
	d.calls = container.NewVBox()

	header := container.NewBorder(nil, nil, nil, container.NewHBox(d.presence, d.signOut), container.NewVBox(d.status, d.reg))
	login := container.NewBorder(nil, nil, nil, d.signIn, d.agentID)
	dialRow := container.NewBorder(nil, nil, nil, d.dial, d.number)
	d.content = container.NewVBox(header, widget.NewSeparator(), login, dialRow, d.calls, widget.NewSeparator(), d.notice)
	d.render()
	return d
}

// Content is the desk's root object.
func (d *Desk) Content() fyne.CanvasObject { return d.content }

// Start subscribes to the core; updates are applied through the dispatcher.
func (d *Desk) Start(ctx context.Context) {
	d.stop = d.core.Watch(ctx, func(n agent.Notify) {
		d.do(func() { d.apply(n) })
	})
}

// Stop unsubscribes.
func (d *Desk) Stop() {
	if d.stop != nil {
		d.stop()
	}
}

func (d *Desk) report(err error) {
	if err != nil {
		d.notice.SetText("The app is overloaded: " + err.Error())
	}
}

func (d *Desk) doSignIn() {
	id := strings.TrimSpace(d.agentID.Text)
	if id == "" {
		d.notice.SetText("Enter your agent ID to sign in")
		return
	}
	d.report(d.core.Login(domain.AgentInfo{ID: id}, d.cfg))
}

func (d *Desk) doDial() {
	if _, err := d.core.Dial(d.number.Text); err != nil {
		d.report(err)
		return
	}
	d.number.SetText("")
}

func (d *Desk) choosePresence(label string) {
	if d.updating || label == "" {
		return
	}
	var s domain.Status
	switch {
	case label == labelAvailable:
		s.Presence = domain.PresenceAvailable
	case label == labelDND:
		s.Presence = domain.PresenceDND
	case label == labelOffline:
		s.Presence = domain.PresenceOffline
	case strings.HasPrefix(label, breakPrefix):
		s = domain.Status{Presence: domain.PresenceBreak, Reason: strings.TrimPrefix(label, breakPrefix)}
	default:
		return
	}
	d.report(d.core.SetStatus(s))
}

// apply folds a notification into the view and redraws what it touches.
func (d *Desk) apply(n agent.Notify) {
	d.view.Apply(n)
	if len(n.Notices) > 0 {
		d.notice.SetText(n.Notices[len(n.Notices)-1].Message)
	}
	d.render()
}

func statusText(v *agent.AgentView) string {
	if v.Status == domain.StatusOffline || v.Status == domain.StatusUnknown {
		return "Signed out"
	}
	who := v.Agent.ID
	if v.Agent.Name != "" {
		who = v.Agent.Name + " (" + v.Agent.ID + ")"
	}
	s := fmt.Sprintf("%s: %s", who, v.Status)
	if v.Presence.Reason != "" && (v.Status == domain.StatusBreak || v.Status == domain.StatusAutoPaused) {
		s += " (" + v.Presence.Reason + ")"
	}
	if v.Next != nil {
		s += ", next: " + v.Next.Presence.String()
	}
	return s
}

func presenceLabel(p domain.Status) string {
	switch p.Presence {
	case domain.PresenceAvailable:
		return labelAvailable
	case domain.PresenceDND:
		return labelDND
	case domain.PresenceBreak:
		return breakPrefix + p.Reason
	case domain.PresenceOffline, domain.PresenceUnknown, domain.PresenceAutoPaused:
	}
	return ""
}

func (d *Desk) render() {
	v := &d.view.Agent
	signedIn := v.Status != domain.StatusOffline && v.Status != domain.StatusUnknown
	d.status.SetText(statusText(v))
	switch {
	case !signedIn:
		d.reg.SetText("")
	case v.Registration.State == domain.RegFailed:
		d.reg.SetText("Phone system: disconnected (" + v.Registration.Reason + ")")
	default:
		d.reg.SetText("Phone system: " + v.Registration.State.String())
	}
	d.updating = true
	d.presence.SetSelected(presenceLabel(v.Presence))
	d.updating = false
	setEnabled(d.presence, signedIn)
	setEnabled(d.signOut, signedIn)
	setEnabled(d.signIn, !signedIn)
	setEnabled(d.agentID, !signedIn)
	setEnabled(d.dial, signedIn)
	setEnabled(d.number, signedIn)

	d.calls.RemoveAll()
	for _, c := range d.view.Calls {
		id := c.ID
		row := container.NewHBox(widget.NewLabel(fmt.Sprintf("%s: %s", c.Remote.Label(), c.State)))
		if c.State == domain.CallStateOffered && !c.Answering {
			row.Add(widget.NewButton("Answer", func() { d.report(d.core.Answer(id)) }))
			row.Add(widget.NewButton("Reject", func() { d.report(d.core.Reject(id, false)) }))
		} else {
			row.Add(widget.NewButton("Hang up", func() { d.report(d.core.Hangup(id)) }))
		}
		d.calls.Add(row)
	}
	for _, ix := range d.view.Interactions {
		if ix.Phase != domain.PhaseWrapUp {
			continue
		}
		key := ix.Key
		d.calls.Add(container.NewHBox(
			widget.NewLabel("Wrap-up: "+ix.Remote.Label()),
			widget.NewButton("Wrap call", func() { d.report(d.core.CompleteWrapUp(key)) }),
		))
	}
	d.calls.Refresh()
}

type disableable interface {
	Enable()
	Disable()
}

func setEnabled(w disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}
