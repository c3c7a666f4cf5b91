package zendeskemu

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/callcentre/softphone/crm/emukit"
)

// Defaults.
const (
	// DefaultClientID is the OAuth client (kind public) the emulator
	// registers.
	DefaultClientID = "softphone_desktop"
	// DefaultIdempotencyWindow is how long an Idempotency-Key is
	// remembered (Zendesk documents hours; the exact figure is unverified).
	DefaultIdempotencyWindow = 2 * time.Hour
	// DefaultRateLimit is the X-Rate-Limit figure reported (Enterprise).
	DefaultRateLimit = 700

	// AuthorizePath, TokenPath are the OAuth endpoints.
	AuthorizePath = "/oauth/authorizations/new"
	TokenPath     = "/oauth/tokens"
)

// Config configures the emulator.
type Config struct {
	// ClientID is the registered OAuth client (DefaultClientID when empty).
	ClientID string
	// CallbackURLs are the registered redirect URLs, matched exactly;
	// empty accepts any loopback URL with a port (tests pick free ports).
	CallbackURLs []string
	// AccessTTL is the access token lifetime, enforced (0: 30 minutes
	// reported, never enforced).
	AccessTTL time.Duration
	// IdempotencyWindow is how long an Idempotency-Key is remembered
	// (DefaultIdempotencyWindow when zero).
	IdempotencyWindow time.Duration
	// TalkPartnerEdition enables the voice display API (server-side pop).
	TalkPartnerEdition bool
	// RateLimit is the X-Rate-Limit header value (DefaultRateLimit).
	RateLimit int
}

// User is a Zendesk user: an agent (the emulated sign-in users) or an end
// user (the customers, seeded with AddContact).
type User struct {
	ID                int64     `json:"id"`
	URL               string    `json:"url"`
	Name              string    `json:"name"`
	Email             string    `json:"email,omitempty"`
	Phone             string    `json:"phone,omitempty"`
	SharedPhoneNumber bool      `json:"shared_phone_number"`
	Role              string    `json:"role"` // "end-user", "agent", "admin"
	OrganizationID    *int64    `json:"organization_id"`
	ExternalID        *string   `json:"external_id"`
	Active            bool      `json:"active"`
	CreatedAt         time.Time `json:"created_at"`
}

// CustomField is a ticket custom field value.
type CustomField struct {
	ID    int64 `json:"id"`
	Value any   `json:"value"`
}

// Via is how a ticket was created.
type Via struct {
	Channel string `json:"channel"`
}

// Ticket is a Zendesk ticket.
type Ticket struct {
	ID           int64         `json:"id"`
	URL          string        `json:"url"`
	Subject      string        `json:"subject"`
	Description  string        `json:"description"`
	Status       string        `json:"status"`
	RequesterID  int64         `json:"requester_id"`
	SubmitterID  int64         `json:"submitter_id"`
	AssigneeID   *int64        `json:"assignee_id"`
	ExternalID   *string       `json:"external_id"`
	Tags         []string      `json:"tags"`
	Via          Via           `json:"via"`
	CustomFields []CustomField `json:"custom_fields"`
	CreatedAt    time.Time     `json:"created_at"`

	// Comment is the first comment (the call log body); Public tells
	// whether the requester can see it.
	Comment       string `json:"-"`
	CommentPublic bool   `json:"-"`
	// IdempotencyKey is the header the creating request carried.
	IdempotencyKey string `json:"-"`
}

// Pop is one delivered server-side screen pop.
type Pop struct {
	AgentID  int64
	UserID   int64 // 0 for a ticket pop
	TicketID int64 // 0 for a user pop
	At       time.Time
}

type idemEntry struct {
	fingerprint [32]byte
	ticket      int64
	at          time.Time
}

// Server is a running Zendesk emulator. The embedded emukit.Server gives
// Start, Stop, Restart, URL, faults, the journal and token control.
type Server struct {
	*emukit.Server
	cfg Config

	mu       sync.Mutex
	users    map[int64]*User
	agents   map[string]int64 // emukit user id -> Zendesk user id
	online   map[int64]bool
	tickets  []*Ticket
	idem     map[string]*idemEntry
	pops     []Pop
	nextUser int64
	nextTkt  int64
	window   time.Duration
	tpe      bool
	now      func() time.Time
}

