package emukit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

const maxJournalBody = 4096

// Handler serves one authenticated API request of the emulated CRM: user
// is the bearer token's user. It writes the answer and returns the status
// it wrote.
type Handler func(w http.ResponseWriter, r *http.Request, body []byte, user *User) int

// ErrorWriter writes the CRM's error envelope for status with code and
// message (a status fault, a refused token, an unknown path).
type ErrorWriter func(w http.ResponseWriter, status int, code, msg string)

// Config describes the emulated CRM's identity provider and API.
type Config struct {
	// Name is the CRM's name in messages ("hubspot").
	Name string
	// ClientID is the registered OAuth client.
	ClientID string
	// ClientSecret, when set, must accompany every token request (a
	// confidential client: HubSpot).
	ClientSecret string
	// CallbackURLs are the registered redirect URIs, matched exactly; empty
	// accepts any http://localhost:PORT or http://127.0.0.1:PORT URL (tests
	// pick free ports). IgnorePort accepts any port of a registered
	// loopback URI (Entra ID's rule).
	CallbackURLs []string
	IgnorePort   bool
	// NoPKCE lets the authorize endpoint accept requests without a code
	// challenge (PKCE is required by default).
	NoPKCE bool
	// AuthorizePath, TokenPath are the OAuth endpoints ("/oauth/authorize",
	// "/oauth/token"). RevokePath, when set, is an RFC 7009 endpoint
	// (POST form token=...) answering 200.
	AuthorizePath, TokenPath, RevokePath string
	// RotateRefresh issues a new refresh token on each refresh and kills
	// the old one (Zendesk, Entra ID).
	RotateRefresh bool
	// AccessTTL is the access token lifetime reported as expires_in and
	// enforced (0: 30 minutes reported, never enforced).
	AccessTTL time.Duration
	// TokenExtra adds provider fields to a token answer for user.
	TokenExtra func(user *User) map[string]any
	// Grant handles the token requests of grant types the server does not
	// know itself (the device code grant of RFC 8628 ...): it returns the
	// id of the user to issue tokens to (a refresh token and an access
	// token, as for a code), or an OAuth error code and description
	// answered with 400. It runs without the server's lock.
	Grant func(form url.Values) (userID, errCode, errDesc string)
	// Errors writes the CRM's error envelope (default: a JSON object
	// {"error":code,"message":msg}).
	Errors ErrorWriter
	// API serves every other path for authenticated requests; Public
	// serves paths it claims without a token (returning false leaves the
	// request to API).
	API    Handler
	Public func(w http.ResponseWriter, r *http.Request, body []byte) (status int, handled bool)
}

// User is a user of the emulated CRM.
type User struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Active   bool   `json:"active"`
}

// Request is one journal entry.
type Request struct {
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	Query  string    `json:"query,omitempty"`
	UserID string    `json:"user_id,omitempty"`
	Status int       `json:"status"` // -1: connection dropped without an answer
	Body   string    `json:"body,omitempty"`
	Fault  string    `json:"fault,omitempty"`
}

// Server is a running emulator.
type Server struct {
	cfg Config

	mu          sync.Mutex
	addr        string
	srv         *http.Server
	users       map[string]*User
	userSeq     int
	browserUser string
	lastAuth    map[string]string // the last authorize request's query
	codes       map[string]*authCode
	access      map[string]*accessToken
	refresh     map[string]*refreshToken
	faults      []*Fault
	journal     []Request
}

type authCode struct {
	redirect, challenge, user string
	expires                   time.Time
	used                      bool
}

type accessToken struct {
	user, refresh string
	expires       time.Time
}

type refreshToken struct {
	user    string
	revoked bool
}

// New returns a stopped emulator with one active user, the browser user
// ("agent1").
func New(cfg Config) *Server {
	if cfg.Errors == nil {
		cfg.Errors = func(w http.ResponseWriter, status int, code, msg string) {
			WriteJSON(w, status, map[string]string{"error": code, "message": msg})
		}
	}
	if cfg.API == nil {
		cfg.API = func(w http.ResponseWriter, _ *http.Request, _ []byte, _ *User) int {
			http.NotFound(w, nil)
			return http.StatusNotFound
		}
	}
	s := &Server{cfg: cfg}
	s.Reset()
	return s
}

