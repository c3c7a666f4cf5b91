package zendesk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/oauth"
)

// Record types of the domain.CRMRecords the connector returns and pops.
const (
	TypeUser         = "user"
	TypeTicket       = "ticket"
	TypeOrganization = "organization"
)

// Session is one agent's Zendesk session: a crm.Session and, with
// Config.TalkDisplay, a crm.ServerPopper. It is safe for concurrent use.
type Session struct {
	c      *Connector
	agent  string
	tokens *oauth.Tokens

	mu     sync.Mutex
	ident  crm.Identity
	userID int64 // the signed-in Zendesk user (ticket assignee); 0 until read
}

var (
	_ crm.Session      = (*Session)(nil)
	_ crm.ServerPopper = (*Session)(nil)
)

// AgentID implements crm.Session.
func (s *Session) AgentID() string { return s.agent }

// Identity implements crm.Session: the Zendesk user (id, email, name) and
// the subdomain as OrgID. Empty until Zendesk answered once after a
// resume.
func (s *Session) Identity() crm.Identity {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ident
}

// response is a successful API answer.
type response struct {
	body   []byte
	status int
	header http.Header
}

// do sends an authenticated request with a JSON body when in is non-nil,
// refreshing the access token once on 401 and replaying. write marks
// requests that create data: their transport failures are ambiguous. An
// HTTP error status comes back as a classified *crm.Error.
func (s *Session) do(ctx context.Context, method, path string, query url.Values, header http.Header, in any, write bool) (response, error) {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return response{}, fmt.Errorf("zendesk: encode request: %w", err)
		}
	}
	u := s.c.cfg.BaseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	for attempt := 0; ; attempt++ {
		at, gen, err := s.tokens.Fresh(ctx)
		if err != nil {
			return response{}, s.tokenFailed(err)
		}
		var rd *bytes.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		var req *http.Request
		if rd != nil {
			req, err = http.NewRequestWithContext(ctx, method, u, rd)
		} else {
			req, err = http.NewRequestWithContext(ctx, method, u, nil)
		}
		if err != nil {
			return response{}, fmt.Errorf("zendesk: build request: %w", err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("Authorization", "Bearer "+at)
		req.Header.Set("Accept", "application/json")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		body, status, hdr, err := crm.Send(s.c.cfg.HTTPClient, Name, req, write)
		if err != nil {
			return response{}, err
		}
		if status == http.StatusUnauthorized && attempt == 0 {
			if err := s.tokens.Refresh(ctx, gen); err != nil {
				return response{}, s.tokenFailed(err)
			}
			s.c.cfg.Logger.Info("access token refreshed", "agent", s.agent)
			continue
		}
		if status >= 300 {
			return response{}, apiError(status, hdr, body, write)
		}
		return response{body: body, status: status, header: hdr}, nil
	}
}

// tokenFailed drops the session when its refresh token is dead (the
// keyring is already cleared by oauth.Tokens). A failure that is not
// Zendesk's answer (the keyring refused to keep the new access token
// after the rotated refresh token was kept) reloads the pair from the
// keyring: Zendesk has already invalidated the refresh token held in
// memory, and refreshing with it would be refused and sign the agent out.
func (s *Session) tokenFailed(err error) error {
	var ce *crm.Error
	switch {
	case oauth.IsRevoked(err):
		s.c.forget(s.agent, s)
		s.c.cfg.Logger.Warn("zendesk sign-in revoked; the agent must sign in again", "agent", s.agent)
	case !errors.As(err, &ce) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
		if lerr := s.tokens.Load(); lerr != nil {
			s.c.cfg.Logger.Warn("tokens not reloaded from the keyring", "agent", s.agent, "err", lerr)
		}
	}
	return err
}

// zdError is Zendesk's error envelope: "error" is a code string (or, on
// some endpoints, an object with title and message), with "description"
// or the OAuth "error_description", and "details" per field for
// RecordInvalid.
type zdError struct {
	Error            json.RawMessage `json:"error"`
	Description      string          `json:"description"`
	ErrorDescription string          `json:"error_description"`
	Details          map[string][]struct {
		Description string `json:"description"`
		Error       string `json:"error"`
	} `json:"details"`
}

// apiError classifies an error answer (crm-apis.md §6.4): 401 expired
// token, 429 rate limited with Retry-After, 409 a concurrent update to
// retry, 422 RecordInvalid permanent with its details (a dead or merged
// requester is a stale reference), 5xx transient (ambiguous for a
// write), other statuses permanent. Unreadable bodies keep the status.
func apiError(status int, hdr http.Header, body []byte, write bool) *crm.Error {
	var env zdError
	var code, msg string
	if json.Unmarshal(body, &env) == nil {
		if json.Unmarshal(env.Error, &code) != nil {
			var obj struct{ Title, Message string }
			if json.Unmarshal(env.Error, &obj) == nil {
				code, msg = obj.Title, obj.Message
			}
		}
		if env.Description != "" {
			msg = env.Description
		} else if env.ErrorDescription != "" {
			msg = env.ErrorDescription
		}
	}
	var fields, details []string
	for f, ds := range env.Details {
		fields = append(fields, f)
		for _, d := range ds {
			if d.Description != "" {
				details = append(details, d.Description)
			}
		}
	}
	sort.Strings(fields)
	sort.Strings(details)
	if len(details) > 0 {
		msg = strings.TrimSpace(msg + ": " + strings.Join(details, "; "))
	}
	e := crm.StatusError(Name, status, hdr, write, code, msg)
	if e.Message == "" {
		e.Message = "http status " + strconv.Itoa(status)
	}
	e.Fields = fields
	switch {
	case status == http.StatusConflict:
		// A concurrent update (or the same idempotency key in flight):
		// nothing was applied by this request.
		e.Kind = crm.KindTransient
	case status == http.StatusUnprocessableEntity && slices.Contains(fields, "requester"):
		e.Kind = crm.KindStaleReference
	}
	return e
}

func badResponse(what string, err error, write bool) *crm.Error {
	k := crm.KindTransient
	if write {
		k = crm.KindAmbiguous
	}
	return &crm.Error{CRM: Name, Kind: k, Code: "bad_response", Message: "unreadable " + what, Err: err}
}

// zdUser is the part of a Zendesk user the connector reads.
type zdUser struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
	Role  string `json:"role"`
}

