package hubspot

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
	"github.com/callcentre/softphone/secrets"
)

// Record types of domain.CRMRecord.Type.
const (
	TypeContact = "contact"
	TypeCompany = "company"
)

// Session is one agent's HubSpot session (crm.Session).
type Session struct {
	c      *Connector
	agent  string
	static string        // the portal token (AuthPortalToken)
	tokens *oauth.Tokens // the agent's token pair (AuthOAuth)

	mu       sync.Mutex
	ident    crm.Identity
	ownerID  string
	portalID string
	uiDomain string
	disps    map[string]string // lower-case outcome -> GUID, with the portal's outcomes
}

var _ crm.Session = (*Session)(nil)

// AgentID implements crm.Session.
func (s *Session) AgentID() string { return s.agent }

// Identity implements crm.Session: UserID is the HubSpot user id, OrgID
// the portal (hub) id, Username the e-mail address.
func (s *Session) Identity() crm.Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ident
}

// OwnerID is the agent's hubspot_owner_id, written on every call.
func (s *Session) OwnerID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ownerID
}

// PortalID is the HubSpot portal (hub) id.
func (s *Session) PortalID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.portalID
}

// apiEnvelope is HubSpot's error body (crm-apis.md §3.4).
type apiEnvelope struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	Category      string `json:"category"`
	SubCategory   string `json:"subCategory"`
	ErrorType     string `json:"errorType"`
	PolicyName    string `json:"policyName"`
	CorrelationID string `json:"correlationId"`
}

var existingIDRE = regexp.MustCompile(`(?i)existing (?:object )?id:? *(\d+)`)

// policyRetry is the pause when a 429 carries no Retry-After.
func policyRetry(policy string) time.Duration {
	switch policy {
	case "SECONDLY":
		return time.Second
	case "TEN_SECONDLY_ROLLING":
		return 10 * time.Second
	case "DAILY":
		return time.Hour
	}
	return 0
}

// classify maps HubSpot's status and category to the taxonomy.
func classify(status int, hdr http.Header, write bool, env apiEnvelope) *crm.Error {
	code := env.Category
	if status == http.StatusTooManyRequests && env.PolicyName != "" {
		code = env.PolicyName
	}
	if code == "" {
		code = env.ErrorType
	}
	e := crm.StatusError(Name, status, hdr, write, code, env.Message)
	switch {
	case status == http.StatusTooManyRequests:
		if e.RetryAfter <= 0 {
			e.RetryAfter = policyRetry(env.PolicyName)
		}
	case status == http.StatusConflict || env.Category == "CONFLICT":
		e.Kind = crm.KindAlreadyExists
		if m := existingIDRE.FindStringSubmatch(env.Message); m != nil {
			e.ExistingID = m[1]
		}
	}
	return e
}

// apiError classifies a non-2xx answer; an edge page that is not JSON
// keeps only the status.
func apiError(status int, hdr http.Header, body []byte, write bool) *crm.Error {
	var env apiEnvelope
	if json.Unmarshal(body, &env) != nil {
		env = apiEnvelope{}
	}
	return classify(status, hdr, write, env)
}

func badResponse(write bool, what string, err error) *crm.Error {
	k := crm.KindTransient
	if write {
		k = crm.KindAmbiguous
	}
	return &crm.Error{CRM: Name, Kind: k, Code: "bad_response", Message: "unreadable " + what + " response", Err: err}
}

func signInRequired(msg string) *crm.Error {
	return &crm.Error{CRM: Name, Kind: crm.KindAuthRevoked, Status: http.StatusUnauthorized, Code: "INVALID_AUTHENTICATION",
		Message: msg, Err: crm.ErrSignInRequired}
}

