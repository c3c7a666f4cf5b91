package sfemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callcentre/softphone/crm/emukit"
)

// Defaults of a new emulated org.
const (
	DefaultClientID        = "3MVGemu"
	DefaultAPIVersion      = "62.0"
	DefaultExternalIDField = "CTI_Call_Id__c"
	DefaultDailyLimit      = 1_000_000
	maxJournalBody         = 4096
	maxCollection          = 200
)

// Config describes the emulated org and its connected app.
type Config struct {
	ClientID string // consumer key (default "3MVGemu")
	// CallbackURLs are the registered redirect URIs, matched exactly.
	// Empty accepts any http://localhost:PORT or http://127.0.0.1:PORT
	// URL (convenient for tests that pick a free port).
	CallbackURLs []string
	// NoPKCE lets the authorize endpoint accept requests without a code
	// challenge (PKCE is required by default).
	NoPKCE bool
	// RotateRefresh issues a new refresh token on each refresh and kills
	// the old one.
	RotateRefresh bool
	// AccessTTL expires access tokens after this long (0: never, until
	// ExpireAccessTokens or a fault).
	AccessTTL time.Duration
	// APIVersions the org supports (default 58.0 to 62.0).
	APIVersions []string
	// ExternalIDField is the Task field marked External ID and Unique.
	ExternalIDField string
	// DailyLimit is the daily API request allocation.
	DailyLimit int
	// PersonAccounts enables person accounts (Account.IsPersonAccount,
	// PersonMobilePhone).
	PersonAccounts bool
	// StrictCreateOnlyFields rejects TaskSubtype in an update with
	// INVALID_FIELD_FOR_INSERT_UPDATE instead of ignoring it.
	StrictCreateOnlyFields bool
}

// Server is a running emulator.
type Server struct {
	cfg Config

	mu          sync.Mutex
	addr        string
	ln          net.Listener
	srv         *http.Server
	org         string
	users       map[string]*User
	browserUser string
	lastPrompt  string
	codes       map[string]*authCode
	access      map[string]*accessToken
	refresh     map[string]*refreshToken
	records     map[string]map[string]Record // type -> id -> record
	extIndex    map[string]string            // Task external id value -> Task id
	counters    map[string]int
	faults      []*Fault
	journal     []Request
	usage       int
	rules       []ValidationRule
	writes      map[string]int // Task id -> number of writes (create counts 1)
}

// User is a Salesforce user of the org.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Active   bool   `json:"active"`
}

// Record is one sObject's fields, "Id" included.
type Record map[string]any

// Request is one journal entry.
type Request struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Query  string    `json:"query,omitempty"`
	UserID string    `json:"user_id,omitempty"` // the bearer token's user
	Status int       `json:"status"`
	Body   string    `json:"body,omitempty"` // first 4 KB
	Fault  string    `json:"fault,omitempty"`
}

type authCode struct {
	clientID, redirect, challenge, method, user string
	expires                                     time.Time
	used                                        bool
}

type accessToken struct {
	user, refresh string
	expires       time.Time
}

type refreshToken struct {
	user    string
	revoked bool
}

// New returns an emulator with one active user (the browser user) and no
// records. Start it with Start.
func New(cfg Config) *Server {
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if len(cfg.APIVersions) == 0 {
		cfg.APIVersions = []string{"58.0", "59.0", "60.0", "61.0", "62.0"}
	}
	if cfg.ExternalIDField == "" {
		cfg.ExternalIDField = DefaultExternalIDField
	}
	if cfg.DailyLimit == 0 {
		cfg.DailyLimit = DefaultDailyLimit
	}
	s := &Server{cfg: cfg}
	s.resetLocked()
	return s
}

func (s *Server) resetLocked() {
	s.counters = map[string]int{}
	s.org = newID(PrefixOrg, 1)
	s.users = map[string]*User{}
	s.codes = map[string]*authCode{}
	s.access = map[string]*accessToken{}
	s.refresh = map[string]*refreshToken{}
	s.records = map[string]map[string]Record{"Contact": {}, "Lead": {}, "Account": {}, "Task": {}}
	s.extIndex = map[string]string{}
	s.faults = nil
	s.journal = nil
	s.usage = 0
	s.rules = nil
	s.writes = map[string]int{}
	u := s.addUserLocked("agent1@emu.test", "Agent One")
	s.browserUser = u.ID
}

