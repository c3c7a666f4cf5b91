package dynamics

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
	"strings"
	"sync"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/oauth"
	"github.com/nyaruka/phonenumbers"
)

// Dataverse error codes the connector acts on (crm-apis.md §4.4).
const (
	codeDuplicateKey = "0x80040237"
	codeDoesNotExist = "0x80040217"
)

// session is one agent's Dataverse session.
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

// Identity implements crm.Session: the systemuser behind the token.
func (s *session) Identity() crm.Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ident
}

func (s *session) userID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ident.UserID
}

func (s *session) apiPath(p string) string {
	return s.c.cfg.OrgURL + "/api/data/v" + s.c.cfg.APIVersion + "/" + p
}

// request is one Web API call.
type request struct {
	method string
	path   string // relative to the API root: "contacts", "phonecalls(<id>)"
	query  url.Values
	header map[string]string
	body   any
	write  bool
}

// do sends an authenticated request, refreshing the token once on 401 and
// replaying. A status of 300 or more comes back as a classified
// *crm.Error carrying Status and Code.
func (s *session) do(ctx context.Context, r request) ([]byte, error) {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("dynamics: encode request: %w", err)
		}
	}
	u := s.apiPath(r.path)
	if len(r.query) > 0 {
		// OData wants %20 rather than + between words.
		u += "?" + strings.ReplaceAll(r.query.Encode(), "+", "%20")
	}
	for attempt := 0; ; attempt++ {
		at, gen, err := s.tok.Fresh(ctx)
		if err != nil {
			s.dropIfRevoked(err)
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, r.method, u, bytes.NewReader(payload))
		if err != nil {
			return nil, fmt.Errorf("dynamics: request: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+at)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("OData-MaxVersion", "4.0")
		req.Header.Set("OData-Version", "4.0")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
		}
		for k, v := range r.header {
			req.Header.Set(k, v)
		}
		body, status, hdr, err := crm.Send(s.c.cfg.HTTPClient, Name, req, r.write)
		if err != nil {
			return nil, err
		}
		if status == http.StatusUnauthorized && attempt == 0 {
			if err := s.tok.Refresh(ctx, gen); err != nil {
				s.dropIfRevoked(err)
				return nil, err
			}
			continue
		}
		if status >= 300 {
			return nil, apiError(status, hdr, body, r.write)
		}
		return body, nil
	}
}

func (s *session) dropIfRevoked(err error) {
	if oauth.IsRevoked(err) {
		s.c.forget(s.agent, s)
		s.c.cfg.Logger.Warn("sign-in needed: the refresh token was refused", "agent", s.agent)
	}
}

// apiError classifies a Dataverse error answer: the envelope
// {"error":{"code":"0x...","message":...}} when there is one (an HTML page
// of a proxy has only its status). 412 and 0x80040237 mean the record
// already exists; 429 (service protection 0x80072322/1/6) is rate limited
// with Retry-After.
func apiError(status int, hdr http.Header, body []byte, write bool) *crm.Error {
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(body, &env)
	e := crm.StatusError(Name, status, hdr, write, env.Error.Code, env.Error.Message)
	switch {
	case status == http.StatusPreconditionFailed || env.Error.Code == codeDuplicateKey:
		e.Kind = crm.KindAlreadyExists
	case status == http.StatusServiceUnavailable && e.RetryAfter > 0:
		// A throttled server answering 503 with Retry-After.
		e.Kind = crm.KindRateLimited
	}
	return e
}

// badResponse is an answer that cannot be read: a read can simply be
// repeated; a write may have been applied.
func badResponse(what string, err error, write bool) error {
	kind := crm.KindTransient
	if write {
		kind = crm.KindAmbiguous
	}
	return &crm.Error{CRM: Name, Kind: kind, Code: "bad_response", Message: "unreadable " + what + " from Dataverse", Err: err}
}

