package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
)

// PopContact is a contact of the local directory (the embedded CRM), as an
// in-app screen pop shows it.
type PopContact struct {
	ID      string
	Name    string
	Company string
	Email   string
	Phones  []string // E.164
}

// ScreenPop is an in-app screen pop of the local CRM: the matched contact,
// or, with Contact nil, the new-contact form for Number.
type ScreenPop struct {
	Key     string // the interaction (call key)
	Contact *PopContact
	Number  string // the caller's E.164 number for the new-contact form
}

// ContactBook adds contacts to the local directory (cmd implements it over
// crm/local). key is the interaction the form was opened for: the
// implementation matches that caller again, so the call shows the new
// contact. AddContact may block (it writes the store); the desk calls it
// off the UI goroutine.
type ContactBook interface {
	AddContact(key string, c PopContact) (PopContact, error)
}

// WithContactBook sets where the new-contact form saves.
func WithContactBook(b ContactBook) Option { return func(d *Desk) { d.book = b } }

// ShowScreenPop shows an in-app screen pop: the contact card, or the
// new-contact form. It is safe from any goroutine and returns at once
// (the work goes through the dispatcher, fyne.Do).
func (d *Desk) ShowScreenPop(p ScreenPop) {
	d.do(func() { d.pop.show(p) })
}

// popCard is the screen-pop panel at the right of the window: hidden until
// a pop arrives, closed by the agent, cleared at sign-out.
type popCard struct {
	d       *Desk
	content fyne.CanvasObject

	title   *widget.Label
	name    *widget.Label
	details *widget.Label
	card    *fyne.Container

	nameIn, companyIn, emailIn, phoneIn *widget.Entry
	save                                *widget.Button
	problem                             *widget.Label
	form                                *fyne.Container

	close *widget.Button
	cur   ScreenPop
}

func newPopCard(d *Desk) *popCard {
	c := &popCard{d: d}
	c.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	c.name = widget.NewLabel("")
	c.name.SizeName = theme.SizeNameSubHeadingText
	c.name.Wrapping = fyne.TextWrapWord
	c.details = widget.NewLabel("")
	c.details.Wrapping = fyne.TextWrapWord
	c.card = container.NewVBox(c.name, c.details)

	c.nameIn = widget.NewEntry()
	c.nameIn.SetPlaceHolder(d.T("Name"))
	c.companyIn = widget.NewEntry()
	c.companyIn.SetPlaceHolder(d.T("Company"))
	c.emailIn = widget.NewEntry()
	c.emailIn.SetPlaceHolder(d.T("E-mail"))
	c.phoneIn = widget.NewEntry()
	c.phoneIn.SetPlaceHolder(d.T("Phone number"))
	c.save = widget.NewButtonWithIcon(d.T("Save contact"), theme.DocumentSaveIcon(), c.saveContact)
	c.save.Importance = widget.HighImportance
	c.problem = widget.NewLabel("")
	c.problem.Importance = widget.DangerImportance
	c.problem.Wrapping = fyne.TextWrapWord
	c.problem.Hide()
	c.form = container.NewVBox(c.nameIn, c.companyIn, c.emailIn, c.phoneIn, c.problem, c.save)

	c.close = widget.NewButtonWithIcon(d.T("Close the contact"), theme.WindowCloseIcon(), c.hide)
	c.close.Importance = widget.LowImportance
	body := container.NewVBox(container.NewBorder(nil, nil, nil, c.close, c.title), c.card, c.form)
	c.content = container.NewPadded(minWidth(body, 260))
	c.content.Hide()
	return c
}

// show displays p (on the UI goroutine).
func (c *popCard) show(p ScreenPop) {
	if !c.d.vm.SignedIn() {
		return // a late pop after sign-out: personal data stays hidden
	}
	c.cur = p
	if p.Contact != nil {
		c.showContact(*p.Contact)
	} else {
		c.title.SetText(c.d.T("New contact"))
		c.nameIn.SetText("")
		c.companyIn.SetText("")
		c.emailIn.SetText("")
		c.phoneIn.SetText(p.Number)
		c.problem.Hide()
		c.save.Enable()
		c.card.Hide()
		c.form.Show()
		if c.d.canvas != nil {
			c.d.canvas.Focus(c.nameIn)
		}
	}
	c.content.Show()
}

func (c *popCard) showContact(pc PopContact) {
	c.title.SetText(c.d.T("Contact"))
	c.name.SetText(pc.Name)
	var lines []string
	if pc.Company != "" {
		lines = append(lines, pc.Company)
	}
	if pc.Email != "" {
		lines = append(lines, pc.Email)
	}
	lines = append(lines, pc.Phones...)
	c.details.SetText(strings.Join(lines, "\n"))
	c.form.Hide()
	c.card.Show()
}

// hide closes the panel and forgets what it showed.
func (c *popCard) hide() {
	c.cur = ScreenPop{}
	c.name.SetText("")
	c.details.SetText("")
	c.nameIn.SetText("")
	c.companyIn.SetText("")
	c.emailIn.SetText("")
	c.phoneIn.SetText("")
	c.content.Hide()
}

func (c *popCard) say(msg string) {
	c.problem.SetText(msg)
	c.problem.Show()
}

// saveContact adds the form's contact to the local directory; on failure
// the form keeps what was typed.
func (c *popCard) saveContact() {
	name := strings.TrimSpace(c.nameIn.Text)
	phone := strings.TrimSpace(c.phoneIn.Text)
	if name == "" {
		c.say(c.d.T("Enter the contact's name"))
		return
	}
	if phone == "" {
		c.say(c.d.T("Enter the contact's phone number"))
		return
	}
	book := c.d.book
	if book == nil {
		c.say(c.d.T("Contacts cannot be saved here"))
		return
	}
	pc := PopContact{Name: name, Company: strings.TrimSpace(c.companyIn.Text), Email: strings.TrimSpace(c.emailIn.Text), Phones: []string{phone}}
	key := c.cur.Key
	c.save.Disable()
	c.problem.Hide()
	c.d.background(func(context.Context) {
		saved, err := book.AddContact(key, pc)
		c.d.do(func() {
			c.save.Enable()
			if err != nil {
				c.say(c.d.T("The contact could not be saved: %s", err.Error()))
				return
			}
			if c.cur.Key != key || c.cur.Contact != nil || !c.content.Visible() {
				return // the agent moved on; the contact is saved anyway
			}
			c.cur.Contact = &saved
			c.showContact(saved)
			c.d.toast(domain.NoticeInfo, c.d.T("Contact saved"))
		})
	})
}