func (s *Server) nextID(prefix string) string {
	s.counters[prefix]++
	return newID(prefix, s.counters[prefix])
}

// Start listens on a free port of 127.0.0.1 and serves.
func (s *Server) Start() error { return s.listen("127.0.0.1:0") }

// Stop takes the server down: the listener and every open connection are
// closed, so clients get "connection refused" until Restart.
func (s *Server) Stop() error {
	s.mu.Lock()
	srv := s.srv
	s.srv, s.ln = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// Restart serves again on the address of the first Start (the port is
// retried for a few seconds if another process grabbed it meanwhile).
func (s *Server) Restart() error {
	s.mu.Lock()
	addr := s.addr
	s.mu.Unlock()
	if addr == "" {
		return errors.New("sfemu: restart before start")
	}
	var err error
	for range 50 {
		if err = s.listen(addr); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return err
}

// Close stops the server for good.
func (s *Server) Close() error { return s.Stop() }

func (s *Server) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sfemu: listen: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	if s.addr == "" {
		s.addr = ln.Addr().String()
	}
	s.ln, s.srv = ln, srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// URL is the base URL (instance URL and login URL), "http://127.0.0.1:PORT".
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://" + s.addr
}

// Config returns the org's configuration.
func (s *Server) Config() Config { return s.cfg }

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/__emu__/"):
		s.control(w, r, body)
	case strings.HasPrefix(p, "/services/oauth2/") || strings.HasPrefix(p, "/id/"):
		s.withFaults(w, r, body, p, s.oauth)
	case strings.HasPrefix(p, "/services/data"):
		s.withFaults(w, r, body, dataPath(p), s.data)
	default:
		writeErrors(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	}
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	var b bytes.Buffer
	_, err := b.ReadFrom(http.MaxBytesReader(nil, r.Body, 32<<20))
	return b.Bytes(), err
}

// dataPath strips "/services/data/vNN.N" for fault matching.
func dataPath(p string) string {
	rest := strings.TrimPrefix(p, "/services/data")
	if strings.HasPrefix(rest, "/v") {
		if i := strings.Index(rest[1:], "/"); i >= 0 {
			return rest[1+i:]
		}
		return "/"
	}
	return rest
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, body []byte) (status int, user string)

// withFaults applies a matching fault around the handler and journals the
// request.
func (s *Server) withFaults(w http.ResponseWriter, r *http.Request, body []byte, matchPath string, h handlerFunc) {
	f := s.matchFault(r.Method, matchPath)
	entry := Request{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	if len(body) > maxJournalBody {
		entry.Body = string(body[:maxJournalBody])
	} else {
		entry.Body = string(body)
	}
	defer func() {
		s.mu.Lock()
		s.journal = append(s.journal, entry)
		s.mu.Unlock()
	}()
	if f == nil {
		entry.Status, entry.UserID = h(w, r, body)
		return
	}
	entry.Fault = f.describe()
	if f.Latency > 0 {
		time.Sleep(f.Latency) // the write below still happens, whatever the client did meanwhile
	}
	if f.ExpireAccessTokens || f.RevokeRefreshTokens {
		s.mu.Lock()
		for k, t := range s.access {
			if f.RevokeRefreshTokens {
				if rt := s.refresh[t.refresh]; rt != nil {
					rt.revoked = true
				}
			}
			delete(s.access, k)
		}
		s.mu.Unlock()
	}
	switch {
	case f.Status != 0:
		entry.Status = f.Status
		if f.Body != "" {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(f.Body))
			return
		}
		if f.ErrorCode == "" {
			w.WriteHeader(f.Status)
			return
		}
		msg := f.Message
		if msg == "" {
			msg = defaultMessage(f.ErrorCode)
		}
		writeErrors(w, f.Status, f.ErrorCode, msg)
	case f.DropBeforeCommit:
		entry.Status = -1
		emukit.DropConnection(w)
	case f.CommitThenDrop || f.TruncateBody:
		emukit.ServeThenBreak(w, f.CommitThenDrop, func(rw http.ResponseWriter) { entry.Status, entry.UserID = h(rw, r, body) })
	default:
		entry.Status, entry.UserID = h(w, r, body)
	}
}

func defaultMessage(code string) string {
	switch code {
	case "INVALID_SESSION_ID":
		return "Session expired or invalid"
	case "REQUEST_LIMIT_EXCEEDED":
		return "TotalRequests Limit exceeded."
	case "UNABLE_TO_LOCK_ROW":
		return "unable to obtain exclusive access to this record or 1 records: 003emu000000001AAA"
	}
	return code
}