func isNotFound(err error) bool {
	var e *crm.Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound && e.Code == codeDoesNotExist
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// loadIdentity reads WhoAmI and the systemuser's name.
func (s *session) loadIdentity(ctx context.Context) error {
	body, err := s.do(ctx, request{method: http.MethodGet, path: "WhoAmI"})
	if err != nil {
		return err
	}
	var who struct {
		UserID         string `json:"UserId"`
		OrganizationID string `json:"OrganizationId"`
	}
	if err := json.Unmarshal(body, &who); err != nil || !guidRE.MatchString(who.UserID) {
		return badResponse("WhoAmI answer", err, false)
	}
	id := crm.Identity{UserID: strings.ToLower(who.UserID), OrgID: who.OrganizationID}
	body, err = s.do(ctx, request{method: http.MethodGet, path: "systemusers(" + id.UserID + ")",
		query: url.Values{"$select": {"fullname,domainname"}}})
	if err != nil {
		return err
	}
	var u struct {
		FullName   string `json:"fullname"`
		DomainName string `json:"domainname"`
	}
	if err := json.Unmarshal(body, &u); err != nil {
		return badResponse("systemuser", err, false)
	}
	id.Username, id.Display = u.DomainName, u.FullName
	s.mu.Lock()
	s.ident = id
	s.mu.Unlock()
	return nil
}

// ---- lookup ----

// entity is a table the lookup and search read; phones are its phone
// columns, best first (a record's Phones keep this order).
type entity struct {
	set, name, key, title string
	phones                []string
	search                []string
}

var (
	contacts = entity{set: "contacts", name: "contact", key: "contactid", title: "fullname",
		phones: []string{"telephone1", "telephone2", "mobilephone"}, search: []string{"fullname", "emailaddress1"}}
	accounts = entity{set: "accounts", name: "account", key: "accountid", title: "name",
		phones: []string{"telephone1", "telephone2", "telephone3"}, search: []string{"name"}}
	leads = entity{set: "leads", name: "lead", key: "leadid", title: "fullname",
		phones: []string{"telephone1", "mobilephone"}, search: []string{"fullname", "companyname"}}
)

func (s *session) entities() []entity {
	if s.c.cfg.Leads {
		return []entity{contacts, accounts, leads}
	}
	return []entity{contacts, accounts}
}

// lit quotes an OData string literal.
func lit(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }

func (s *session) query(ctx context.Context, e entity, filter string, top int) ([]map[string]any, error) {
	sel := append([]string{e.key, e.title}, e.phones...)
	body, err := s.do(ctx, request{method: http.MethodGet, path: e.set, query: url.Values{
		"$select": {strings.Join(sel, ",")}, "$filter": {filter}, "$top": {fmt.Sprint(top)}}})
	if err != nil {
		return nil, err
	}
	var res struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, badResponse(e.set+" query answer", err, false)
	}
	return res.Value, nil
}

func str(row map[string]any, k string) string {
	v, _ := row[k].(string)
	return v
}

func (s *session) record(e entity, row map[string]any) domain.CRMRecord {
	rec := domain.CRMRecord{ID: strings.ToLower(str(row, e.key)), Type: e.name, Name: str(row, e.title)}
	rec.URL, _ = s.RecordURL(rec)
	phones := make([]string, 0, len(e.phones))
	for _, f := range e.phones {
		phones = append(phones, str(row, f))
	}
	rec.Phones = s.c.norm.Phones(phones...)
	return rec
}

// phoneFilter is the OData filter for p over fields. The precise form
// matches the E.164, national-digits and the usual printed forms exactly
// and the national number or its last 7 digits at the end of the stored
// text. The broad form matches the last 4 digits at the end, which also
// finds numbers typed with separators ("415-555-1212", "(415) 555 1212");
// the client-side match removes what it over-matches.
func phoneFilter(p crm.Phone, fields []string, broad bool) string {
	nat := p.National
	var terms []string
	for _, f := range fields {
		if broad {
			if len(nat) > 4 {
				terms = append(terms, "endswith("+f+","+lit(nat[len(nat)-4:])+")")
			}
			continue
		}
		for _, v := range printedForms(p) {
			terms = append(terms, f+" eq "+lit(v))
		}
		if nat != "" {
			terms = append(terms, "endswith("+f+","+lit(nat)+")")
			if len(nat) > 7 {
				terms = append(terms, "endswith("+f+","+lit(nat[len(nat)-7:])+")")
			}
		}
	}
	return strings.Join(terms, " or ")
}

// printedForms are the ways p is usually stored: E.164, the national
// digits, and the national and international formats.
func printedForms(p crm.Phone) []string {
	forms := []string{p.E164}
	if p.National != "" {
		forms = append(forms, p.National)
	}
	if num, err := phonenumbers.Parse(p.E164, ""); err == nil {
		forms = append(forms, phonenumbers.Format(num, phonenumbers.NATIONAL), phonenumbers.Format(num, phonenumbers.INTERNATIONAL))
	}
	slices.Sort(forms)
	return slices.Compact(forms)
}

