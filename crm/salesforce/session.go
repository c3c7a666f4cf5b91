package salesforce

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
	"github.com/callcentre/softphone/secrets"
)

// session is one agent's Salesforce session.
type session struct {
	c     *Connector
	agent string

	refreshMu sync.Mutex // single-flight refresh

	mu       sync.Mutex
	access   string
	refresh  string
	instance string
	gen      int
	ident    crm.Identity
}

var _ crm.Session = (*session)(nil)

func (s *session) AgentID() string { return s.agent }

func (s *session) Identity() crm.Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ident
}

// persist stores the refresh token before the access token, so a crash in
// between never loses a rotated refresh token.
func (s *session) persist(rt, at string) error {
	kr, acct := s.c.cfg.Keyring, s.c.cfg.Account
	if err := kr.Set(s.agent, acct, secrets.KindRefreshToken, rt); err != nil {
		return fmt.Errorf("salesforce: keep refresh token: %w", err)
	}
	if err := kr.Set(s.agent, acct, secrets.KindAccessToken, at); err != nil {
		return fmt.Errorf("salesforce: keep access token: %w", err)
	}
	return nil
}

func (s *session) loadIdentity(ctx context.Context) error {
	body, err := s.do(ctx, http.MethodGet, "/services/oauth2/userinfo", nil, nil, false)
	if err != nil {
		return err
	}
	var u struct {
		UserID   string `json:"user_id"`
		OrgID    string `json:"organization_id"`
		Username string `json:"preferred_username"`
		Name     string `json:"name"`
	}
	if err := json.Unmarshal(body, &u); err != nil {
		return fmt.Errorf("salesforce: decode userinfo: %w", err)
	}
	s.mu.Lock()
	s.ident = crm.Identity{UserID: u.UserID, OrgID: u.OrgID, Username: u.Username, Display: u.Name}
	s.mu.Unlock()
	return nil
}

func (s *session) token() (string, string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.access, s.instance, s.gen
}

// refreshAccess gets a new access token unless another request already did
// since generation gen.
func (s *session) refreshAccess(ctx context.Context, gen int) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	s.mu.Lock()
	if s.gen != gen {
		s.mu.Unlock()
		return nil
	}
	rt := s.refresh
	s.mu.Unlock()
	tok, err := s.c.tokenRequest(ctx, s.c.cfg.LoginURL, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {s.c.cfg.ClientID},
	})
	if err != nil {
		if crm.KindOf(err) == crm.KindAuthRevoked {
			s.c.forget(s.agent, s)
		}
		return err
	}
	if tok.RefreshToken != "" {
		rt = tok.RefreshToken
	}
	if err := s.persist(rt, tok.AccessToken); err != nil {
		return err
	}
	s.mu.Lock()
	s.access, s.refresh, s.gen = tok.AccessToken, rt, s.gen+1
	if tok.InstanceURL != "" {
		s.instance = strings.TrimRight(tok.InstanceURL, "/")
	}
	s.mu.Unlock()
	s.c.cfg.Logger.Info("access token refreshed", "agent", s.agent)
	return nil
}

func (c *Connector) forget(agentID string, s *session) {
	c.mu.Lock()
	if c.sessions[agentID] == s {
		delete(c.sessions, agentID)
	}
	c.mu.Unlock()
}

// do sends an authenticated request (JSON body when in is non-nil),
// refreshing once on 401 and replaying. write marks requests that change
// data: their transport failures are ambiguous.
func (s *session) do(ctx context.Context, method, path string, query url.Values, in any, write bool) ([]byte, error) {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("salesforce: encode request: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		at, base, gen := s.token()
		u := base + path
		if len(query) > 0 {
			u += "?" + query.Encode()
		}
		var rd *bytes.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		var req *http.Request
		var err error
		if rd != nil {
			req, err = http.NewRequestWithContext(ctx, method, u, rd)
		} else {
			req, err = http.NewRequestWithContext(ctx, method, u, nil)
		}
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+at)
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		body, status, hdr, err := s.c.send(req, write)
		if err != nil {
			return nil, err
		}
		if status == http.StatusUnauthorized && attempt == 0 {
			if err := s.refreshAccess(ctx, gen); err != nil {
				return nil, err
			}
			continue
		}
		if status >= 300 {
			return nil, apiError(status, hdr, body)
		}
		return body, nil
	}
}

// sfError is Salesforce's error element; collections use statusCode.
type sfError struct {
	Message    string   `json:"message"`
	ErrorCode  string   `json:"errorCode"`
	StatusCode string   `json:"statusCode"`
	Fields     []string `json:"fields"`
}

var dupIDRE = regexp.MustCompile(`record with id: (\w{15,18})`)