// apiError is Salesforce's REST error element.
type apiError struct {
	Message   string   `json:"message"`
	ErrorCode string   `json:"errorCode"`
	Fields    []string `json:"fields,omitempty"`
}

func writeErrors(w http.ResponseWriter, status int, code, msg string, fields ...string) {
	writeJSON(w, status, []apiError{{Message: msg, ErrorCode: code, Fields: fields}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`[{"message":"encode","errorCode":"UNKNOWN_EXCEPTION"}]`)
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ---- Go control API ----

// AddUser adds an active user and returns it.
func (s *Server) AddUser(username, name string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addUserLocked(username, name)
}

func (s *Server) addUserLocked(username, name string) *User {
	u := &User{ID: s.nextID(PrefixUser), Username: username, Email: username, Name: name, Active: true}
	s.users[u.ID] = u
	return u
}

// Users lists the org's users.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []User
	for _, u := range s.users {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b User) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// SetBrowserUser sets the user the emulated login page signs in (the user
// typing their password in the system browser); "" makes the login fail
// with access_denied.
func (s *Server) SetBrowserUser(userID string) {
	s.mu.Lock()
	s.browserUser = userID
	s.mu.Unlock()
}

// LastPrompt is the prompt parameter of the last authorize request
// ("login" when a fresh login was forced).
func (s *Server) LastPrompt() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastPrompt
}

// Seed adds a record of type ("Contact", "Lead", "Account") and returns
// its id. Contacts and leads get Name from FirstName and LastName.
func (s *Server) Seed(typ string, fields Record) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	prefix, ok := prefixes[typ]
	if !ok || typ == "Task" {
		return "", fmt.Errorf("sfemu: cannot seed %q", typ)
	}
	rec := Record{}
	for k, v := range fields {
		rec[k] = v
	}
	if _, ok := rec["Name"]; !ok {
		rec["Name"] = strings.TrimSpace(fmt.Sprint(orEmpty(rec["FirstName"])) + " " + fmt.Sprint(orEmpty(rec["LastName"])))
	}
	id := s.nextID(prefix)
	rec["Id"] = id
	s.records[typ][id] = rec
	return id, nil
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

// Delete marks a record deleted (ENTITY_IS_DELETED for references).
func (s *Server) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, recs := range s.records {
		if r, ok := recs[id]; ok {
			r["IsDeleted"] = true
		}
	}
}

// Records returns a copy of every live record of typ.
func (s *Server) Records(typ string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, r := range s.records[typ] {
		if r["IsDeleted"] == true {
			continue
		}
		c := Record{}
		for k, v := range r {
			c[k] = v
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Record) int { return strings.Compare(a["Id"].(string), b["Id"].(string)) })
	return out
}

// TaskWrites returns, per Task id, how many writes (the create plus any
// updates) it received: 1 everywhere means written once, never patched.
func (s *Server) TaskWrites() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.writes))
	for k, v := range s.writes {
		out[k] = v
	}
	return out
}

// Journal returns every request received so far.
func (s *Server) Journal() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.journal)
}

// ExpireAccessTokens invalidates every access token (the session timeout
// passed); refresh tokens stay valid.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	clear(s.access)
	s.mu.Unlock()
}

// RevokeRefreshTokens revokes every refresh token and access token (an
// admin revoked the app's sessions).
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	for _, rt := range s.refresh {
		rt.revoked = true
	}
	clear(s.access)
	s.mu.Unlock()
}

// SetUsage sets the API usage counter (the daily limit applies above it).
func (s *Server) SetUsage(n int) {
	s.mu.Lock()
	s.usage = n
	s.mu.Unlock()
}

// Reset restores the empty org (one user, no records, faults or journal).
func (s *Server) Reset() {
	s.mu.Lock()
	s.resetLocked()
	s.mu.Unlock()
}

// userOf returns the user of a bearer token, or "".
func (s *Server) userOf(r *http.Request) string {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.access[tok]
	if at == nil {
		return ""
	}
	if !at.expires.IsZero() && time.Now().After(at.expires) {
		delete(s.access, tok)
		return ""
	}
	if u := s.users[at.user]; u == nil || !u.Active {
		return ""
	}
	return at.user
}