func (s *Session) loadIdentity(ctx context.Context) error {
	r, err := s.do(ctx, http.MethodGet, "/api/v2/users/me.json", nil, nil, nil, false)
	if err != nil {
		return err
	}
	var me struct {
		User *zdUser `json:"user"`
	}
	if err := json.Unmarshal(r.body, &me); err != nil || me.User == nil || me.User.ID == 0 {
		return badResponse("signed-in user", err, false)
	}
	s.mu.Lock()
	s.userID = me.User.ID
	s.ident = crm.Identity{UserID: strconv.FormatInt(me.User.ID, 10), OrgID: s.c.cfg.Subdomain,
		Username: me.User.Email, Display: me.User.Name}
	s.mu.Unlock()
	return nil
}

// agentUserID returns the signed-in Zendesk user's id, reading it first
// when a resume could not.
func (s *Session) agentUserID(ctx context.Context) (int64, error) {
	s.mu.Lock()
	id := s.userID
	s.mu.Unlock()
	if id != 0 {
		return id, nil
	}
	if err := s.loadIdentity(ctx); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.userID, nil
}

// ---- lookup ----

// searchUsers runs one user search.
func (s *Session) searchUsers(ctx context.Context, query string, perPage int) ([]zdUser, error) {
	q := url.Values{"query": {query}}
	if perPage > 0 {
		q.Set("per_page", strconv.Itoa(perPage))
	}
	r, err := s.do(ctx, http.MethodGet, "/api/v2/users/search.json", q, nil, nil, false)
	if err != nil {
		return nil, err
	}
	var res struct {
		Users []zdUser `json:"users"`
	}
	if err := json.Unmarshal(r.body, &res); err != nil {
		return nil, badResponse("user search", err, false)
	}
	return res.Users, nil
}

func (s *Session) userRecord(u zdUser) domain.CRMRecord {
	rec := domain.CRMRecord{ID: strconv.FormatInt(u.ID, 10), Type: TypeUser, Name: u.Name, Phones: s.c.norm.Phones(u.Phone)}
	rec.URL, _ = s.RecordURL(rec)
	return rec
}

// LookupPhone implements crm.Session: phone:+E164 and phone:NATIONAL
// user searches, every hit verified with the normaliser, exact E.164
// matches first; several matches are all returned.
func (s *Session) LookupPhone(ctx context.Context, p crm.Phone) ([]domain.CRMRecord, error) {
	if p.E164 == "" {
		return nil, crm.ErrInvalidNumber
	}
	terms := []string{p.E164}
	if p.National != "" && p.National != p.Digits() {
		terms = append(terms, p.National)
	}
	type scored struct {
		score int
		rec   domain.CRMRecord
	}
	var hits []scored
	seen := map[int64]bool{}
	for _, t := range terms {
		users, err := s.searchUsers(ctx, "phone:"+t, 100)
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			if seen[u.ID] || u.ID == 0 {
				continue
			}
			seen[u.ID] = true
			if sc := s.c.norm.Match(p, u.Phone); sc > 0 {
				hits = append(hits, scored{sc, s.userRecord(u)})
			}
		}
	}
	slices.SortStableFunc(hits, func(a, b scored) int { return b.score - a.score })
	out := make([]domain.CRMRecord, 0, len(hits))
	for _, h := range hits {
		out = append(out, h.rec)
	}
	return out, nil
}

