package ui

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// searchDelay debounces typing in the search box.
const searchDelay = 300 * time.Millisecond

// idleScreen is the number entry with its dial pad, and search, favorites
// and recents with click-to-dial.
type idleScreen struct {
	d         *Desk
	content   fyne.CanvasObject
	number    *numberEntry
	dial      *widget.Button
	backspace *widget.Button
	pad       *fyne.Container

	query      *widget.Entry
	results    *fyne.Container
	favorites  *fyne.Container
	recentKind *widget.RadioGroup
	recents    *fyne.Container
	tabs       *container.AppTabs

	favs         []Contact
	searchSeq    int
	searchCancel context.CancelFunc
}

var recentKinds = []RecentKind{RecentAll, RecentMissed, RecentIncoming, RecentOutgoing}

func (d *Desk) recentLabel(k RecentKind) string {
	switch k {
	case RecentAll:
		return d.T("All")
	case RecentMissed:
		return d.T("Missed")
	case RecentIncoming:
		return d.T("Incoming")
	case RecentOutgoing:
		return d.T("Outgoing")
	case RecentUnknown:
	}
	return ""
}

func newIdleScreen(d *Desk) *idleScreen {
	s := &idleScreen{d: d}
	s.number = newNumberEntry()
	s.number.SetPlaceHolder(d.T("Number or SIP address"))
	s.number.OnSubmitted = func(string) { s.dialNumber() }
	s.number.OnChanged = func(string) { d.typed() }
	s.number.onPasteError = func(err error) { d.toast(domain.NoticeError, d.T("Cannot paste that: %s", err.Error())) }
	s.dial = d.newTipButton(d.T("Call"), theme.MediaPlayIcon(), s.dialNumber,
		func() string { return d.T("Call the number in the box (Enter)") })
	s.dial.Importance = widget.SuccessImportance
	s.backspace = d.newTipButton(d.T("Delete digit"), theme.ContentUndoIcon(), func() {
		if r := []rune(s.number.Text); len(r) > 0 {
			s.number.SetText(string(r[:len(r)-1]))
		}
	}, func() string { return d.T("Delete the last digit") })
	s.pad = dialPad(func(k string) {
		s.number.SetText(s.number.Text + k)
	})
	left := container.NewVBox(
		container.NewBorder(nil, nil, nil, d.withTip(s.backspace), s.number),
		d.withTip(s.dial), s.pad)

	s.query = widget.NewEntry()
	s.query.SetPlaceHolder(d.T("Search CRM, contacts and history"))
	s.query.OnChanged = func(string) { s.search() }
	s.query.OnSubmitted = func(string) { s.search() }
	s.results = container.NewVBox()
	s.favorites = container.NewVBox()
	s.recents = container.NewVBox()
	labels := make([]string, len(recentKinds))
	for i, k := range recentKinds {
		labels[i] = d.recentLabel(k)
	}
	s.recentKind = widget.NewRadioGroup(labels, func(string) { s.loadRecents() })
	s.recentKind.Horizontal = true
	s.recentKind.Required = true
	s.recentKind.Selected = labels[0]
	s.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon(d.T("Search"), theme.SearchIcon(),
			container.NewBorder(s.query, nil, nil, nil, container.NewVScroll(s.results))),
		container.NewTabItemWithIcon(d.T("Favorites"), theme.ConfirmIcon(), container.NewVScroll(s.favorites)),
		container.NewTabItemWithIcon(d.T("Recents"), theme.HistoryIcon(),
			container.NewBorder(s.recentKind, nil, nil, nil, container.NewVScroll(s.recents))),
	)
	s.content = container.NewBorder(nil, nil, container.NewPadded(minWidth(left, 300)), nil, s.tabs)
	return s
}

// dialPad builds the 3x4 keypad; key receives "0"-"9", "*" or "#".
func dialPad(key func(string)) *fyne.Container {
	keys := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"}
	objs := make([]fyne.CanvasObject, len(keys))
	for i, k := range keys {
		objs[i] = widget.NewButton(k, func() { key(k) })
	}
	return container.NewGridWithColumns(3, objs...)
}

func (s *idleScreen) dialNumber() {
	if s.d.view.Screen != viewmodel.ScreenIdle && s.d.view.Screen != viewmodel.ScreenCall {
		return
	}
	n, err := domain.NormalizeDialString(s.number.Text)
	if err != nil {
		s.d.toast(domain.NoticeError, s.d.T("Cannot dial: %s", s.d.T(err.Error())))
		return
	}
	if _, err := s.d.core.Dial(n); err != nil {
		s.d.report(err)
		return
	}
	s.number.SetText("")
}

