package servicenowemu

import (
	"slices"
	"strings"
)

// An encoded query (sysparm_query) as ServiceNow reads it: "^NQ" separates
// alternatives (new query), "^" separates conditions that must all hold,
// a condition starting with "OR" is an alternative of the condition before
// it (it binds tighter than "^"), and ORDERBY/ORDERBYDESC terms sort.
// Conditions on a field the table does not have are silently dropped, as
// ServiceNow does unless glide.invalid_query.returns_no_rows is true.

type cond struct {
	field, op, value string
}

type clause []cond // alternatives: any may hold

type query struct {
	groups  [][]clause // alternatives (^NQ) of conjunctions
	orderBy string
	desc    bool
	invalid bool // a condition named an unknown field
}

// operators, longest first so that "!=" wins over "=" and "NOT LIKE" over
// "LIKE".
var operators = []string{"ISNOTEMPTY", "ISEMPTY", "STARTSWITH", "ENDSWITH", "NOT LIKE", "NOTLIKE", "NOT IN",
	"LIKE", "IN", "!=", ">=", "<=", "=", ">", "<"}

func isFieldChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

func parseCond(term string) (cond, bool) {
	i := 0
	for i < len(term) && isFieldChar(term[i]) {
		i++
	}
	if i == 0 {
		return cond{}, false
	}
	rest := term[i:]
	for _, op := range operators {
		if v, ok := strings.CutPrefix(rest, op); ok {
			return cond{field: term[:i], op: op, value: v}, true
		}
	}
	return cond{}, false
}

// parseQuery reads q for a table with the given fields; vars replaces
// javascript:gs.getUserName() and friends.
func parseQuery(q string, fields map[string]bool, vars map[string]string) query {
	var out query
	if strings.TrimSpace(q) == "" {
		out.groups = [][]clause{nil}
		return out
	}
	for _, g := range strings.Split(q, "^NQ") {
		var conj []clause
		for _, term := range strings.Split(g, "^") {
			switch {
			case term == "" || term == "EQ":
				continue
			case strings.HasPrefix(term, "ORDERBYDESC"):
				out.orderBy, out.desc = strings.TrimPrefix(term, "ORDERBYDESC"), true
				continue
			case strings.HasPrefix(term, "ORDERBY"):
				out.orderBy, out.desc = strings.TrimPrefix(term, "ORDERBY"), false
				continue
			}
			alt := false
			if t, ok := strings.CutPrefix(term, "OR"); ok {
				term, alt = t, true
			}
			c, ok := parseCond(term)
			if !ok || !fields[c.field] {
				out.invalid = true
				continue
			}
			if v, ok := vars[c.value]; ok {
				c.value = v
			}
			if alt && len(conj) > 0 {
				conj[len(conj)-1] = append(conj[len(conj)-1], c)
			} else {
				conj = append(conj, clause{c})
			}
		}
		out.groups = append(out.groups, conj)
	}
	if !fields[out.orderBy] {
		out.orderBy = ""
	}
	return out
}

func (c cond) holds(r Record) bool {
	v := r[c.field]
	lv, lc := strings.ToLower(v), strings.ToLower(c.value)
	switch c.op {
	case "=":
		return strings.EqualFold(v, c.value)
	case "!=":
		return !strings.EqualFold(v, c.value)
	case "LIKE":
		return strings.Contains(lv, lc)
	case "NOT LIKE", "NOTLIKE":
		return !strings.Contains(lv, lc)
	case "STARTSWITH":
		return strings.HasPrefix(lv, lc)
	case "ENDSWITH":
		return strings.HasSuffix(lv, lc)
	case "ISEMPTY":
		return v == ""
	case "ISNOTEMPTY":
		return v != ""
	case "IN":
		return slices.ContainsFunc(strings.Split(c.value, ","), func(s string) bool { return strings.EqualFold(s, v) })
	case "NOT IN":
		return !slices.ContainsFunc(strings.Split(c.value, ","), func(s string) bool { return strings.EqualFold(s, v) })
	case ">":
		return v > c.value
	case "<":
		return v < c.value
	case ">=":
		return v >= c.value
	case "<=":
		return v <= c.value
	}
	return false
}

func (q query) matches(r Record) bool {
	for _, g := range q.groups {
		ok := true
		for _, cl := range g {
			if !slices.ContainsFunc(cl, func(c cond) bool { return c.holds(r) }) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