// classify maps a Salesforce error code (crm-apis.md §2.6).
func classify(status int, code, msg string, fields []string) *crm.Error {
	e := &crm.Error{CRM: Name, Status: status, Code: code, Message: msg, Fields: fields, Kind: crm.KindPermanent}
	switch code {
	case "INVALID_SESSION_ID":
		e.Kind = crm.KindAuthExpired
	case "REQUEST_LIMIT_EXCEEDED":
		e.Kind = crm.KindRateLimited
	case "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "UNKNOWN_EXCEPTION":
		e.Kind = crm.KindTransient
	case "DUPLICATE_VALUE":
		e.Kind = crm.KindAlreadyExists
		if m := dupIDRE.FindStringSubmatch(msg); m != nil {
			e.ExistingID = m[1]
		}
	case "ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY":
		e.Kind = crm.KindStaleReference
	case "":
		switch {
		case status == http.StatusTooManyRequests:
			e.Kind = crm.KindRateLimited
		case status >= 500:
			e.Kind = crm.KindTransient
		}
	}
	return e
}

func apiError(status int, hdr http.Header, body []byte) error {
	var errs []sfError
	var e *crm.Error
	if json.Unmarshal(body, &errs) == nil && len(errs) > 0 {
		code := errs[0].ErrorCode
		if code == "" {
			code = errs[0].StatusCode
		}
		e = classify(status, code, errs[0].Message, errs[0].Fields)
	} else {
		// Edge and maintenance pages are HTML: keep only the status.
		e = classify(status, "", http.StatusText(status), nil)
	}
	if status >= 500 && e.Kind == crm.KindPermanent {
		e.Kind = crm.KindTransient
	}
	if ra := hdr.Get("Retry-After"); ra != "" {
		if n, err := strconv.Atoi(ra); err == nil {
			e.RetryAfter = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			e.RetryAfter = time.Until(t)
		}
	}
	return e
}

func (s *session) dataPath(p string) string { return "/services/data/v" + s.c.cfg.APIVersion + p }

// ---- lookup ----

type searchRecord map[string]any

func (r searchRecord) str(k string) string {
	v, _ := r[k].(string)
	return v
}

func (r searchRecord) typ() string {
	a, _ := r["attributes"].(map[string]any)
	t, _ := a["type"].(string)
	return t
}

var soslEscaper = strings.NewReplacer(`\`, `\\`, `&`, `\&`, `|`, `\|`, `!`, `\!`, `(`, `\(`, `)`, `\)`,
	`{`, `\{`, `}`, `\}`, `[`, `\[`, `]`, `\]`, `^`, `\^`, `"`, `\"`, `~`, `\~`, `*`, `\*`, `?`, `\?`,
	`:`, `\:`, `'`, `\'`, `+`, `\+`, `-`, `\-`)

func (s *session) returning() string {
	contact := "Contact(Id, Name, Phone, MobilePhone, HomePhone, OtherPhone, AccountId LIMIT 10)"
	account := "Account(Id, Name, Phone LIMIT 10)"
	if s.c.cfg.PersonAccounts {
		account = "Account(Id, Name, Phone, IsPersonAccount, PersonMobilePhone LIMIT 10)"
	}
	return contact + ", Lead(Id, Name, Company, Phone, MobilePhone WHERE IsConverted = false LIMIT 10), " + account
}