// New returns a stopped emulator; call Start.
func New(cfg Config) *Server {
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.IdempotencyWindow <= 0 {
		cfg.IdempotencyWindow = DefaultIdempotencyWindow
	}
	if cfg.RateLimit <= 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	s := &Server{cfg: cfg, now: time.Now}
	s.Server = emukit.New(emukit.Config{
		Name:          "zendesk",
		ClientID:      cfg.ClientID,
		CallbackURLs:  cfg.CallbackURLs,
		AuthorizePath: AuthorizePath,
		TokenPath:     TokenPath,
		RotateRefresh: true,
		AccessTTL:     cfg.AccessTTL,
		Errors:        writeError,
		API:           s.api,
		Public:        s.public,
	})
	s.resetLocked()
	return s
}

// Reset forgets users, tokens, faults, the journal and every record.
func (s *Server) Reset() {
	s.Server.Reset()
	s.mu.Lock()
	s.resetLocked()
	s.mu.Unlock()
}

func (s *Server) resetLocked() {
	s.users, s.agents, s.online = map[int64]*User{}, map[string]int64{}, map[int64]bool{}
	s.tickets, s.idem, s.pops = nil, map[string]*idemEntry{}, nil
	s.nextUser, s.nextTkt = 360000001000, 1
	s.window, s.tpe = s.cfg.IdempotencyWindow, s.cfg.TalkPartnerEdition
}

// writeError renders Zendesk's error envelopes.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	switch status {
	case http.StatusUnauthorized:
		// Zendesk answers every refused bearer with invalid_token.
		emukit.WriteJSON(w, status, map[string]string{"error": "invalid_token", "error_description": msg})
		return
	case http.StatusUnprocessableEntity:
		if code == "" {
			code = "RecordInvalid"
		}
		emukit.WriteJSON(w, status, map[string]any{"error": code, "description": "Record validation errors",
			"details": map[string]any{"base": []map[string]string{{"description": msg, "error": "InvalidValue"}}}})
		return
	}
	if code == "" {
		switch status {
		case http.StatusNotFound:
			code = "RecordNotFound"
		case http.StatusForbidden:
			code = "Forbidden"
		case http.StatusConflict:
			code = "Conflict"
		case http.StatusTooManyRequests:
			code = "APIRateLimitExceeded"
		default:
			code = strings.ReplaceAll(http.StatusText(status), " ", "")
		}
	}
	emukit.WriteJSON(w, status, map[string]string{"error": code, "description": msg})
}

func invalid(w http.ResponseWriter, field, msg string) int {
	emukit.WriteJSON(w, http.StatusUnprocessableEntity, map[string]any{"error": "RecordInvalid",
		"description": "Record validation errors",
		"details":     map[string]any{field: []map[string]string{{"description": msg, "error": "InvalidValue"}}}})
	return http.StatusUnprocessableEntity
}

// ---- records and accessors ----

func (s *Server) base() string { return s.URL() }

func (s *Server) addUserLocked(u User) *User {
	u.ID = s.nextUser
	s.nextUser++
	u.URL = fmt.Sprintf("%s/api/v2/users/%d.json", s.base(), u.ID)
	u.Active = true
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.now().UTC()
	}
	s.users[u.ID] = &u
	return &u
}

// agentLocked returns the Zendesk agent of an emulated sign-in user,
// creating it on first sight.
func (s *Server) agentLocked(eu emukit.User) *User {
	if id, ok := s.agents[eu.ID]; ok {
		return s.users[id]
	}
	u := s.addUserLocked(User{Name: eu.Name, Email: eu.Email, Role: "agent"})
	s.agents[eu.ID] = u.ID
	return u
}

// AgentID returns the Zendesk user id of the emulated sign-in user
// emukitUserID (as in Users(), "u0001" is the default browser user);
// 0 when there is no such user.
func (s *Server) AgentID(emukitUserID string) int64 {
	eu, ok := s.User(emukitUserID)
	if !ok {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.agentLocked(eu).ID
}

// AddContact adds an end user with a phone number and returns it.
func (s *Server) AddContact(name, phone, email string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addUserLocked(User{Name: name, Phone: phone, Email: email, Role: "end-user"})
}

// DeleteUser removes a user (a merged or deleted customer).
func (s *Server) DeleteUser(id int64) {
	s.mu.Lock()
	delete(s.users, id)
	s.mu.Unlock()
}

// ZendeskUser returns a user by id.
func (s *Server) ZendeskUser(id int64) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// Tickets returns every ticket, oldest first.
func (s *Server) Tickets() []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ticket, 0, len(s.tickets))
	for _, t := range s.tickets {
		out = append(out, *t)
	}
	return out
}

