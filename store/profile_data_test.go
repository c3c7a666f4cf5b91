package store

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/agent/domain"
)

func TestFavorites(t *testing.T) {
	db, _ := openTest(t, WithCountryCode("44"))
	p, _ := db.Profile("a1")
	for _, f := range []struct{ name, num string }{
		{"zoe", "020 7946 0001"},
		{"Adam", "+44 20 7946 0002"},
		{"bob", "2001"}, // an extension
		{"Émile", "0044 20 7946 0003"},
	} {
		if _, err := p.AddFavorite(f.name, f.num); err != nil {
			t.Fatalf("AddFavorite(%s): %v", f.name, err)
		}
	}
	// Renaming by number does not add.
	if _, err := p.AddFavorite("Zoe", "+442079460001"); err != nil {
		t.Fatal(err)
	}
	fs, err := p.Favorites()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.Name+"="+f.Number)
	}
	want := "Adam=+442079460002 bob=2001 Zoe=+442079460001 Émile=+442079460003"
	if strings.Join(got, " ") != want {
		t.Errorf("Favorites = %v\nwant %s", got, want)
	}
	if err := p.RemoveFavorite("020 7946 0002"); err != nil {
		t.Fatal(err)
	}
	if err := p.RemoveFavorite("020 7946 0002"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second remove: %v", err)
	}
	if _, err := p.AddFavorite("x", "abc"); !errors.Is(err, ErrInvalidNumber) {
		t.Errorf("AddFavorite(abc): %v", err)
	}
}

func TestFavoritesFull(t *testing.T) {
	db, _ := openTest(t)
	p, _ := db.Profile("a1")
	for i := range MaxFavorites - 3 {
		if _, err := p.AddFavorite(fmt.Sprint("n", i), fmt.Sprint(1000+i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := MaxFavorites - 3; i < MaxFavorites; i++ {
		if _, err := p.AddFavorite(fmt.Sprint("n", i), fmt.Sprint(1000+i)); err != nil {
			t.Fatal(err)
		}
	}
	_, err := p.AddFavorite("one too many", "9999")
	if !errors.Is(err, ErrFavoritesFull) || !strings.Contains(err.Error(), "50") {
		t.Fatalf("51st favorite: %v", err)
	}
	if _, err := p.AddFavorite("renamed", "1000"); err != nil {
		t.Errorf("renaming when full: %v", err)
	}
	if err := p.RemoveFavorite("1001"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.AddFavorite("fits now", "9999"); err != nil {
		t.Errorf("after remove: %v", err)
	}
}

func TestNormalizeE164(t *testing.T) {
	tests := []struct {
		raw, cc, want string
		bad           bool
	}{
		{"+44 20 7946 0018", "1", "+442079460018", false},
		{"00442079460018", "1", "+442079460018", false},
		{"020 7946 0018", "44", "+442079460018", false},
		{"07700 900123", "44", "+447700900123", false},
		{"(202) 555-0123", "1", "+12025550123", false},
		{"1-202-555-0123", "1", "+12025550123", false},
		{"tel:+1-202-555-0123;ext=5", "1", "+12025550123", false},
		{"030 1234567", "+49", "+49301234567", false},
		{"2001", "44", "", true},
		{"", "44", "", true},
		{"+", "44", "", true},
		{"+12345678901234567", "44", "", true},
		{"abc", "44", "", true},
		{"++44207", "44", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := NormalizeE164(tt.raw, tt.cc)
			if tt.bad {
				if !errors.Is(err, ErrInvalidNumber) {
					t.Errorf("NormalizeE164 = %q, %v; want ErrInvalidNumber", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("NormalizeE164 = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func FuzzNormalizeE164(f *testing.F) {
	for _, s := range []string{"+44 20 7946 0018", "0044", "020", "(202) 555-0123", "tel:+1;x", "2001"} {
		f.Add(s, "44")
	}
	f.Fuzz(func(t *testing.T, raw, cc string) {
		got, err := NormalizeE164(raw, cc)
		if err != nil {
			if !errors.Is(err, ErrInvalidNumber) {
				t.Fatalf("error not ErrInvalidNumber: %v", err)
			}
			return
		}
		if len(got) < 9 || len(got) > 16 || got[0] != '+' || got[1] == '0' {
			t.Fatalf("bad result %q", got)
		}
		for _, r := range got[1:] {
			if r < '0' || r > '9' {
				t.Fatalf("bad result %q", got)
			}
		}
		if again, err := NormalizeE164(got, cc); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

func TestContactCache(t *testing.T) {
	db, _ := openTest(t, WithCountryCode("44"), WithClock(func() time.Time { return t0 }))
	p, _ := db.Profile("a1")
	recs := []domain.CRMRecord{{ID: "003A", Type: "Contact", Name: "Ann Lee", URL: "https://crm/003A"}, {ID: "00QB", Type: "Lead", Name: "Ann L."}}
	if err := p.CacheContacts("+44 20 7946 0018", recs); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"020 7946 0018", "+442079460018", "0044-20-7946-0018", "tel:+442079460018"} {
		c, found, err := p.LookupContacts(q)
		if err != nil || !found {
			t.Fatalf("LookupContacts(%q) = %v, %v", q, found, err)
		}
		if len(c.Records) != 2 || !reflect.DeepEqual(c.Records[0], recs[0]) || c.Number != "+442079460018" || !c.CachedAt.Equal(t0) {
			t.Errorf("LookupContacts(%q) = %+v", q, c)
		}
	}
	if _, found, _ := p.LookupContacts("020 7946 0019"); found {
		t.Error("found a different number")
	}
	// A custom normaliser replaces the built-in one.
	db2, _ := openTest(t, WithNormalizer(func(s string) (string, error) { return "+1" + strings.TrimLeft(s, "0"), nil }))
	p2, _ := db2.Profile("a1")
	if err := p2.CacheContacts("0555", nil); err != nil {
		t.Fatal(err)
	}
	if c, found, _ := p2.LookupContacts("555"); !found || c.Number != "+1555" {
		t.Errorf("custom normaliser: %+v %v", c, found)
	}
}

func TestSettings(t *testing.T) {
	db, _ := openTest(t)
	p, _ := db.Profile("a1")
	type crm struct {
		Vendor   string `json:"vendor"`
		TokenURL string `json:"token_url"`
	}
	type settings struct {
		Ringer  string `json:"ringer"`
		CRM     crm    `json:"crm"`
		SIPUser string `json:"sip_user"`
	}
	in := settings{Ringer: "speakers", CRM: crm{Vendor: "salesforce", TokenURL: "https://login/token"}, SIPUser: "1001"}
	if err := p.PutSettings(in); err != nil {
		t.Fatal(err)
	}
	var out settings
	if found, err := p.GetSettings(&out); err != nil || !found || out != in {
		t.Errorf("GetSettings = %+v, %v, %v", out, found, err)
	}
	bad := []any{
		map[string]string{"sip_password": "hunter2"},
		map[string]any{"crm": map[string]string{"refreshToken": "abc"}},
		map[string]any{"accounts": []any{map[string]string{"API-Key": "k"}}},
		struct{ ClientSecret string }{"s"},
	}
	for i, v := range bad {
		if err := p.PutSettings(v); !errors.Is(err, ErrSecretInSettings) {
			t.Errorf("bad[%d]: %v, want ErrSecretInSettings", i, err)
		}
	}
	// Empty secret-named fields are fine (a form with the field cleared).
	if err := p.PutSettings(map[string]string{"password": ""}); err != nil {
		t.Errorf("empty password field: %v", err)
	}
}