func (s *session) sosl(ctx context.Context, q string) ([]searchRecord, error) {
	body, err := s.do(ctx, http.MethodGet, s.dataPath("/search/"), url.Values{"q": {q}}, nil, false)
	if err != nil {
		return nil, err
	}
	var res struct {
		SearchRecords []searchRecord `json:"searchRecords"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, &crm.Error{CRM: Name, Kind: crm.KindTransient, Code: "bad_response", Message: "unreadable search response", Err: err}
	}
	return res.SearchRecords, nil
}

func (s *session) toRecord(r searchRecord) domain.CRMRecord {
	typ := r.typ()
	if typ == "Account" && r["IsPersonAccount"] == true {
		typ = "PersonAccount"
	}
	rec := domain.CRMRecord{ID: r.str("Id"), Type: typ, Name: r.str("Name")}
	rec.URL, _ = s.RecordURL(rec)
	phones := make([]string, 0, len(phoneFields))
	for _, f := range phoneFields {
		phones = append(phones, r.str(f))
	}
	rec.Phones = s.c.norm.Phones(phones...)
	return rec
}

// phoneFields are the phone fields the searches return, best first.
var phoneFields = []string{"Phone", "MobilePhone", "PersonMobilePhone", "HomePhone", "OtherPhone"}

// LookupPhone implements crm.Session: SOSL over phone fields with the
// E.164 digits and the national number, then client-side verification.
func (s *session) LookupPhone(ctx context.Context, p crm.Phone) ([]domain.CRMRecord, error) {
	terms := []string{p.Digits()}
	if p.National != "" && p.National != p.Digits() {
		terms = append(terms, p.National)
	}
	q := "FIND {" + strings.Join(terms, " OR ") + "} IN PHONE FIELDS RETURNING " + s.returning() + " LIMIT 25"
	recs, err := s.sosl(ctx, q)
	if err != nil {
		return nil, err
	}
	type scored struct {
		score int
		rec   domain.CRMRecord
	}
	var hits []scored
	for _, r := range recs {
		best := 0
		for _, f := range phoneFields {
			best = max(best, s.c.norm.Match(p, r.str(f)))
		}
		if best > 0 {
			hits = append(hits, scored{best, s.toRecord(r)})
		}
	}
	slices.SortStableFunc(hits, func(a, b scored) int { return b.score - a.score })
	out := make([]domain.CRMRecord, 0, len(hits))
	for _, h := range hits {
		out = append(out, h.rec)
	}
	return out, nil
}

// Search implements crm.Session: SOSL over name fields. Each record
// carries its phone numbers (Phone, MobilePhone, PersonMobilePhone,
// HomePhone, OtherPhone; E.164 where they parse).
func (s *session) Search(ctx context.Context, text string, limit int) ([]domain.CRMRecord, error) {
	text = strings.TrimSpace(text)
	if len(text) < 2 {
		return nil, nil
	}
	if limit <= 0 || limit > 200 {
		limit = 25
	}
	q := "FIND {" + soslEscaper.Replace(text) + "} IN NAME FIELDS RETURNING " + s.returning() + " LIMIT " + strconv.Itoa(limit)
	recs, err := s.sosl(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]domain.CRMRecord, 0, len(recs))
	for _, r := range recs {
		out = append(out, s.toRecord(r))
	}
	return out, nil
}

// ---- URLs ----

func (s *session) lightningBase() string {
	if s.c.cfg.LightningURL != "" {
		return strings.TrimRight(s.c.cfg.LightningURL, "/")
	}
	_, base, _ := s.token()
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	if h, ok := strings.CutSuffix(u.Hostname(), ".my.salesforce.com"); ok {
		u.Host = h + ".lightning.force.com"
	}
	return strings.TrimRight(u.String(), "/")
}

var idRE = regexp.MustCompile(`^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$`)

// RecordURL implements crm.Session: the Lightning record page.
func (s *session) RecordURL(rec domain.CRMRecord) (string, error) {
	if !idRE.MatchString(rec.ID) {
		return "", fmt.Errorf("salesforce: bad record id %q", rec.ID)
	}
	typ := rec.Type
	switch typ {
	case "PersonAccount":
		typ = "Account"
	case "":
		typ = typeOfID(rec.ID)
	}
	return s.lightningBase() + "/lightning/r/" + url.PathEscape(typ) + "/" + rec.ID + "/view", nil
}

// NewRecordURL implements crm.Session: a new Contact prefilled with the
// number.
func (s *session) NewRecordURL(p crm.Phone) (string, error) {
	if p.E164 == "" {
		return "", crm.ErrInvalidNumber
	}
	return s.lightningBase() + "/lightning/o/Contact/new?defaultFieldValues=" + url.QueryEscape("Phone="+p.E164), nil
}

func typeOfID(id string) string {
	switch {
	case strings.HasPrefix(id, "003"):
		return "Contact"
	case strings.HasPrefix(id, "00Q"):
		return "Lead"
	case strings.HasPrefix(id, "001"):
		return "Account"
	}
	return ""
}

// Health implements crm.Session (GET limits).
func (s *session) Health(ctx context.Context) error {
	_, err := s.do(ctx, http.MethodGet, s.dataPath("/limits"), nil, nil, false)
	return err
}

// SignOut implements crm.Session: revoke the refresh token (and with it
// its access tokens), then remove both from the keyring even when the
// revoke failed, so the next agent on this PC cannot use them.
func (s *session) SignOut(ctx context.Context) error {
	s.mu.Lock()
	rt, base := s.refresh, s.instance
	s.mu.Unlock()
	s.c.forget(s.agent, s)
	var revokeErr error
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/services/oauth2/revoke",
		strings.NewReader(url.Values{"token": {rt}}.Encode()))
	if err == nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		var status int
		_, status, _, revokeErr = s.c.send(req, false)
		if revokeErr == nil && status != http.StatusOK {
			revokeErr = &crm.Error{CRM: Name, Kind: crm.KindPermanent, Status: status, Code: "revoke_failed", Message: "token revocation refused"}
		}
	} else {
		revokeErr = err
	}
	kr, acct := s.c.cfg.Keyring, s.c.cfg.Account
	var delErrs []error
	for _, k := range []secrets.Kind{secrets.KindAccessToken, secrets.KindRefreshToken} {
		if err := kr.Delete(s.agent, acct, k); err != nil && !errors.Is(err, secrets.ErrNotFound) {
			delErrs = append(delErrs, err)
		}
	}
	if revokeErr != nil {
		revokeErr = fmt.Errorf("salesforce sign-out: revoke: %w", revokeErr)
	}
	return errors.Join(revokeErr, errors.Join(delErrs...))
}