// TicketsByExternalID returns the tickets whose external_id is key (the
// connector's call key): exactly one per delivered call log.
func (s *Server) TicketsByExternalID(key string) []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ticket
	for _, t := range s.tickets {
		if t.ExternalID != nil && *t.ExternalID == key {
			out = append(out, *t)
		}
	}
	return out
}

// SetAgentOnline says whether an agent has Zendesk open in a browser (the
// display API answers 404 otherwise).
func (s *Server) SetAgentOnline(agentID int64, online bool) {
	s.mu.Lock()
	s.online[agentID] = online
	s.mu.Unlock()
}

// SetTalkPartnerEdition turns the voice display API on or off.
func (s *Server) SetTalkPartnerEdition(on bool) {
	s.mu.Lock()
	s.tpe = on
	s.mu.Unlock()
}

// Pops returns the screen pops delivered so far.
func (s *Server) Pops() []Pop {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Pop(nil), s.pops...)
}

// ExpireIdempotencyKeys forgets every remembered Idempotency-Key, as if
// the retention window had passed.
func (s *Server) ExpireIdempotencyKeys() {
	s.mu.Lock()
	s.idem = map[string]*idemEntry{}
	s.mu.Unlock()
}

// ---- HTTP ----

func (s *Server) public(w http.ResponseWriter, r *http.Request, body []byte) (int, bool) {
	switch {
	case r.URL.Path == "/__emu__/contacts" && r.Method == http.MethodPost:
		var in struct{ Name, Phone, Email string }
		if err := json.Unmarshal(body, &in); err != nil || in.Name == "" {
			http.Error(w, "bad contact", http.StatusBadRequest)
			return http.StatusBadRequest, true
		}
		emukit.WriteJSON(w, http.StatusCreated, map[string]User{"user": s.AddContact(in.Name, in.Phone, in.Email)})
		return http.StatusCreated, true
	case r.URL.Path == "/__emu__/tickets" && r.Method == http.MethodGet:
		emukit.WriteJSON(w, http.StatusOK, map[string][]Ticket{"tickets": s.Tickets()})
		return http.StatusOK, true
	}
	return 0, false
}

