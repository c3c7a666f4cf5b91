package sfemu

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ---- SOSL ----

type returning struct {
	typ    string
	fields []string
	where  [][2]string // field = value
	limit  int
}

const soslReserved = `&|!(){}[]^"~*?:\'+-`

// parseSOSL parses FIND {t1 OR t2} [IN x FIELDS] RETURNING Obj(f, ... [WHERE a = b] [LIMIT n]), ... [LIMIT n].
func parseSOSL(q string) (terms []string, group string, objs []returning, limit int, err error) {
	q = strings.TrimSpace(q)
	if !strings.HasPrefix(strings.ToUpper(q), "FIND {") {
		return nil, "", nil, 0, fmt.Errorf("expecting FIND {")
	}
	rest := q[len("FIND {"):]
	var term strings.Builder
	end := -1
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c == '\\' && i+1 < len(rest) {
			term.WriteByte(rest[i+1])
			i++
			continue
		}
		if c == '}' {
			end = i
			break
		}
		if strings.IndexByte(soslReserved, c) >= 0 && c != '*' {
			return nil, "", nil, 0, fmt.Errorf("line 1:%d no viable alternative at character '%c'", i+6, c)
		}
		term.WriteByte(c)
	}
	if end < 0 {
		return nil, "", nil, 0, fmt.Errorf("missing }")
	}
	for _, t := range regexp.MustCompile(`(?i)\s+OR\s+`).Split(term.String(), -1) {
		if t = strings.TrimSpace(t); t != "" {
			terms = append(terms, t)
		}
	}
	if len(terms) == 0 {
		return nil, "", nil, 0, fmt.Errorf("search term must be longer than one character")
	}
	rest = strings.TrimSpace(rest[end+1:])
	group = "ALL"
	if m := regexp.MustCompile(`(?i)^IN\s+(ALL|NAME|PHONE|EMAIL)\s+FIELDS\s*`).FindStringSubmatch(rest); m != nil {
		group = strings.ToUpper(m[1])
		rest = rest[len(m[0]):]
	}
	if m := regexp.MustCompile(`(?i)\s+LIMIT\s+(\d+)\s*$`).FindStringSubmatchIndex(rest); m != nil {
		limit, _ = strconv.Atoi(rest[m[2]:m[3]])
		rest = rest[:m[0]]
	}
	up := strings.ToUpper(rest)
	if !strings.HasPrefix(up, "RETURNING ") {
		return nil, "", nil, 0, fmt.Errorf("expecting RETURNING")
	}
	rest = strings.TrimSpace(rest[len("RETURNING "):])
	for rest != "" {
		name := rest
		var inner string
		if i := strings.IndexAny(rest, "(,"); i >= 0 {
			name = rest[:i]
			if rest[i] == '(' {
				j := strings.IndexByte(rest[i:], ')')
				if j < 0 {
					return nil, "", nil, 0, fmt.Errorf("missing )")
				}
				inner = rest[i+1 : i+j]
				rest = rest[i+j+1:]
			} else {
				rest = rest[i:]
			}
		} else {
			rest = ""
		}
		rest = strings.TrimPrefix(strings.TrimSpace(rest), ",")
		rest = strings.TrimSpace(rest)
		r, err := parseReturning(strings.TrimSpace(name), inner)
		if err != nil {
			return nil, "", nil, 0, err
		}
		objs = append(objs, r)
	}
	return terms, group, objs, limit, nil
}

func parseReturning(name, inner string) (returning, error) {
	r := returning{typ: name, fields: []string{"Id"}}
	if inner == "" {
		return r, nil
	}
	if m := regexp.MustCompile(`(?i)\s+LIMIT\s+(\d+)\s*$`).FindStringSubmatchIndex(inner); m != nil {
		r.limit, _ = strconv.Atoi(inner[m[2]:m[3]])
		inner = inner[:m[0]]
	}
	fieldPart := inner
	if m := regexp.MustCompile(`(?i)\s+WHERE\s+`).FindStringIndex(inner); m != nil {
		fieldPart = inner[:m[0]]
		for _, c := range regexp.MustCompile(`(?i)\s+AND\s+`).Split(inner[m[1]:], -1) {
			k, v, ok := strings.Cut(c, "=")
			if !ok {
				return r, fmt.Errorf("unexpected token in WHERE")
			}
			r.where = append(r.where, [2]string{strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), "'")})
		}
	}
	r.fields = nil
	for _, f := range strings.Split(fieldPart, ",") {
		if f = strings.TrimSpace(f); f != "" {
			r.fields = append(r.fields, f)
		}
	}
	return r, nil
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// phoneScore: 2 when the digit strings are equal, 1 when one ends with the
// other and both have at least 7 digits, else 0.
func phoneScore(stored, term string) int {
	a, b := digits(stored), digits(term)
	switch {
	case a == "" || b == "":
		return 0
	case a == b:
		return 2
	case len(a) >= 7 && len(b) >= 7 && (strings.HasSuffix(a, b) || strings.HasSuffix(b, a)):
		return 1
	}
	return 0
}

