package dynamicsemu

import (
	"fmt"
	"strconv"
	"strings"
)

// The subset of OData $filter the emulator understands: eq and ne against
// a string, number, boolean or null literal; the string functions
// endswith, startswith and contains; and, or, not and parentheses. Like
// Dataverse, comparisons of strings are case-insensitive and a column the
// entity does not have is an error.

type node interface {
	eval(row map[string]any) bool
}

type orNode struct{ l, r node }

func (n orNode) eval(row map[string]any) bool { return n.l.eval(row) || n.r.eval(row) }

type andNode struct{ l, r node }

func (n andNode) eval(row map[string]any) bool { return n.l.eval(row) && n.r.eval(row) }

type notNode struct{ x node }

func (n notNode) eval(row map[string]any) bool { return !n.x.eval(row) }

type cmpNode struct {
	field string
	op    string // eq, ne, endswith, startswith, contains
	value any    // string, float64, bool or nil
}

func (n cmpNode) eval(row map[string]any) bool {
	v := row[n.field]
	switch n.op {
	case "eq", "ne":
		eq := equal(v, n.value)
		if n.op == "ne" {
			return !eq
		}
		return eq
	}
	s, ok := v.(string)
	lit, _ := n.value.(string)
	if !ok {
		return false
	}
	s, lit = strings.ToLower(s), strings.ToLower(lit)
	switch n.op {
	case "endswith":
		return strings.HasSuffix(s, lit)
	case "startswith":
		return strings.HasPrefix(s, lit)
	default:
		return strings.Contains(s, lit)
	}
}

func equal(v, lit any) bool {
	switch l := lit.(type) {
	case nil:
		return v == nil || v == ""
	case string:
		s, ok := v.(string)
		return ok && strings.EqualFold(s, l)
	case float64:
		switch x := v.(type) {
		case int:
			return float64(x) == l
		case float64:
			return x == l
		}
	case bool:
		b, ok := v.(bool)
		return ok && b == l
	}
	return false
}

// filterError is a $filter the emulator refuses, with Dataverse's code.
type filterError struct {
	code, msg string
}

func (e *filterError) Error() string { return e.msg }

func syntaxError(format string, a ...any) error {
	return &filterError{code: codeQuerySyntax, msg: "Syntax error: " + fmt.Sprintf(format, a...)}
}

type token struct {
	kind byte // 'i' identifier, 's' string, 'n' number, '(' ')' ','
	text string
}

func tokenize(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == ',':
			out = append(out, token{kind: c, text: string(c)})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, syntaxError("unterminated string literal at position %d in $filter", i)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, token{kind: 's', text: b.String()})
			i = j + 1
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && (s[j] == '.' || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			out = append(out, token{kind: 'n', text: s[i:j]})
			i = j
		case c == '_' || c == '@' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] == '.' || (s[j] >= '0' && s[j] <= '9') || (s[j]|0x20 >= 'a' && s[j]|0x20 <= 'z')) {
				j++
			}
			out = append(out, token{kind: 'i', text: s[i:j]})
			i = j
		default:
			return nil, syntaxError("character '%c' at position %d in $filter", c, i)
		}
	}
	return out, nil
}

type parser struct {
	toks    []token
	pos     int
	columns map[string]bool
	entity  string
}

// parseFilter parses a $filter for an entity with the given columns.
func parseFilter(s, entity string, columns map[string]bool) (node, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, columns: columns, entity: entity}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, syntaxError("'%s' at position %d of $filter", p.toks[p.pos].text, p.pos)
	}
	return n, nil
}

func (p *parser) peek() (token, bool) {
	if p.pos >= len(p.toks) {
		return token{}, false
	}
	return p.toks[p.pos], true
}

func (p *parser) next() (token, error) {
	t, ok := p.peek()
	if !ok {
		return token{}, syntaxError("unexpected end of $filter")
	}
	p.pos++
	return t, nil
}

func (p *parser) keyword(k string) bool {
	t, ok := p.peek()
	if ok && t.kind == 'i' && strings.EqualFold(t.text, k) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(kind byte) error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.kind != kind {
		return syntaxError("'%c' expected, found '%s'", kind, t.text)
	}
	return nil
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.keyword("or") {
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) and() (node, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.keyword("and") {
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *parser) unary() (node, error) {
	if p.keyword("not") {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	}
	return p.primary()
}

func (p *parser) column(name string) error {
	if !p.columns[strings.ToLower(name)] {
		return &filterError{code: codeBadProperty, msg: fmt.Sprintf("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", name, p.entity)}
	}
	return nil
}

func (p *parser) literal() (any, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case 's':
		return t.text, nil
	case 'n':
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, syntaxError("bad number '%s'", t.text)
		}
		return f, nil
	case 'i':
		switch strings.ToLower(t.text) {
		case "null":
			return nil, nil
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return nil, syntaxError("literal expected, found '%s'", t.text)
}

func (p *parser) primary() (node, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind == '(' {
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		return n, p.expect(')')
	}
	if t.kind != 'i' {
		return nil, syntaxError("'%s' where a property or function was expected", t.text)
	}
	switch fn := strings.ToLower(t.text); fn {
	case "endswith", "startswith", "contains":
		if err := p.expect('('); err != nil {
			return nil, err
		}
		f, err := p.next()
		if err != nil {
			return nil, err
		}
		if f.kind != 'i' {
			return nil, syntaxError("%s needs a property, found '%s'", fn, f.text)
		}
		if err := p.column(f.text); err != nil {
			return nil, err
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		if _, ok := v.(string); !ok {
			return nil, syntaxError("%s needs a string literal", fn)
		}
		return cmpNode{field: strings.ToLower(f.text), op: fn, value: v}, p.expect(')')
	}
	if err := p.column(t.text); err != nil {
		return nil, err
	}
	op, err := p.next()
	if err != nil {
		return nil, err
	}
	o := strings.ToLower(op.text)
	if op.kind != 'i' || (o != "eq" && o != "ne") {
		return nil, syntaxError("operator '%s' is not supported", op.text)
	}
	v, err := p.literal()
	if err != nil {
		return nil, err
	}
	return cmpNode{field: strings.ToLower(t.text), op: o, value: v}, nil
}