// searchCleaner keeps free text from being read as search syntax
// (field:value, quotes, exclusions).
var searchCleaner = strings.NewReplacer(`"`, " ", `:`, " ", `*`, " ")

// Search implements crm.Session: a free-text user search (name, email,
// phone) for click-to-dial. Each record carries the user's phone (E.164
// where it parses).
func (s *Session) Search(ctx context.Context, text string, limit int) ([]domain.CRMRecord, error) {
	text = strings.TrimSpace(searchCleaner.Replace(text))
	text = strings.TrimLeft(text, "-")
	if len(text) < 2 {
		return nil, nil
	}
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	users, err := s.searchUsers(ctx, text, limit)
	if err != nil {
		return nil, err
	}
	out := make([]domain.CRMRecord, 0, min(len(users), limit))
	for _, u := range users {
		if len(out) == limit {
			break
		}
		out = append(out, s.userRecord(u))
	}
	return out, nil
}

// ---- URLs and pops ----

func numericID(id string) (int64, bool) {
	n, err := strconv.ParseInt(id, 10, 64)
	return n, err == nil && n > 0
}

// RecordURL implements crm.Session: the agent workspace page of a user,
// ticket or organization.
func (s *Session) RecordURL(rec domain.CRMRecord) (string, error) {
	if _, ok := numericID(rec.ID); !ok {
		return "", fmt.Errorf("zendesk: bad record id %q", rec.ID)
	}
	switch rec.Type {
	case TypeUser, "":
		return s.c.cfg.BaseURL + "/agent/users/" + rec.ID, nil
	case TypeTicket:
		return s.c.cfg.BaseURL + "/agent/tickets/" + rec.ID, nil
	case TypeOrganization:
		return s.c.cfg.BaseURL + "/agent/organizations/" + rec.ID, nil
	}
	return "", fmt.Errorf("zendesk: %w: no page for record type %q", crm.ErrUnsupported, rec.Type)
}

// NewRecordURL implements crm.Session. The agent workspace has no
// prefilled new-user form, so this opens its search for the number, from
// which the agent adds the user.
func (s *Session) NewRecordURL(p crm.Phone) (string, error) {
	if p.E164 == "" {
		return "", crm.ErrInvalidNumber
	}
	return s.c.cfg.BaseURL + "/agent/search/1?q=" + url.QueryEscape(p.E164), nil
}

// PopRecord implements crm.ServerPopper with the Talk Partner Edition
// display API: the record opens in the agent's Zendesk tab. It reports
// false (the caller opens the URL instead) when TalkDisplay is off, when
// Zendesk refuses (403: no Talk Partner Edition) or cannot find the agent
// online or the record (404).
func (s *Session) PopRecord(ctx context.Context, rec domain.CRMRecord) (bool, error) {
	if !s.c.cfg.TalkDisplay {
		return false, nil
	}
	if _, ok := numericID(rec.ID); !ok {
		return false, fmt.Errorf("zendesk: bad record id %q", rec.ID)
	}
	kind := "users"
	switch rec.Type {
	case TypeUser, "":
	case TypeTicket:
		kind = "tickets"
	default:
		return false, nil
	}
	agent, err := s.agentUserID(ctx)
	if err != nil {
		return false, err
	}
	path := fmt.Sprintf("/api/v2/channels/voice/agents/%d/%s/%s/display.json", agent, kind, rec.ID)
	_, err = s.do(ctx, http.MethodPost, path, nil, nil, nil, false)
	var ce *crm.Error
	if errors.As(err, &ce) && (ce.Status == http.StatusNotFound || ce.Status == http.StatusForbidden) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, nil
}

// Health implements crm.Session: the signed-in user answers.
func (s *Session) Health(ctx context.Context) error { return s.loadIdentity(ctx) }

// SignOut implements crm.Session: revoke the OAuth token at Zendesk
// (DELETE /api/v2/oauth/tokens/current.json, which kills the access and
// the refresh token), then remove both from the keyring even when the
// revoke failed, so the next agent on this PC cannot use them.
func (s *Session) SignOut(ctx context.Context) error {
	s.c.forget(s.agent, s)
	_, revokeErr := s.do(ctx, http.MethodDelete, "/api/v2/oauth/tokens/current.json", nil, nil, nil, false)
	if oauth.IsRevoked(revokeErr) {
		revokeErr = nil // nothing left to revoke
	}
	clearErr := s.tokens.Clear()
	if revokeErr != nil {
		revokeErr = fmt.Errorf("zendesk sign-out: revoke: %w", revokeErr)
	}
	if clearErr != nil {
		clearErr = fmt.Errorf("zendesk sign-out: clear keyring: %w", clearErr)
	}
	s.c.cfg.Logger.Info("signed out", "agent", s.agent, "revoked", revokeErr == nil)
	return errors.Join(revokeErr, clearErr)
}