// clickToDial dials a contact, or puts the number in the entry when the
// agent wants to edit numbers before dialling.
func (s *idleScreen) clickToDial(c Contact) {
	if s.d.set.EditBeforeDial {
		s.number.SetText(c.Number)
		if s.d.canvas != nil {
			s.d.canvas.Focus(s.number)
		}
		return
	}
	s.number.SetText(c.Number)
	s.dialNumber()
}

func (s *idleScreen) render(*viewmodel.View) {}

func (s *idleScreen) clear() {
	s.number.SetText("")
	s.query.SetText("")
	s.results.RemoveAll()
	s.favorites.RemoveAll()
	s.recents.RemoveAll()
	s.favs = nil
}

// reload fetches favorites and recents (after sign-in and after calls).
func (s *idleScreen) reload() {
	s.loadFavorites()
	s.loadRecents()
}

func (s *idleScreen) loadFavorites() {
	lib := s.d.library
	if lib == nil {
		s.favorites.Objects = []fyne.CanvasObject{widget.NewLabel(s.d.T("Favorites are not available"))}
		s.favorites.Refresh()
		return
	}
	s.d.background(func(context.Context) {
		favs, err := lib.Favorites()
		s.d.do(func() {
			if err != nil {
				s.d.toast(domain.NoticeError, s.d.T("Favorites could not be loaded: %s", err.Error()))
				return
			}
			sort.SliceStable(favs, func(i, j int) bool {
				return strings.ToLower(favs[i].Label()) < strings.ToLower(favs[j].Label())
			})
			s.favs = favs
			rows := make([]fyne.CanvasObject, 0, len(favs))
			for _, f := range favs {
				rows = append(rows, s.contactRow(f, ""))
			}
			if len(rows) == 0 {
				rows = append(rows, widget.NewLabel(s.d.T("No favorites yet: star a contact or a recent call")))
			}
			s.favorites.Objects = rows
			s.favorites.Refresh()
			s.refreshStars()
		})
	})
}

func (s *idleScreen) selectedKind() RecentKind {
	for _, k := range recentKinds {
		if s.d.recentLabel(k) == s.recentKind.Selected {
			return k
		}
	}
	return RecentAll
}

func (s *idleScreen) loadRecents() {
	lib := s.d.library
	if lib == nil {
		s.recents.Objects = []fyne.CanvasObject{widget.NewLabel(s.d.T("Recent calls are not available"))}
		s.recents.Refresh()
		return
	}
	kind := s.selectedKind()
	s.d.background(func(context.Context) {
		calls, err := lib.Recent(kind, kind.Limit())
		s.d.do(func() {
			if err != nil {
				s.d.toast(domain.NoticeError, s.d.T("Recent calls could not be loaded: %s", err.Error()))
				return
			}
			if kind != s.selectedKind() {
				return // the agent switched lists meanwhile
			}
			if len(calls) > kind.Limit() {
				calls = calls[:kind.Limit()]
			}
			rows := make([]fyne.CanvasObject, 0, len(calls))
			for _, c := range calls {
				rows = append(rows, s.contactRow(c.Contact, s.recentDetail(c)))
			}
			if len(rows) == 0 {
				rows = append(rows, widget.NewLabel(s.d.T("No calls")))
			}
			s.recents.Objects = rows
			s.recents.Refresh()
		})
	})
}

func (s *idleScreen) recentDetail(c RecentCall) string {
	what := s.d.T("Outgoing")
	switch {
	case c.Missed:
		what = s.d.T("Missed")
	case c.Direction == domain.DirectionInbound:
		what = s.d.T("Incoming")
	}
	return what + " · " + c.At.Local().Format("02.01. 15:04") + " · " + viewmodel.FormatDuration(c.Talk)
}

// search runs a debounced search; only the latest answer is shown.
func (s *idleScreen) search() {
	q := strings.TrimSpace(s.query.Text)
	s.searchSeq++
	seq := s.searchSeq
	if s.searchCancel != nil {
		s.searchCancel() // typing on: the older search is not needed
		s.searchCancel = nil
	}
	if len([]rune(q)) < 2 {
		s.results.RemoveAll()
		return
	}
	f := s.d.finder
	if f == nil {
		s.results.Objects = []fyne.CanvasObject{widget.NewLabel(s.d.T("Search is not available"))}
		s.results.Refresh()
		return
	}
	sctx, cancelSearch := context.WithCancel(context.Background())
	s.searchCancel = cancelSearch
	s.d.background(func(ctx context.Context) {
		defer cancelSearch()
		select {
		case <-time.After(searchDelay):
		case <-ctx.Done():
			return
		case <-sctx.Done():
			return
		}
		cctx, cancel := context.WithTimeout(sctx, 10*time.Second)
		defer cancel()
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
		found, err := f.Search(cctx, q, 50)
		s.d.do(func() {
			if seq != s.searchSeq {
				return
			}
			if err != nil && len(found) == 0 {
				s.results.Objects = []fyne.CanvasObject{widget.NewLabel(s.d.T("Search failed: %s", err.Error()))}
				s.results.Refresh()
				return
			}
			rows := make([]fyne.CanvasObject, 0, len(found)+1)
			if err != nil { // some of it answered
				note := widget.NewLabel(s.d.T("Not everything could be searched: %s", err.Error()))
				note.Wrapping = fyne.TextWrapWord
				note.Importance = widget.WarningImportance
				rows = append(rows, note)
			}
			for _, c := range found {
				rows = append(rows, s.contactRow(c, s.d.T(c.Source)))
			}
			if len(found) == 0 {
				rows = append(rows, widget.NewLabel(s.d.T("Nothing found")))
			}
			s.results.Objects = rows
			s.results.Refresh()
			s.refreshStars()
		})
	})
}

