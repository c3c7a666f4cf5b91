package local

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrBadFile means an import file could not be read at all.
var ErrBadFile = errors.New("contact file not readable")

// ImportCSV reads a CSV export (Outlook, Google, or any file whose header
// names the columns: Name or First/Last Name, Company/Organization,
// E-mail, and any column with "phone" or "mobile" in its name) and merges
// it. Rows that cannot be used are skipped and reported by line.
func (d *Directory) ImportCSV(r io.Reader) (ImportReport, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	head, err := cr.Read()
	if err != nil {
		return ImportReport{}, fmt.Errorf("%w: header: %w", ErrBadFile, err)
	}
	col := map[string]int{}
	var phones []int
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch {
		case strings.Contains(h, "phone") || strings.Contains(h, "mobile"):
			if !strings.Contains(h, "type") && !strings.Contains(h, "label") {
				phones = append(phones, i)
			}
		case h == "name" || h == "full name" || h == "display name":
			col["name"] = i
		case h == "first name" || h == "given name":
			col["first"] = i
		case h == "last name" || h == "family name" || h == "surname":
			col["last"] = i
		case h == "company" || h == "organization" || h == "organization 1 - name":
			col["company"] = i
		case strings.HasPrefix(h, "e-mail") || strings.HasPrefix(h, "email"):
			if _, ok := col["email"]; !ok {
				col["email"] = i
			}
		}
	}
	if len(phones) == 0 {
		return ImportReport{}, fmt.Errorf("%w: no phone column in the header", ErrBadFile)
	}
	get := func(rec []string, k string) string {
		if i, ok := col[k]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var cs []Contact
	var lines []int
	var rep ImportReport
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			rep.Skipped++
			rep.Problems = append(rep.Problems, "line "+strconv.Itoa(line)+": not valid CSV")
			continue
		}
		c := Contact{Name: get(rec, "name"), Company: get(rec, "company"), Email: get(rec, "email")}
		if c.Name == "" {
			c.Name = strings.TrimSpace(get(rec, "first") + " " + get(rec, "last"))
		}
		if c.Name == "" {
			c.Name = c.Company
		}
		for _, i := range phones {
			if i < len(rec) {
				for _, v := range strings.Split(rec[i], ":::") { // Google joins several values
					if v = strings.TrimSpace(v); v != "" {
						c.Phones = append(c.Phones, v)
					}
				}
			}
		}
		cs = append(cs, c)
		lines = append(lines, line)
	}
	got, err := d.merge(cs, func(i int) string { return "line " + strconv.Itoa(lines[i]) })
	if err != nil {
		return ImportReport{}, err
	}
	got.Skipped += rep.Skipped
	got.Problems = append(rep.Problems, got.Problems...)
	return got, nil
}

// ImportVCard reads vCard 2.1/3.0/4.0 cards (FN, N, ORG, EMAIL, TEL) and
// merges them.
func (d *Directory) ImportVCard(r io.Reader) (ImportReport, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var lines []string
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(lines) > 0 {
			lines[len(lines)-1] += l[1:] // unfold
			continue
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		return ImportReport{}, fmt.Errorf("%w: %w", ErrBadFile, err)
	}
	var cs []Contact
	var cur *Contact
	var n []string
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		prop := strings.ToUpper(name)
		if i := strings.IndexByte(prop, ';'); i >= 0 {
			prop = prop[:i]
		}
		if j := strings.LastIndexByte(prop, '.'); j >= 0 { // grouped: item1.TEL
			prop = prop[j+1:]
		}
		switch prop {
		case "BEGIN":
			cur, n = &Contact{}, nil
		case "END":
			if cur != nil {
				if cur.Name == "" && len(n) > 0 {
					first := ""
					if len(n) > 1 {
						first = n[1]
					}
					cur.Name = strings.TrimSpace(first + " " + n[0])
				}
				cs = append(cs, *cur)
			}
			cur = nil
		}
		if cur == nil {
			continue
		}
		value = unescape(value)
		switch prop {
		case "FN":
			cur.Name = value
		case "N":
			n = strings.Split(value, ";")
		case "ORG":
			cur.Company = strings.TrimSpace(strings.Split(value, ";")[0])
		case "EMAIL":
			if cur.Email == "" {
				cur.Email = value
			}
		case "TEL":
			cur.Phones = append(cur.Phones, value)
		}
	}
	if len(cs) == 0 {
		return ImportReport{}, fmt.Errorf("%w: no vCard found", ErrBadFile)
	}
	return d.merge(cs, func(i int) string { return "card " + strconv.Itoa(i+1) })
}

func unescape(s string) string {
	return strings.NewReplacer(`\,`, ",", `\;`, ";", `\n`, " ", `\N`, " ", `\\`, `\`).Replace(strings.TrimSpace(s))
}
