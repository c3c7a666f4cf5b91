package viewmodel

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	"github.com/callcentre/softphone/assets"
)

// Languages the desktop ships, English first (the source language).
var Languages = []string{"en", "de"}

// Translator turns English source strings into the chosen language. A
// string without a translation is shown in English, never blank.
type Translator struct {
	lang string
	m    map[string]string
}

// NewTranslator returns the translator for lang ("en", "de", or a locale
// such as "de_DE.UTF-8" or "de-AT"); unknown languages fall back to English.
func NewTranslator(lang string) *Translator {
	base := strings.ToLower(lang)
	if i := strings.IndexAny(base, "_-.@"); i >= 0 {
		base = base[:i]
	}
	t := &Translator{lang: "en"}
	if base == "" || base == "en" {
		return t
	}
	m, err := LoadCatalog(base)
	if err != nil {
		return t
	}
	t.lang, t.m = base, m
	return t
}

// LoadCatalog reads the embedded catalog of a language.
func LoadCatalog(lang string) (map[string]string, error) {
	raw, err := fs.ReadFile(assets.Translations, "translations/"+lang+".json")
	if err != nil {
		return nil, fmt.Errorf("load translations %q: %w", lang, err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("parse translations %q: %w", lang, err)
	}
	return m, nil
}

// Lang is the language in use ("en" when nothing else matched).
func (t *Translator) Lang() string {
	if t == nil {
		return "en"
	}
	return t.lang
}

// T translates s; with args, the translation is a fmt format.
func (t *Translator) T(s string, args ...any) string {
	if t != nil {
		if v, ok := t.m[s]; ok && v != "" {
			s = v
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