func (s *Server) search(w http.ResponseWriter, q, v string) int {
	terms, group, objs, limit, err := parseSOSL(q)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, "MALFORMED_SEARCH", err.Error())
		return http.StatusBadRequest
	}
	type hit struct {
		score int
		typ   string
		rec   Record
		ret   returning
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []hit
	for _, o := range objs {
		if _, ok := prefixes[o.typ]; !ok || o.typ == "Task" {
			writeErrors(w, http.StatusBadRequest, "INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported.", o.typ))
			return http.StatusBadRequest
		}
		for _, f := range o.fields {
			if !s.hasField(o.typ, strings.TrimSpace(f)) {
				writeErrors(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'.", f, o.typ))
				return http.StatusBadRequest
			}
		}
		var typeHits []hit
		for _, rec := range s.records[o.typ] {
			if rec["IsDeleted"] == true || !whereOK(rec, o.where) {
				continue
			}
			best := 0
			for _, t := range terms {
				if group == "PHONE" || group == "ALL" {
					for _, pf := range phoneFields[o.typ] {
						if sv, ok := rec[pf].(string); ok {
							best = max(best, phoneScore(sv, t))
						}
					}
				}
				if group == "NAME" || group == "ALL" {
					for _, nf := range []string{"Name", "Company", "Email"} {
						if sv, ok := rec[nf].(string); ok && strings.Contains(strings.ToLower(sv), strings.ToLower(strings.Trim(t, "*"))) {
							best = max(best, 1)
						}
					}
				}
			}
			if best > 0 {
				typeHits = append(typeHits, hit{best, o.typ, rec, o})
			}
		}
		slices.SortStableFunc(typeHits, func(a, b hit) int {
			if a.score != b.score {
				return b.score - a.score
			}
			return strings.Compare(a.rec["Id"].(string), b.rec["Id"].(string))
		})
		if o.limit > 0 && len(typeHits) > o.limit {
			typeHits = typeHits[:o.limit]
		}
		hits = append(hits, typeHits...)
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return b.score - a.score })
	if limit > 0 && len(hits) > limit {
		hits = hits[:limit]
	}
	out := []map[string]any{}
	for _, h := range hits {
		out = append(out, s.project(h.typ, h.rec, h.ret.fields, v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"searchRecords": out})
	return http.StatusOK
}

func whereOK(rec Record, where [][2]string) bool {
	for _, c := range where {
		got := fmt.Sprint(orEmpty(rec[c[0]]))
		if rec[c[0]] == nil && c[1] == "false" {
			got = "false"
		}
		if !strings.EqualFold(got, c[1]) {
			return false
		}
	}
	return true
}

// ---- SOQL ----

var (
	soqlRE  = regexp.MustCompile(`(?is)^\s*SELECT\s+(.+?)\s+FROM\s+(\w+)(?:\s+WHERE\s+(.+?))?(?:\s+LIMIT\s+(\d+))?\s*$`)
	inRE    = regexp.MustCompile(`(?is)^(\w+)\s+IN\s*\((.*)\)$`)
	eqRE    = regexp.MustCompile(`(?is)^(\w+)\s*=\s*(.+)$`)
	quoteRE = regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`)
)

type cond struct {
	field  string
	values []string
}

func (s *Server) query(w http.ResponseWriter, q, v string) int {
	m := soqlRE.FindStringSubmatch(q)
	if m == nil {
		writeErrors(w, http.StatusBadRequest, "MALFORMED_QUERY", "unexpected token")
		return http.StatusBadRequest
	}
	typ := m[2]
	if _, ok := prefixes[typ]; !ok {
		writeErrors(w, http.StatusBadRequest, "INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported.", typ))
		return http.StatusBadRequest
	}
	fields := fieldList(m[1], nil)
	for _, f := range fields {
		if !s.hasField(typ, f) {
			writeErrors(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'.", f, typ))
			return http.StatusBadRequest
		}
	}
	var conds []cond
	if m[3] != "" {
		for _, c := range regexp.MustCompile(`(?i)\s+AND\s+`).Split(m[3], -1) {
			c = strings.TrimSpace(c)
			var f, vals string
			if mm := inRE.FindStringSubmatch(c); mm != nil {
				f, vals = mm[1], mm[2]
			} else if mm := eqRE.FindStringSubmatch(c); mm != nil {
				f, vals = mm[1], mm[2]
			} else {
				writeErrors(w, http.StatusBadRequest, "MALFORMED_QUERY", "unexpected token: "+c)
				return http.StatusBadRequest
			}
			if !s.hasField(typ, f) {
				writeErrors(w, http.StatusBadRequest, "INVALID_FIELD", fmt.Sprintf("No such column '%s' on entity '%s'.", f, typ))
				return http.StatusBadRequest
			}
			var list []string
			if qs := quoteRE.FindAllStringSubmatch(vals, -1); qs != nil {
				for _, x := range qs {
					list = append(list, strings.ReplaceAll(x[1], `\'`, `'`))
				}
			} else {
				list = []string{strings.TrimSpace(vals)}
			}
			conds = append(conds, cond{f, list})
		}
	}
	limit := 0
	if m[4] != "" {
		limit, _ = strconv.Atoi(m[4])
	}
	s.mu.Lock()
	var recs []Record
	if len(conds) > 0 && typ == "Task" && conds[0].field == s.cfg.ExternalIDField {
		for _, val := range conds[0].values { // indexed
			if id, ok := s.extIndex[val]; ok {
				recs = append(recs, s.records["Task"][id])
			}
		}
	} else {
		for _, r := range s.records[typ] {
			recs = append(recs, r)
		}
		slices.SortFunc(recs, func(a, b Record) int { return strings.Compare(a["Id"].(string), b["Id"].(string)) })
	}
	out := []map[string]any{}
	for _, r := range recs {
		if r["IsDeleted"] == true {
			continue
		}
		ok := true
		for _, c := range conds {
			if !slices.Contains(c.values, fmt.Sprint(orEmpty(r[c.field]))) {
				ok = false
			}
		}
		if ok {
			out = append(out, s.project(typ, r, fields, v))
		}
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"totalSize": len(out), "done": true, "records": out})
	return http.StatusOK
}