// do sends an authenticated request and returns the body and status of a
// 2xx answer (207 multi-status included). A 401 refreshes the OAuth
// token once and replays; with a portal token it means IT's token was
// revoked or rotated: the agent's copy is dropped and a sign-in is
// needed.
func (s *Session) do(ctx context.Context, method, path string, query url.Values, in any, write bool) ([]byte, int, error) {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return nil, 0, fmt.Errorf("hubspot: encode request: %w", err)
		}
	}
	u := s.c.cfg.APIURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	for attempt := 0; ; attempt++ {
		at, gen := s.static, 0
		if s.tokens != nil {
			var err error
			if at, gen, err = s.tokens.Fresh(ctx); err != nil {
				if oauth.IsRevoked(err) {
					s.c.forget(s)
				}
				return nil, 0, err
			}
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
			return nil, 0, fmt.Errorf("hubspot: request: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+at)
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		body, status, hdr, err := s.c.send(req, write)
		if err != nil {
			return nil, 0, err
		}
		if status == http.StatusUnauthorized {
			if s.tokens == nil {
				s.dropPortalToken()
				return nil, 0, signInRequired("the HubSpot portal token was refused (revoked or rotated by IT); sign in again")
			}
			if attempt == 0 {
				if err := s.tokens.Refresh(ctx, gen); err != nil {
					if oauth.IsRevoked(err) {
						s.c.forget(s)
					}
					return nil, 0, err
				}
				continue
			}
		}
		if status < 200 || status >= 300 {
			return nil, status, apiError(status, hdr, body, write)
		}
		return body, status, nil
	}
}

func (s *Session) dropPortalToken() {
	s.c.forget(s)
	kr, acct := s.c.cfg.Keyring, s.c.cfg.Account
	if tok, err := kr.Get(s.agent, acct, secrets.KindAccessToken); err == nil && tok == s.static {
		_ = kr.Delete(s.agent, acct, secrets.KindAccessToken)
	}
}

// setup reads the portal, the signed-in user (OAuth) and the agent's
// owner; check also verifies the call-key property (at sign-in).
func (s *Session) setup(ctx context.Context, email string, check bool) error {
	body, _, err := s.do(ctx, http.MethodGet, "/account-info/v3/details", nil, nil, false)
	if err != nil {
		return err
	}
	var acct struct {
		PortalID json.Number `json:"portalId"`
		UIDomain string      `json:"uiDomain"`
	}
	if err := json.Unmarshal(body, &acct); err != nil || acct.PortalID == "" {
		return badResponse(false, "account-info", err)
	}
	userID := ""
	if s.tokens != nil {
		u, err := s.introspect(ctx)
		if err != nil {
			return err
		}
		userID = u.userID
		if email == "" {
			email = u.email
		}
	}
	if email == "" {
		return &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "no_owner_email",
			Message: "no e-mail address is known for the agent, so calls cannot be attributed to a HubSpot owner", Err: ErrNoOwner}
	}
	owner, err := s.findOwner(ctx, email)
	if err != nil {
		return err
	}
	if userID == "" && owner.UserID != 0 {
		userID = strconv.FormatInt(owner.UserID, 10)
	}
	if check {
		if err := s.checkCallKey(ctx); err != nil {
			return err
		}
	}
	portal := s.portalDispositions(ctx)
	s.mu.Lock()
	s.disps = mergeDispositions(DefaultDispositions, portal, s.c.cfg.Dispositions)
	s.portalID, s.uiDomain, s.ownerID = acct.PortalID.String(), acct.UIDomain, owner.ID
	s.ident = crm.Identity{UserID: userID, OrgID: acct.PortalID.String(), Username: owner.Email,
		Display: strings.TrimSpace(owner.FirstName + " " + owner.LastName)}
	if s.ident.Display == "" {
		s.ident.Display = owner.Email
	}
	s.mu.Unlock()
	return nil
}

// dispositions returns the session's outcome map.
func (s *Session) dispositions() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.disps == nil {
		return s.c.disps
	}
	return s.disps
}