func (s *Server) api(w http.ResponseWriter, r *http.Request, body []byte, eu *emukit.User) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	me := s.agentLocked(*eu)
	w.Header().Set("X-Rate-Limit", strconv.Itoa(s.cfg.RateLimit))
	w.Header().Set("X-Rate-Limit-Remaining", strconv.Itoa(s.cfg.RateLimit-1))
	p := r.URL.Path
	switch {
	case p == "/api/v2/users/me.json" && r.Method == http.MethodGet:
		emukit.WriteJSON(w, http.StatusOK, map[string]*User{"user": me})
		return http.StatusOK
	case p == "/api/v2/users/search.json" && r.Method == http.MethodGet:
		return s.searchUsersLocked(w, r)
	case strings.HasPrefix(p, "/api/v2/users/") && strings.HasSuffix(p, ".json") && r.Method == http.MethodGet:
		id, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(p, "/api/v2/users/"), ".json"), 10, 64)
		u := s.users[id]
		if err != nil || u == nil {
			writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
			return http.StatusNotFound
		}
		emukit.WriteJSON(w, http.StatusOK, map[string]*User{"user": u})
		return http.StatusOK
	case p == "/api/v2/tickets.json" && r.Method == http.MethodPost:
		return s.createTicketLocked(w, r, body, me)
	case p == "/api/v2/tickets.json" && r.Method == http.MethodGet:
		ext := r.URL.Query().Get("external_id")
		var out []*Ticket
		for _, t := range s.tickets {
			if ext == "" || (t.ExternalID != nil && *t.ExternalID == ext) {
				out = append(out, t)
			}
		}
		if len(out) > 100 {
			out = out[:100]
		}
		emukit.WriteJSON(w, http.StatusOK, map[string]any{"tickets": nonNil(out), "next_page": nil, "previous_page": nil, "count": len(out)})
		return http.StatusOK
	case strings.HasPrefix(p, "/api/v2/tickets/") && strings.HasSuffix(p, ".json") && r.Method == http.MethodGet:
		id, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(p, "/api/v2/tickets/"), ".json"), 10, 64)
		if t := s.ticketLocked(id); t != nil {
			emukit.WriteJSON(w, http.StatusOK, map[string]*Ticket{"ticket": t})
			return http.StatusOK
		}
		writeError(w, http.StatusNotFound, "RecordNotFound", "Not found")
		return http.StatusNotFound
	case p == "/api/v2/oauth/tokens/current.json" && r.Method == http.MethodDelete:
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.RevokeGrant(tok)
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	case strings.HasPrefix(p, "/api/v2/channels/voice/agents/") && r.Method == http.MethodPost:
		return s.displayLocked(w, p)
	}
	writeError(w, http.StatusNotFound, "InvalidEndpoint", "Not found")
	return http.StatusNotFound
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (s *Server) ticketLocked(id int64) *Ticket {
	for _, t := range s.tickets {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// ---- search ----

// searchTerms splits a search query into terms, keeping quoted phrases.
func searchTerms(q string) []string {
	var out []string
	var b strings.Builder
	quoted := false
	for _, r := range q {
		switch {
		case r == '"':
			quoted = !quoted
		case (r == ' ' || r == '\t') && !quoted:
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
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

// phoneMatches is the emulated phone: search: digits only, either number
// ending with the other (over-matching on purpose).
func phoneMatches(stored, q string) bool {
	sd, qd := digits(stored), digits(q)
	if sd == "" || qd == "" {
		return false
	}
	return strings.HasSuffix(sd, qd) || strings.HasSuffix(qd, sd)
}

func userMatches(u *User, term string) bool {
	field, val, ok := strings.Cut(term, ":")
	if !ok {
		field, val = "", term
	}
	val = strings.ToLower(val)
	switch field {
	case "phone":
		return phoneMatches(u.Phone, val)
	case "email":
		return strings.EqualFold(u.Email, val)
	case "name":
		return strings.Contains(strings.ToLower(u.Name), val)
	case "role":
		return u.Role == val
	case "type":
		return val == "user"
	case "":
		if strings.Contains(strings.ToLower(u.Name), val) || strings.Contains(strings.ToLower(u.Email), val) {
			return true
		}
		return len(digits(val)) >= 3 && len(digits(val)) == len(strings.TrimLeft(val, "+")) && strings.Contains(digits(u.Phone), digits(val))
	}
	return false
}

func (s *Server) searchUsersLocked(w http.ResponseWriter, r *http.Request) int {
	q := r.URL.Query()
	query, ext := strings.TrimSpace(q.Get("query")), q.Get("external_id")
	if query == "" && ext == "" {
		writeError(w, http.StatusBadRequest, "InvalidParameter", "query or external_id is required")
		return http.StatusBadRequest
	}
	perPage := 100
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 && n < perPage {
		perPage = n
	}
	page := 1
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 1 {
		page = n
	}
	terms := searchTerms(query)
	var hits []*User
	for _, u := range s.users {
		if ext != "" {
			if u.ExternalID != nil && *u.ExternalID == ext {
				hits = append(hits, u)
			}
			continue
		}
		all := true
		for _, t := range terms {
			if !userMatches(u, t) {
				all = false
				break
			}
		}
		if all {
			hits = append(hits, u)
		}
	}
	sort.Slice(hits, func(i, j int) bool { return hits[i].ID < hits[j].ID })
	count := len(hits)
	from := min((page-1)*perPage, count)
	to := min(from+perPage, count)
	var next any
	if to < count {
		nq := r.URL.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next = s.base() + r.URL.Path + "?" + nq.Encode()
	}
	emukit.WriteJSON(w, http.StatusOK, map[string]any{"users": nonNil(hits[from:to]), "next_page": next, "previous_page": nil, "count": count})
	return http.StatusOK
}

// ---- tickets ----

type ticketIn struct {
	Ticket *struct {
		Subject string `json:"subject"`
		Comment *struct {
			Body   string `json:"body"`
			Public *bool  `json:"public"`
		} `json:"comment"`
		RequesterID  *int64        `json:"requester_id"`
		AssigneeID   *int64        `json:"assignee_id"`
		ExternalID   *string       `json:"external_id"`
		Tags         []string      `json:"tags"`
		Status       string        `json:"status"`
		CustomFields []CustomField `json:"custom_fields"`
	} `json:"ticket"`
}

// fingerprint is the payload's identity for the idempotency check: the
// canonical JSON (keys sorted), so formatting does not matter.
func fingerprint(body []byte) [32]byte {
	var v any
	if json.Unmarshal(body, &v) == nil {
		if b, err := json.Marshal(v); err == nil {
			body = b
		}
	}
	return sha256.Sum256(body)
}

func (s *Server) createTicketLocked(w http.ResponseWriter, r *http.Request, body []byte, me *User) int {
	key := r.Header.Get("Idempotency-Key")
	fp := fingerprint(body)
	now := s.now()
	if key != "" {
		if e := s.idem[key]; e != nil && now.Sub(e.at) <= s.window {
			if e.fingerprint != fp {
				writeError(w, http.StatusBadRequest, "IdempotentRequestError",
					"The idempotency key was already used with a different request payload")
				return http.StatusBadRequest
			}
			w.Header().Set("x-idempotency-lookup", "hit")
			w.Header().Set("Location", fmt.Sprintf("%s/api/v2/tickets/%d.json", s.base(), e.ticket))
			emukit.WriteJSON(w, http.StatusCreated, map[string]*Ticket{"ticket": s.ticketLocked(e.ticket)})
			return http.StatusCreated
		}
	}
	var in ticketIn
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&in); err != nil || in.Ticket == nil {
		writeError(w, http.StatusBadRequest, "InvalidJSON", "the request body is not a ticket object")
		return http.StatusBadRequest
	}
	t := in.Ticket
	if t.Comment == nil || strings.TrimSpace(t.Comment.Body) == "" {
		return invalid(w, "description", "Description: cannot be blank")
	}
	requester := me.ID
	if t.RequesterID != nil {
		if u := s.users[*t.RequesterID]; u == nil || !u.Active {
			return invalid(w, "requester", "Requester: is invalid")
		}
		requester = *t.RequesterID
	}
	if t.AssigneeID != nil {
		if u := s.users[*t.AssigneeID]; u == nil || (u.Role != "agent" && u.Role != "admin") {
			return invalid(w, "assignee", "Assignee: is not an agent")
		}
	}
	status := t.Status
	switch status {
	case "":
		status = "new"
		if t.AssigneeID != nil {
			status = "open"
		}
	case "new", "open", "pending", "hold":
	case "solved":
		if t.AssigneeID == nil {
			return invalid(w, "assignee", "Assignee: is required when the ticket is solved")
		}
	default:
		return invalid(w, "status", "Status: "+status+" is not a valid status")
	}
	subject := t.Subject
	if subject == "" {
		subject = strings.SplitN(t.Comment.Body, "\n", 2)[0]
	}
	public := true
	if t.Comment.Public != nil {
		public = *t.Comment.Public
	}
	tk := &Ticket{ID: s.nextTkt, Subject: subject, Description: t.Comment.Body, Status: status,
		RequesterID: requester, SubmitterID: me.ID, AssigneeID: t.AssigneeID, ExternalID: t.ExternalID,
		Tags: nonNil(t.Tags), Via: Via{Channel: "api"}, CustomFields: nonNil(t.CustomFields), CreatedAt: now.UTC(),
		Comment: t.Comment.Body, CommentPublic: public, IdempotencyKey: key}
	s.nextTkt++
	tk.URL = fmt.Sprintf("%s/api/v2/tickets/%d.json", s.base(), tk.ID)
	s.tickets = append(s.tickets, tk)
	if key != "" {
		s.idem[key] = &idemEntry{fingerprint: fp, ticket: tk.ID, at: now}
		w.Header().Set("x-idempotency-lookup", "miss")
	}
	w.Header().Set("Location", tk.URL)
	emukit.WriteJSON(w, http.StatusCreated, map[string]*Ticket{"ticket": tk})
	return http.StatusCreated
}

// ---- Talk Partner Edition display ----

func (s *Server) displayLocked(w http.ResponseWriter, p string) int {
	if !s.tpe {
		writeError(w, http.StatusForbidden, "Forbidden", "Talk Partner Edition is not enabled on this account")
		return http.StatusForbidden
	}
	// /api/v2/channels/voice/agents/{agent}/{users|tickets}/{id}/display.json
	parts := strings.Split(strings.TrimPrefix(p, "/api/v2/channels/voice/agents/"), "/")
	if len(parts) != 4 || parts[3] != "display.json" {
		writeError(w, http.StatusNotFound, "InvalidEndpoint", "Not found")
		return http.StatusNotFound
	}
	agent, err1 := strconv.ParseInt(parts[0], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	pop := Pop{AgentID: agent, At: s.now()}
	found := false
	switch parts[1] {
	case "users":
		pop.UserID, found = id, s.users[id] != nil
	case "tickets":
		pop.TicketID, found = id, s.ticketLocked(id) != nil
	}
	a := s.users[agent]
	if err1 != nil || err2 != nil || !found || a == nil || a.Role == "end-user" || !s.online[agent] {
		writeError(w, http.StatusNotFound, "RecordNotFound", "Agent or record not found, or the agent is not online")
		return http.StatusNotFound
	}
	s.pops = append(s.pops, pop)
	emukit.WriteJSON(w, http.StatusOK, map[string]any{})
	return http.StatusOK
}
