package provision

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ParseJSON reads a provisioning file: one JSON object whose keys are
// setting names (Keys), plus optional "version": 1 and "locked": [names].
func ParseJSON(origin string, raw []byte) (Layer, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return Layer{}, fmt.Errorf("%w: %s: %w", ErrSyntax, origin, err)
	}
	if m == nil {
		return Layer{}, fmt.Errorf("%w: %s: want a JSON object", ErrSyntax, origin)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Layer{}, fmt.Errorf("%w: %s: data after the JSON object", ErrSyntax, origin)
	}
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			f, err := n.Float64()
			if err != nil {
				return Layer{}, fmt.Errorf("%w: %s: %q: %w", ErrBadValue, origin, k, err)
			}
			m[k] = f
		}
	}
	return FromMap(origin, m)
}

// ParsePlist reads an XML property list whose top-level dict holds
// setting names (the format of /Library/Preferences and of configuration
// profiles once converted with plutil -convert xml1).
func ParsePlist(origin string, raw []byte) (Layer, error) {
	d := xml.NewDecoder(bytes.NewReader(raw))
	d.Strict = true
	for {
		tok, err := d.Token()
		if err != nil {
			return Layer{}, fmt.Errorf("%w: %s: no <plist><dict>: %w", ErrSyntax, origin, err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if se.Name.Local == "plist" {
			continue
		}
		if se.Name.Local != "dict" {
			return Layer{}, fmt.Errorf("%w: %s: top level is <%s>, want <dict>", ErrSyntax, origin, se.Name.Local)
		}
		v, err := plistValue(d, se)
		if err != nil {
			return Layer{}, fmt.Errorf("%w: %s: %w", ErrSyntax, origin, err)
		}
		return FromMap(origin, v.(map[string]any))
	}
}

// plistValue decodes the element se has opened.
func plistValue(d *xml.Decoder, se xml.StartElement) (any, error) {
	switch se.Name.Local {
	case "dict":
		m := map[string]any{}
		for {
			key, end, err := nextStart(d)
			if err != nil {
				return nil, err
			}
			if end {
				return m, nil
			}
			if key.Name.Local != "key" {
				return nil, fmt.Errorf("<dict> holds <%s> where a <key> belongs", key.Name.Local)
			}
			var name string
			if err := d.DecodeElement(&name, &key); err != nil {
				return nil, err
			}
			val, end, err := nextStart(d)
			if err != nil {
				return nil, err
			}
			if end {
				return nil, fmt.Errorf("key %q has no value", name)
			}
			v, err := plistValue(d, val)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", name, err)
			}
			m[name] = v
		}
	case "array":
		var list []any
		for {
			el, end, err := nextStart(d)
			if err != nil {
				return nil, err
			}
			if end {
				return list, nil
			}
			v, err := plistValue(d, el)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
	case "string", "integer", "real", "true", "false", "date", "data":
		var text string
		if err := d.DecodeElement(&text, &se); err != nil {
			return nil, err
		}
		text = strings.TrimSpace(text)
		switch se.Name.Local {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "integer":
			n, err := strconv.ParseInt(text, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("bad <integer> %q", text)
			}
			return float64(n), nil
		case "real":
			f, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return nil, fmt.Errorf("bad <real> %q", text)
			}
			return f, nil
		case "string":
			return text, nil
		}
		return nil, fmt.Errorf("<%s> values are not used in provisioning", se.Name.Local)
	}
	return nil, fmt.Errorf("unknown plist element <%s>", se.Name.Local)
}

// nextStart returns the next start element, or end=true at the end
// element of the enclosing one.
func nextStart(d *xml.Decoder) (xml.StartElement, bool, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, false, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, false, nil
		case xml.EndElement:
			return xml.StartElement{}, true, nil
		}
	}
}
