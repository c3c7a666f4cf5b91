package local_test

import (
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/local"
)

// memBackend keeps the directory in memory for the tests; fail makes Save
// fail like a full disk.
type memBackend struct {
	saved []local.Contact
	fail  bool
}

func (m *memBackend) Load() ([]local.Contact, error) { return slices.Clone(m.saved), nil }
func (m *memBackend) Save(cs []local.Contact) error {
	if m.fail {
		return errors.New("disk full")
	}
	m.saved = slices.Clone(cs)
	return nil
}

const outlookCSV = "\ufeffFirst Name,Last Name,Company,E-mail Address,Business Phone,Mobile Phone,Home Phone\n" +
	"Ana,Diaz,Acme,ana@acme.test,(415) 555-1212,,\n" +
	"Bo,Lee,,bo@beta.test,,+44 20 7946 0018,020 7946 0019\n" +
	"No,Phone,,x@y.test,,,\n" +
	"Bad,Number,,,abc,,\n" +
	"\"Unclosed,quote\n"

const vcards = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Solo;Han;;;\r\nORG:Falcon\\, Inc.;Ops\r\n" +
	"TEL;TYPE=CELL:tel:+1-212-555-01\r\n 00\r\nitem1.TEL:+14155551212\r\nEND:VCARD\r\n" +
	"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Ana Diaz\r\nTEL:4155551212\r\nEND:VCARD\r\n"

func TestImportLookupSearchPop(t *testing.T) {
	be := &memBackend{}
	var popped []string
	popCh := make(chan string, 4)
	d, err := local.New(be, crm.NewNormalizer("US"), local.WithLogger(slog.New(slog.DiscardHandler)),
		local.WithPop(func(key string, c local.Contact) { popCh <- key + ":" + c.Name }),
		local.WithPopNew(func(key, e164 string) { popCh <- key + ":new:" + e164 }))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := d.ImportCSV(strings.NewReader(outlookCSV))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 2 || rep.Skipped != 3 || len(rep.Problems) < 3 {
		t.Fatalf("csv import %+v", rep)
	}
	for _, p := range rep.Problems {
		if strings.ContainsAny(p, "0123456789") && !strings.HasPrefix(p, "line ") {
			t.Fatalf("problem text leaks data: %q", p)
		}
	}
	rep, err = d.ImportVCard(strings.NewReader(vcards))
	if err != nil || rep.Added != 1 || rep.Updated != 1 {
		t.Fatalf("vcard import %+v %v", rep, err)
	}
	cs := d.Contacts()
	if len(cs) != 3 || len(be.saved) != 3 {
		t.Fatalf("contacts %+v", cs)
	}
	han := cs[2]
	if han.Name != "Han Solo" || han.Company != "Falcon, Inc." || !slices.Equal(han.Phones, []string{"+12125550100", "+14155551212"}) {
		t.Fatalf("vcard contact %+v", han)
	}
	bo := cs[1]
	// A UK national number on a US desk cannot be read; it is reported
	// and the rest of the contact kept.
	if !slices.Equal(bo.Phones, []string{"+442079460018"}) {
		t.Fatalf("bo %+v", bo)
	}

	sink := crmtest.NewSink(4)
	d.Attach(sink)
	if err := d.Lookup("k1", "+1 (415) 555-1212"); err != nil {
		t.Fatal(err)
	}
	m := (<-sink.C).(domain.CallerMatched)
	names := []string{}
	for _, r := range m.Records {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	if m.Key != "k1" || m.Number != "+1 (415) 555-1212" || !slices.Equal(names, []string{"Ana Diaz", "Han Solo"}) || m.Records[0].Type != local.RecordType {
		t.Fatalf("lookup %+v", m)
	}
	if got := d.Search("acme", 10); len(got) != 1 || got[0].Name != "Ana Diaz" {
		t.Fatalf("search %+v", got)
	}
	if got := d.Search("7946", 10); len(got) != 1 || got[0].Name != "Bo Lee" {
		t.Fatalf("search by number %+v", got)
	}
	if err := d.ScreenPop("k1", m.Records[0]); err != nil {
		t.Fatal(err)
	}
	if err := d.ScreenPopNew("k2", "212 555 0199"); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case p := <-popCh:
			popped = append(popped, p)
		case <-time.After(10 * time.Second):
			t.Fatal("no pop")
		}
	}
	slices.Sort(popped)
	if popped[1] != "k2:new:+12125550199" || !strings.HasPrefix(popped[0], "k1:") {
		t.Fatalf("pops %v", popped)
	}
	if err := d.ScreenPop("k1", domain.CRMRecord{ID: "nope"}); !errors.Is(err, local.ErrUnknownContact) {
		t.Fatalf("unknown contact: %v", err)
	}

	// A restart reloads the directory; a failed save changes nothing.
	d2, err := local.New(be, crm.NewNormalizer("US"))
	if err != nil || len(d2.Contacts()) != 3 {
		t.Fatalf("reload %v", err)
	}
	be.fail = true
	if _, err := d2.Add([]local.Contact{{Name: "New", Phones: []string{"+13125550100"}}}); err == nil || len(d2.Contacts()) != 3 {
		t.Fatalf("failed save: %v, %d contacts", err, len(d2.Contacts()))
	}
	if _, err := d2.ImportVCard(strings.NewReader("garbage")); !errors.Is(err, local.ErrBadFile) {
		t.Fatalf("garbage vcard: %v", err)
	}
	if _, err := d2.ImportCSV(strings.NewReader("a,b\n1,2\n")); !errors.Is(err, local.ErrBadFile) {
		t.Fatalf("csv without phone column: %v", err)
	}
	d.Wait()
}