// portalDispositions reads the portal's call outcomes (label -> GUID),
// custom ones included; nil with a warning when they cannot be read (the
// defaults and the configured map still apply).
func (s *Session) portalDispositions(ctx context.Context) map[string]string {
	body, _, err := s.do(ctx, http.MethodGet, "/calling/v1/dispositions", nil, nil, false)
	if err != nil {
		s.c.cfg.Logger.Warn("call outcomes not read; using the defaults", "err", err)
		return nil
	}
	var list []struct {
		ID      string `json:"id"`
		Label   string `json:"label"`
		Deleted bool   `json:"deleted"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		s.c.cfg.Logger.Warn("call outcomes unreadable; using the defaults", "err", err)
		return nil
	}
	out := map[string]string{}
	for _, d := range list {
		if !d.Deleted && d.ID != "" && d.Label != "" {
			out[d.Label] = d.ID
		}
	}
	return out
}

type introspection struct{ userID, email string }

func (s *Session) introspect(ctx context.Context) (introspection, error) {
	secret, err := s.c.clientSecret()
	if err != nil {
		return introspection{}, err
	}
	at, _, err := s.tokens.Fresh(ctx)
	if err != nil {
		return introspection{}, err
	}
	form := url.Values{"client_id": {s.c.cfg.ClientID}, "client_secret": {secret}, "token": {at}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.c.cfg.APIURL+"/oauth/2026-03/token/introspect", strings.NewReader(form.Encode()))
	if err != nil {
		return introspection{}, fmt.Errorf("hubspot: request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	body, status, hdr, err := s.c.send(req, false)
	if err != nil {
		return introspection{}, err
	}
	if status != http.StatusOK {
		e := apiError(status, hdr, body, false)
		if e.Kind == crm.KindAuthExpired {
			e.Kind = crm.KindPermanent // the client was refused, not the token
		}
		return introspection{}, e
	}
	var r struct {
		Active bool        `json:"active"`
		UserID json.Number `json:"user_id"`
		User   string      `json:"user"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return introspection{}, badResponse(false, "introspection", err)
	}
	if !r.Active {
		return introspection{}, signInRequired("HubSpot says the access token is not active")
	}
	return introspection{userID: r.UserID.String(), email: r.User}, nil
}

type owner struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	UserID    int64  `json:"userId"`
	Archived  bool   `json:"archived"`
}

func (s *Session) findOwner(ctx context.Context, email string) (owner, error) {
	body, _, err := s.do(ctx, http.MethodGet, "/crm/v3/owners/", url.Values{"email": {email}, "archived": {"false"}, "limit": {"10"}}, nil, false)
	if err != nil {
		return owner{}, err
	}
	var r struct {
		Results []owner `json:"results"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return owner{}, badResponse(false, "owners", err)
	}
	for _, o := range r.Results {
		if strings.EqualFold(o.Email, email) && !o.Archived && o.ID != "" {
			return o, nil
		}
	}
	return owner{}, &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "no_owner",
		Message: "no active HubSpot user has the agent's e-mail address; ask the HubSpot admin to add the agent as a user", Err: ErrNoOwner}
}

// checkCallKey verifies that the admin created the call-key property with
// unique values; without it a replay could log a call twice.
func (s *Session) checkCallKey(ctx context.Context) error {
	prop := s.c.cfg.CallKeyProperty
	body, _, err := s.do(ctx, http.MethodGet, "/crm/v3/properties/calls/"+url.PathEscape(prop), nil, nil, false)
	var ce *crm.Error
	switch {
	case errors.As(err, &ce) && ce.Status == http.StatusNotFound:
		return &crm.Error{CRM: Name, Kind: crm.KindPermanent, Status: ce.Status, Code: "no_call_key_property",
			Message: fmt.Sprintf("the HubSpot call property %q does not exist; the admin must create it with unique values (see the HubSpot setup)", prop)}
	case errors.As(err, &ce) && ce.Status == http.StatusForbidden:
		s.c.cfg.Logger.Warn("call-key property not checked: the token may not read call properties", "code", ce.Code)
		return nil
	case err != nil:
		return err
	}
	var p struct {
		Name           string `json:"name"`
		HasUniqueValue bool   `json:"hasUniqueValue"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return badResponse(false, "property", err)
	}
	if !p.HasUniqueValue {
		return &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "call_key_not_unique",
			Message: fmt.Sprintf("the HubSpot call property %q must be created with unique values; the admin must recreate it", prop)}
	}
	return nil
}

// ---- lookup ----

type searchFilter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        string `json:"value"`
}

type filterGroup struct {
	Filters []searchFilter `json:"filters"`
}

type searchRequest struct {
	FilterGroups []filterGroup `json:"filterGroups,omitempty"`
	Query        string        `json:"query,omitempty"`
	Properties   []string      `json:"properties"`
	Limit        int           `json:"limit"`
}