// LookupPhone implements crm.Session: for each table (contacts, accounts,
// leads when configured) a precise and a broad OData query, concurrently;
// every hit is verified client-side with the normaliser and ranked exact
// E.164 first. The precise query finds what is stored in a standard form
// even in a large table; the broad one finds numbers typed with
// separators (it may be cut at its $top in a very large table).
func (s *session) LookupPhone(ctx context.Context, p crm.Phone) ([]domain.CRMRecord, error) {
	if p.E164 == "" {
		return nil, crm.ErrInvalidNumber
	}
	type job struct {
		e    entity
		rows []map[string]any
		err  error
	}
	var jobs []*job
	var wg sync.WaitGroup
	for _, e := range s.entities() {
		for _, broad := range []bool{false, true} {
			filter := phoneFilter(p, e.phones, broad)
			if filter == "" {
				continue
			}
			j := &job{e: e}
			jobs = append(jobs, j)
			top := 50
			if broad {
				top = 100
			}
			wg.Go(func() { j.rows, j.err = s.query(ctx, e, filter, top) })
		}
	}
	wg.Wait()
	best := map[string]int{}
	recs := map[string]domain.CRMRecord{}
	var order []string
	for _, j := range jobs {
		if j.err != nil {
			return nil, j.err
		}
		for _, row := range j.rows {
			id := strings.ToLower(str(row, j.e.key))
			score := 0
			for _, f := range j.e.phones {
				score = max(score, s.c.norm.Match(p, str(row, f)))
			}
			if score == 0 || id == "" {
				continue
			}
			if _, ok := recs[id]; !ok {
				recs[id] = s.record(j.e, row)
				order = append(order, id)
			}
			best[id] = max(best[id], score)
		}
	}
	slices.SortStableFunc(order, func(a, b string) int { return best[b] - best[a] })
	out := make([]domain.CRMRecord, 0, len(order))
	for _, id := range order {
		out = append(out, recs[id])
	}
	return out, nil
}

// Search implements crm.Session: contains() over the names (and e-mail,
// company) of contacts, accounts and leads; a text that is a phone number
// searches by number as well.
func (s *session) Search(ctx context.Context, text string, limit int) ([]domain.CRMRecord, error) {
	text = strings.TrimSpace(text)
	if len([]rune(text)) < 2 {
		return nil, nil
	}
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	var out []domain.CRMRecord
	seen := map[string]bool{}
	add := func(r domain.CRMRecord) {
		if !seen[r.ID] && len(out) < limit {
			seen[r.ID] = true
			out = append(out, r)
		}
	}
	if p, err := s.c.norm.Parse(text); err == nil && len(p.National) >= 7 {
		recs, err := s.LookupPhone(ctx, p)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			add(r)
		}
	}
	for _, e := range s.entities() {
		var terms []string
		for _, f := range e.search {
			terms = append(terms, "contains("+f+","+lit(text)+")")
		}
		rows, err := s.query(ctx, e, strings.Join(terms, " or "), limit)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			if str(row, e.key) != "" {
				add(s.record(e, row))
			}
		}
	}
	return out, nil
}

// ---- URLs ----

// RecordURL implements crm.Session: the record's form in the model-driven
// app (main.aspx?appid=...&pagetype=entityrecord&etn=contact&id=...).
func (s *session) RecordURL(rec domain.CRMRecord) (string, error) {
	if !guidRE.MatchString(rec.ID) {
		return "", fmt.Errorf("dynamics: bad record id %q", rec.ID)
	}
	etn := strings.ToLower(rec.Type)
	switch etn {
	case "contact", "account", "lead", "phonecall", "systemuser":
	case "":
		etn = "contact"
	default:
		return "", fmt.Errorf("dynamics: no screen pop for record type %q", rec.Type)
	}
	q := url.Values{"pagetype": {"entityrecord"}, "etn": {etn}, "id": {strings.ToLower(rec.ID)}}
	if s.c.cfg.AppID != "" {
		q.Set("appid", s.c.cfg.AppID)
	}
	return s.c.cfg.OrgURL + "/main.aspx?" + q.Encode(), nil
}

// NewRecordURL implements crm.Session: a new contact form with the number
// in telephone1.
func (s *session) NewRecordURL(p crm.Phone) (string, error) {
	if p.E164 == "" {
		return "", crm.ErrInvalidNumber
	}
	q := url.Values{"pagetype": {"entityrecord"}, "etn": {"contact"},
		"extraqs": {"telephone1=" + url.QueryEscape(p.E164)}}
	if s.c.cfg.AppID != "" {
		q.Set("appid", s.c.cfg.AppID)
	}
	return s.c.cfg.OrgURL + "/main.aspx?" + q.Encode(), nil
}

// Health implements crm.Session: WhoAmI with this session's token.
func (s *session) Health(ctx context.Context) error {
	_, err := s.do(ctx, request{method: http.MethodGet, path: "WhoAmI"})
	return err
}

// SignOut implements crm.Session. Entra ID has no token revocation
// endpoint for a public client (crm-apis.md §4.1): the tokens are removed
// from the keyring and memory, so nothing on this PC can use them; an
// admin revokes the user's sessions in Entra if the PC is lost.
func (s *session) SignOut(context.Context) error {
	s.c.forget(s.agent, s)
	if err := s.tok.Clear(); err != nil {
		return fmt.Errorf("dynamics sign-out: %w", err)
	}
	s.c.cfg.Logger.Info("signed out", "agent", s.agent)
	return nil
}
