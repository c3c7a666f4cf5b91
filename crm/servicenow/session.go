package servicenow

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/oauth"
)

// session is one agent's ServiceNow session.
type session struct {
	c     *Connector
	agent string
	tok   *oauth.Tokens

	mu    sync.Mutex
	ident crm.Identity
}

var _ crm.Session = (*session)(nil)

// AgentID implements crm.Session.
func (s *session) AgentID() string { return s.agent }

// Identity implements crm.Session: UserID is the agent's sys_user sys_id
// (written as assigned_to), OrgID the instance host.
func (s *session) Identity() crm.Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ident
}

// snRecord is one Table API row: strings, or {link, value} objects for
// reference fields when links are not excluded.
type snRecord map[string]any

func (r snRecord) str(k string) string {
	switch v := r[k].(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["value"].(string)
		return s
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// identityQuery finds the signed-in user's own sys_user row.
func identityQuery() url.Values {
	return url.Values{
		"sysparm_query":                  {"user_name=javascript:gs.getUserName()"},
		"sysparm_fields":                 {"sys_id,user_name,name,email"},
		"sysparm_limit":                  {"1"},
		"sysparm_exclude_reference_link": {"true"},
	}
}

func (s *session) loadIdentity(ctx context.Context) error {
	rows, err := s.list(ctx, "sys_user", identityQuery())
	if err != nil {
		return err
	}
	if len(rows) != 1 || rows[0].str("sys_id") == "" {
		return &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "no_identity",
			Message: "the signed-in user's sys_user record cannot be read; check the user's roles"}
	}
	r := rows[0]
	host := s.c.cfg.InstanceURL
	if u, err := url.Parse(host); err == nil {
		host = u.Host
	}
	s.mu.Lock()
	s.ident = crm.Identity{UserID: r.str("sys_id"), OrgID: host, Username: r.str("user_name"), Display: r.str("name")}
	s.mu.Unlock()
	return nil
}

// agentSysID returns the signed-in user's sys_id, reading it if a resume
// could not.
func (s *session) agentSysID(ctx context.Context) (string, error) {
	if id := s.Identity().UserID; id != "" {
		return id, nil
	}
	if err := s.loadIdentity(ctx); err != nil {
		return "", err
	}
	return s.Identity().UserID, nil
}

// do sends an authenticated request (JSON body when in is non-nil),
// refreshing the access token once on 401 and replaying. write marks
// requests that change data: their transport failures are ambiguous.
func (s *session) do(ctx context.Context, method, path string, query url.Values, in any, write bool) ([]byte, error) {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("servicenow: encode request: %w", err)
		}
	}
	u := s.c.cfg.InstanceURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	for attempt := 0; ; attempt++ {
		at, gen, err := s.tok.Fresh(ctx)
		if err != nil {
			if oauth.IsRevoked(err) {
				s.c.forget(s.agent, s)
			}
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("servicenow: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+at)
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		body, status, hdr, err := crm.Send(s.c.cfg.HTTPClient, Name, req, write)
		if err != nil {
			return nil, err
		}
		if status == http.StatusUnauthorized && attempt == 0 {
			if err := s.tok.Refresh(ctx, gen); err != nil {
				if oauth.IsRevoked(err) {
					s.c.forget(s.agent, s)
				}
				return nil, err
			}
			s.c.cfg.Logger.Info("access token refreshed", "agent", s.agent)
			continue
		}
		if status >= 300 {
			return nil, apiError(status, hdr, body, write)
		}
		return body, nil
	}
}

// apiError classifies an error answer: ServiceNow's envelope
// {"error":{"message","detail"},"status":"failure"} gives the code (the
// message) and the text (the detail); the status gives the kind per
// crm.StatusError (401 expired, 429 rate limited, 5xx transient or
// ambiguous, 400/403/404 permanent: a 403 is an ACL, a data policy or a
// business rule, which no retry fixes). A 429 without Retry-After waits
// for X-RateLimit-Reset.
func apiError(status int, hdr http.Header, body []byte, write bool) *crm.Error {
	var env struct {
		Error struct {
			Message string `json:"message"`
			Detail  any    `json:"detail"`
		} `json:"error"`
	}
	code, msg := "", ""
	if json.Unmarshal(body, &env) == nil {
		code = env.Error.Message
		msg, _ = env.Error.Detail.(string) // null: the status text
	}
	e := crm.StatusError(Name, status, hdr, write, code, msg)
	if e.Kind == crm.KindRateLimited && e.RetryAfter == 0 {
		if n, err := strconv.ParseInt(hdr.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			if d := time.Until(time.Unix(n, 0)); d > 0 {
				e.RetryAfter = d
			}
		}
	}
	return e
}

func badResponse(write bool, what string, err error) *crm.Error {
	kind := crm.KindTransient
	if write {
		kind = crm.KindAmbiguous
	}
	return &crm.Error{CRM: Name, Kind: kind, Code: "bad_response", Message: "unreadable " + what, Err: err}
}

// list runs a Table API v2 query (v2 answers no rows with 200 and []).
func (s *session) list(ctx context.Context, table string, q url.Values) ([]snRecord, error) {
	body, err := s.do(ctx, http.MethodGet, "/api/now/v2/table/"+table, q, nil, false)
	if err != nil {
		return nil, err
	}
	var res struct {
		Result []snRecord `json:"result"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, badResponse(false, table+" list", err)
	}
	return res.Result, nil
}

// ---- lookup ----

// LookupPhone implements crm.Session: each lookup table is queried with
// ENDSWITH on its phone fields (the national number, or its last
// MatchSuffix digits), limited to LookupLimit rows, and every row is
// verified client-side, because the instance silently ignores query
// parts on fields it does not have and returns unfiltered rows. Exact
// E.164 matches come first; a person found in two tables (customer_contact
// extends sys_user) is reported once, from the first table configured.
func (s *session) LookupPhone(ctx context.Context, p crm.Phone) ([]domain.CRMRecord, error) {
	if p.E164 == "" || len(p.National) < 4 {
		return nil, crm.ErrInvalidNumber
	}
	suffix := p.National
	if n := s.c.cfg.MatchSuffix; n > 0 && n < len(suffix) {
		suffix = suffix[len(suffix)-n:]
	}
	type scored struct {
		score int
		rec   domain.CRMRecord
	}
	var hits []scored
	for _, t := range s.c.cfg.LookupTables {
		conds := make([]string, 0, len(t.PhoneFields))
		for i, f := range t.PhoneFields {
			c := f + "ENDSWITH" + suffix
			if i > 0 {
				c = "OR" + c
			}
			conds = append(conds, c)
		}
		qs := strings.Join(conds, "^")
		if t.Filter != "" {
			qs = t.Filter + "^" + qs
		}
		rows, err := s.list(ctx, t.Table, url.Values{
			"sysparm_query":                  {qs},
			"sysparm_fields":                 {strings.Join(slices.Concat([]string{"sys_id", t.NameField}, t.PhoneFields), ",")},
			"sysparm_limit":                  {strconv.Itoa(s.c.cfg.LookupLimit)},
			"sysparm_exclude_reference_link": {"true"},
		})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			best := 0
			for _, f := range t.PhoneFields {
				best = max(best, s.c.norm.Match(p, r.str(f)))
			}
			if best > 0 && r.str("sys_id") != "" {
				hits = append(hits, scored{best, s.toRecord(t, r)})
			}
		}
	}
	slices.SortStableFunc(hits, func(a, b scored) int { return b.score - a.score })
	out := make([]domain.CRMRecord, 0, len(hits))
	seen := map[string]bool{}
	for _, h := range hits {
		// customer_contact extends sys_user: one person can come back from
		// both tables; the first table configured wins.
		if !seen[h.rec.ID] {
			seen[h.rec.ID] = true
			out = append(out, h.rec)
		}
	}
	return out, nil
}

func (s *session) toRecord(t LookupTable, r snRecord) domain.CRMRecord {
	rec := domain.CRMRecord{ID: r.str("sys_id"), Type: t.Table, Name: r.str(t.NameField)}
	rec.URL, _ = s.RecordURL(rec)
	phones := make([]string, 0, len(t.PhoneFields))
	for _, f := range t.PhoneFields {
		phones = append(phones, r.str(f))
	}
	rec.Phones = s.c.norm.Phones(phones...)
	return rec
}

// queryText removes what would change an encoded query's meaning (^
// separates conditions; a newline has no business in it).
var queryText = strings.NewReplacer("^", " ", "\n", " ", "\r", " ")

// Search implements crm.Session: LIKE on each lookup table's search
// fields. Each record carries the table's phone fields (in PhoneFields
// order; E.164 where they parse).
func (s *session) Search(ctx context.Context, text string, limit int) ([]domain.CRMRecord, error) {
	text = strings.TrimSpace(queryText.Replace(text))
	if len(text) < 2 {
		return nil, nil
	}
	if limit <= 0 || limit > 200 {
		limit = 25
	}
	var out []domain.CRMRecord
	for _, t := range s.c.cfg.LookupTables {
		conds := make([]string, 0, len(t.SearchFields))
		for i, f := range t.SearchFields {
			c := f + "LIKE" + text
			if i > 0 {
				c = "OR" + c
			}
			conds = append(conds, c)
		}
		qs := strings.Join(conds, "^")
		if t.Filter != "" {
			qs = t.Filter + "^" + qs
		}
		rows, err := s.list(ctx, t.Table, url.Values{
			"sysparm_query":                  {qs + "^ORDERBY" + t.NameField},
			"sysparm_fields":                 {strings.Join(slices.Concat([]string{"sys_id", t.NameField}, t.PhoneFields), ",")},
			"sysparm_limit":                  {strconv.Itoa(limit - len(out))},
			"sysparm_exclude_reference_link": {"true"},
		})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if id := r.str("sys_id"); id != "" && !slices.ContainsFunc(out, func(x domain.CRMRecord) bool { return x.ID == id }) {
				out = append(out, s.toRecord(t, r))
			}
		}
		if len(out) >= limit {
			break
		}
	}
	return out, nil
}

// ---- URLs ----

var sysIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// RecordURL implements crm.Session: the classic form in the navigation
// frame, {instance}/nav_to.do?uri={table}.do?sys_id={id}, or the record
// in the configured workspace. rec.Type is the table (default the first
// lookup table).
func (s *session) RecordURL(rec domain.CRMRecord) (string, error) {
	if !sysIDRE.MatchString(rec.ID) {
		return "", fmt.Errorf("servicenow: bad sys_id %q", rec.ID)
	}
	table := rec.Type
	if table == "" {
		table = s.c.cfg.LookupTables[0].Table
	}
	if !nameRE.MatchString(table) {
		return "", fmt.Errorf("servicenow: bad table %q", table)
	}
	if ws := s.c.cfg.WorkspacePath; ws != "" {
		return s.c.cfg.InstanceURL + strings.TrimRight(ws, "/") + "/" + table + "/" + rec.ID, nil
	}
	return s.c.cfg.InstanceURL + "/nav_to.do?uri=" + url.QueryEscape(table+".do?sys_id="+rec.ID), nil
}

// NewRecordURL implements crm.Session: a new record form of the first
// lookup table with its first phone field prefilled
// (sys_id=-1&sysparm_query=phone=...).
func (s *session) NewRecordURL(p crm.Phone) (string, error) {
	if p.E164 == "" {
		return "", crm.ErrInvalidNumber
	}
	t := s.c.cfg.LookupTables[0]
	inner := t.Table + ".do?sys_id=-1&sysparm_query=" + url.QueryEscape(t.PhoneFields[0]+"="+p.E164)
	return s.c.cfg.InstanceURL + "/nav_to.do?uri=" + url.QueryEscape(inner), nil
}

// Health implements crm.Session: the signed-in user's sys_user row, and
// the call key field not found missing.
func (s *session) Health(ctx context.Context) error {
	if _, err := s.list(ctx, "sys_user", identityQuery()); err != nil {
		return err
	}
	if s.c.keyFieldMissing.Load() {
		return s.c.keyFieldError()
	}
	return nil
}

// SignOut implements crm.Session: revoke the refresh token at the
// instance (its access tokens go with it), then remove both tokens from
// the keyring even when the revoke failed, so the next agent on this PC
// cannot use them.
func (s *session) SignOut(ctx context.Context) error {
	s.c.forget(s.agent, s)
	var revokeErr error
	if rt := s.tok.RefreshToken(); rt != "" {
		if err := s.c.revoke(ctx, rt); err != nil {
			revokeErr = fmt.Errorf("servicenow sign-out: revoke: %w", err)
		}
	}
	clearErr := s.tok.Clear()
	if clearErr != nil {
		clearErr = fmt.Errorf("servicenow sign-out: %w", clearErr)
	}
	s.c.cfg.Logger.Info("signed out", "agent", s.agent, "revoked", revokeErr == nil)
	return errors.Join(revokeErr, clearErr)
}