// contactRow is one contact with click-to-dial, a favorite star and (when
// the CRM has a record) a person button that opens it.
func (s *idleScreen) contactRow(c Contact, detail string) fyne.CanvasObject {
	label := c.Label()
	if c.Name != "" && c.Number != "" {
		label += " · " + c.Number
	}
	text := widget.NewLabel(label)
	text.Truncation = fyne.TextTruncateEllipsis
	var info fyne.CanvasObject = text
	if detail != "" {
		sub := widget.NewLabel(detail)
		sub.SizeName = theme.SizeNameCaptionText
		info = container.NewVBox(text, sub)
	}
	var right []fyne.CanvasObject
	if c.Number != "" { // a CRM record found by name has no number to call or star
		star := &starButton{contact: c}
		star.Button = widget.NewButtonWithIcon("", theme.ConfirmIcon(), func() { s.toggleFavorite(star) })
		star.ExtendBaseWidget(star)
		star.set(s.isFavorite(c.Number), s.d)
		right = append(right, star)
	}
	if c.URL != "" {
		url := c.URL
		right = append(right, widget.NewButtonWithIcon(s.d.T("Open CRM record"), theme.AccountIcon(), func() {
			if err := s.d.openURL(url); err != nil {
				s.d.toast(domain.NoticeError, s.d.T("The CRM record could not be opened: %s", err.Error()))
			}
		}))
	}
	if c.Number != "" {
		call := widget.NewButtonWithIcon(s.d.T("Call %s", c.Label()), theme.MediaPlayIcon(), func() { s.clickToDial(c) })
		call.Importance = widget.LowImportance
		right = append(right, call)
	}
	return container.NewBorder(nil, nil, nil, container.NewHBox(right...), info)
}

// starButton marks a contact as a favorite.
type starButton struct {
	*widget.Button
	contact Contact
	on      bool
}

func (b *starButton) set(on bool, d *Desk) {
	b.on = on
	text := d.T("Add to favorites")
	icon := theme.ContentAddIcon()
	if on {
		text, icon = d.T("Remove from favorites"), theme.ConfirmIcon()
	}
	b.Text, b.Icon = text, icon
	b.Refresh()
}

func (s *idleScreen) isFavorite(number string) bool {
	return slices.ContainsFunc(s.favs, func(f Contact) bool { return f.Number == number })
}

func (s *idleScreen) refreshStars() {
	for _, box := range []*fyne.Container{s.results, s.recents, s.favorites} {
		for _, o := range box.Objects {
			if b := findStar(o); b != nil {
				if on := s.isFavorite(b.contact.Number); on != b.on {
					b.set(on, s.d)
				}
			}
		}
	}
}

func findStar(o fyne.CanvasObject) *starButton {
	switch o := o.(type) {
	case *starButton:
		return o
	case *fyne.Container:
		for _, c := range o.Objects {
			if b := findStar(c); b != nil {
				return b
			}
		}
	}
	return nil
}

func (s *idleScreen) toggleFavorite(b *starButton) {
	lib := s.d.library
	if lib == nil {
		s.d.toast(domain.NoticeWarning, s.d.T("Favorites are not available"))
		return
	}
	c, on := b.contact, b.on
	if !on && len(s.favs) >= MaxFavorites {
		s.d.toast(domain.NoticeWarning, s.d.T("You can keep at most %d favorites: remove one first", MaxFavorites))
		return
	}
	s.d.background(func(context.Context) {
		var err error
		if on {
			err = lib.RemoveFavorite(c.Number)
		} else {
			err = lib.AddFavorite(c)
		}
		s.d.do(func() {
			if err != nil {
				s.d.toast(domain.NoticeError, s.d.T("Favorites could not be changed: %s", err.Error()))
				return
			}
			s.loadFavorites()
		})
	})
}