type object struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
}

func (o object) prop(k string) string {
	if v := o.Properties[k]; v != nil {
		return *v
	}
	return ""
}

var (
	contactProps = []string{"firstname", "lastname", "email", "phone", "mobilephone", "company", "hubspot_owner_id"}
	companyProps = []string{"name", "domain", "phone"}
)

func eq(prop, v string) filterGroup {
	return filterGroup{Filters: []searchFilter{{PropertyName: prop, Operator: "EQ", Value: v}}}
}

// groups keeps at most five distinct groups (HubSpot's maximum).
func groups(gs ...filterGroup) []filterGroup {
	var out []filterGroup
	for _, g := range gs {
		if g.Filters[0].Value == "" || slices.ContainsFunc(out, func(o filterGroup) bool { return o.Filters[0] == g.Filters[0] }) {
			continue
		}
		if len(out) < 5 {
			out = append(out, g)
		}
	}
	return out
}

func (s *Session) search(ctx context.Context, typ string, req searchRequest) ([]object, error) {
	body, _, err := s.do(ctx, http.MethodPost, "/crm/v3/objects/"+typ+"/search", nil, req, false)
	if err != nil {
		return nil, err
	}
	var r struct {
		Results []object `json:"results"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, badResponse(false, "search", err)
	}
	return r.Results, nil
}

func (s *Session) record(o object, typ string) domain.CRMRecord {
	rec := domain.CRMRecord{ID: o.ID, Type: typ}
	if typ == TypeContact {
		rec.Name = strings.TrimSpace(o.prop("firstname") + " " + o.prop("lastname"))
		if rec.Name == "" {
			rec.Name = o.prop("email")
		}
		rec.Phones = s.c.norm.Phones(o.prop("phone"), o.prop("mobilephone"))
	} else {
		rec.Name = o.prop("name")
		if rec.Name == "" {
			rec.Name = o.prop("domain")
		}
		rec.Phones = s.c.norm.Phones(o.prop("phone"))
	}
	rec.URL, _ = s.RecordURL(rec)
	return rec
}

// LookupPhone implements crm.Session: contacts by the calculated national
// numbers and the stored E.164 forms, companies by phone, every hit
// verified client-side and ranked exact E.164 first (contacts before
// companies at equal rank).
func (s *Session) LookupPhone(ctx context.Context, p crm.Phone) ([]domain.CRMRecord, error) {
	if p.E164 == "" {
		return nil, crm.ErrInvalidNumber
	}
	contacts, err := s.search(ctx, "contacts", searchRequest{Properties: contactProps, Limit: 25, FilterGroups: groups(
		eq("hs_searchable_calculated_phone_number", p.National),
		eq("hs_searchable_calculated_mobile_number", p.National),
		eq("phone", p.E164),
		eq("mobilephone", p.E164),
		eq("phone", p.National),
	)})
	if err != nil {
		return nil, err
	}
	companies, err := s.search(ctx, "companies", searchRequest{Properties: companyProps, Limit: 25, FilterGroups: groups(
		eq("phone", p.E164),
		eq("phone", p.National),
		eq("phone", strings.TrimSpace(p.Raw)),
	)})
	if err != nil {
		return nil, err
	}
	type scored struct {
		score int
		rec   domain.CRMRecord
	}
	var hits []scored
	for _, o := range contacts {
		best := max(s.c.norm.Match(p, o.prop("phone")), s.c.norm.Match(p, o.prop("mobilephone")))
		if best > 0 {
			hits = append(hits, scored{best, s.record(o, TypeContact)})
		}
	}
	for _, o := range companies {
		if best := s.c.norm.Match(p, o.prop("phone")); best > 0 {
			hits = append(hits, scored{best, s.record(o, TypeCompany)})
		}
	}
	slices.SortStableFunc(hits, func(a, b scored) int { return b.score - a.score })
	out := make([]domain.CRMRecord, 0, len(hits))
	for _, h := range hits {
		out = append(out, h.rec)
	}
	return out, nil
}

// Search implements crm.Session: HubSpot's free-text search over contacts,
// then companies.
func (s *Session) Search(ctx context.Context, text string, limit int) ([]domain.CRMRecord, error) {
	text = strings.TrimSpace(text)
	if len(text) < 2 {
		return nil, nil
	}
	if limit <= 0 || limit > 200 {
		limit = 25
	}
	contacts, err := s.search(ctx, "contacts", searchRequest{Query: text, Properties: contactProps, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]domain.CRMRecord, 0, len(contacts))
	for _, o := range contacts {
		out = append(out, s.record(o, TypeContact))
	}
	if len(out) >= limit {
		return out[:limit], nil
	}
	companies, err := s.search(ctx, "companies", searchRequest{Query: text, Properties: companyProps, Limit: limit - len(out)})
	if err != nil {
		return nil, err
	}
	for _, o := range companies {
		out = append(out, s.record(o, TypeCompany))
	}
	return out, nil
}

// ---- URLs ----

func (s *Session) uiBase() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c.cfg.UIURL != "" {
		return s.c.cfg.UIURL, s.portalID
	}
	d := s.uiDomain
	if d == "" {
		d = "app.hubspot.com"
	}
	return "https://" + d, s.portalID
}

var numericID = regexp.MustCompile(`^[0-9]{1,20}$`)

// RecordURL implements crm.Session: the record page
// https://{uiDomain}/contacts/{portalId}/record/0-1/{id} (companies 0-2).
func (s *Session) RecordURL(rec domain.CRMRecord) (string, error) {
	if !numericID.MatchString(rec.ID) {
		return "", fmt.Errorf("hubspot: bad record id %q", rec.ID)
	}
	objType := "0-1"
	switch strings.ToLower(rec.Type) {
	case TypeCompany, "companies":
		objType = "0-2"
	case TypeContact, "contacts", "":
	default:
		return "", fmt.Errorf("hubspot: %w: record type %q", crm.ErrUnsupported, rec.Type)
	}
	base, portal := s.uiBase()
	return base + "/contacts/" + portal + "/record/" + objType + "/" + rec.ID, nil
}

// NewRecordURL implements crm.Session. HubSpot has no URL that opens a
// prefilled new-contact form, so this is the portal's contacts list,
// where the agent clicks "Create contact"; the number is not prefilled.
func (s *Session) NewRecordURL(p crm.Phone) (string, error) {
	if p.E164 == "" {
		return "", crm.ErrInvalidNumber
	}
	base, portal := s.uiBase()
	return base + "/contacts/" + portal + "/objects/0-1/views/all/list", nil
}

// Health implements crm.Session (GET account-info).
func (s *Session) Health(ctx context.Context) error {
	_, _, err := s.do(ctx, http.MethodGet, "/account-info/v3/details", nil, nil, false)
	return err
}

// SignOut implements crm.Session. With OAuth it deletes the refresh token
// at HubSpot and clears the pair from the keyring (even when the revoke
// failed). With the portal token it removes the agent's copy; IT's
// machine-wide token is the portal's and stays.
func (s *Session) SignOut(ctx context.Context) error {
	s.c.forget(s)
	kr, acct := s.c.cfg.Keyring, s.c.cfg.Account
	if s.tokens == nil {
		if err := kr.Delete(s.agent, acct, secrets.KindAccessToken); err != nil && !errors.Is(err, secrets.ErrNotFound) {
			return fmt.Errorf("hubspot sign-out: %w", err)
		}
		return nil
	}
	var revokeErr error
	if rt := s.tokens.RefreshToken(); rt != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, s.c.cfg.APIURL+"/oauth/v1/refresh-tokens/"+url.PathEscape(rt), nil)
		if err == nil {
			var status int
			var body []byte
			var hdr http.Header
			body, status, hdr, revokeErr = s.c.send(req, false)
			if revokeErr == nil && status != http.StatusNoContent && status != http.StatusOK && status != http.StatusNotFound {
				revokeErr = apiError(status, hdr, body, false)
			}
		} else {
			revokeErr = err
		}
	}
	clearErr := s.tokens.Clear()
	if revokeErr != nil {
		revokeErr = fmt.Errorf("hubspot sign-out: revoke: %w", revokeErr)
	}
	return errors.Join(revokeErr, clearErr)
}