// Reset forgets users, tokens, faults and the journal (records belong to
// the emulator on top).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users, s.userSeq = map[string]*User{}, 0
	s.codes = map[string]*authCode{}
	s.access = map[string]*accessToken{}
	s.refresh = map[string]*refreshToken{}
	s.faults, s.journal = nil, nil
	s.browserUser = s.addUserLocked("agent1@emu.test", "Agent One").ID
}

// Config returns the configuration.
func (s *Server) Config() Config { return s.cfg }

// Start listens on a free port of 127.0.0.1 and serves.
func (s *Server) Start() error { return s.listen("127.0.0.1:0") }

// Stop takes the server down: the listener and every open connection are
// closed, so clients get "connection refused" until Restart.
func (s *Server) Stop() error {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// Restart serves again on the address of the first Start (retried for a
// few seconds if another process grabbed the port meanwhile).
func (s *Server) Restart() error {
	s.mu.Lock()
	addr := s.addr
	s.mu.Unlock()
	if addr == "" {
		return errors.New("emukit: restart before start")
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
		return fmt.Errorf("emukit: listen: %w", err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	if s.addr == "" {
		s.addr = ln.Addr().String()
	}
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return nil
}

// URL is the base URL, "http://127.0.0.1:PORT".
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://" + s.addr
}

// ServeHTTP routes a request: the control plane, the OAuth endpoints, the
// public paths, then authenticated API requests; faults apply to all but
// the control plane.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/__emu__/") {
		s.control(w, r, body)
		return
	}
	s.withFaults(w, r, body, s.route)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request, body []byte) (int, string) {
	p := r.URL.Path
	switch {
	case s.cfg.AuthorizePath != "" && p == s.cfg.AuthorizePath && r.Method == http.MethodGet:
		return s.authorize(w, r), ""
	case s.cfg.TokenPath != "" && p == s.cfg.TokenPath && r.Method == http.MethodPost:
		return s.token(w, r, body)
	case s.cfg.RevokePath != "" && p == s.cfg.RevokePath && r.Method == http.MethodPost:
		return s.revokeForm(w, r, body), ""
	}
	if s.cfg.Public != nil {
		if st, ok := s.cfg.Public(w, r, body); ok {
			return st, ""
		}
	}
	u, code := s.authenticate(r)
	if u == nil {
		s.cfg.Errors(w, http.StatusUnauthorized, code, "the access token is missing, invalid or expired")
		return http.StatusUnauthorized, ""
	}
	return s.cfg.API(w, r, body, u), u.ID
}

// authenticate returns the bearer token's user, or nil and why not.
func (s *Server) authenticate(r *http.Request) (*User, string) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return nil, "missing_token"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := s.access[tok]
	if at == nil {
		return nil, "invalid_token"
	}
	if !at.expires.IsZero() && time.Now().After(at.expires) {
		delete(s.access, tok)
		return nil, "expired_token"
	}
	u := s.users[at.user]
	if u == nil || !u.Active {
		return nil, "inactive_user"
	}
	c := *u
	return &c, ""
}

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	var b bytes.Buffer
	_, err := b.ReadFrom(http.MaxBytesReader(nil, r.Body, 32<<20))
	return b.Bytes(), err
}

// WriteJSON writes v as a JSON answer with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Journal returns the requests served so far.
func (s *Server) Journal() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.journal...)
}

// ---- users ----

// AddUser adds an active user and returns it.
func (s *Server) AddUser(username, name string) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.addUserLocked(username, name)
}

func (s *Server) addUserLocked(username, name string) *User {
	s.userSeq++
	u := &User{ID: fmt.Sprintf("u%04d", s.userSeq), Username: username, Email: username, Name: name, Active: true}
	s.users[u.ID] = u
	return u
}

// User returns a user by id.
func (s *Server) User(id string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// Users lists the users.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, *u)
	}
	return out
}

// SetActive deactivates or reactivates a user (a deactivated user's
// tokens stop working).
func (s *Server) SetActive(id string, active bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[id]; u != nil {
		u.Active = active
	}
}

// SetBrowserUser chooses who is signed in at the emulated login page.
func (s *Server) SetBrowserUser(id string) {
	s.mu.Lock()
	s.browserUser = id
	s.mu.Unlock()
}

// BrowserUser is the user signed in at the emulated login page (an
// emulator's own sign-in pages, such as a device code page, use it too).
func (s *Server) BrowserUser() (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[s.browserUser]
	if !ok {
		return User{}, false
	}
	return *u, true
}

// LastAuthorize returns a parameter of the last authorize request
// ("prompt", "scope" ...).
func (s *Server) LastAuthorize(param string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastAuth[param]
}
