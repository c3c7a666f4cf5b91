package control

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
)

// DefaultAddr is where the control API listens unless configured
// otherwise; CRM click-to-dial pages are configured with it.
const DefaultAddr = "127.0.0.1:47811"

// maxBody bounds a request body.
const maxBody = 64 << 10

// Options configure a Server.
type Options struct {
	// Token is the per-install secret clients present (NewToken makes
	// one). Required.
	Token string
	// AllowedOrigins are the web origins (the configured CRM domains,
	// "https://example.my.salesforce.com") whose pages may call the API.
	AllowedOrigins []string
	// Config returns the settings an agent signs in with (POST /v1/login);
	// domain.DefaultConfig when nil.
	Config func(agentID string) domain.Config
	// Logger is the logger (default slog.Default()).
	Logger *slog.Logger
	// Heartbeat is the interval of keep-alive comments on the event
	// stream (default 15 s).
	Heartbeat time.Duration
}

// Server is the control API over one agent.
type Server struct {
	core    *agent.Agent
	token   []byte
	origins []string
	config  func(string) domain.Config
	log     *slog.Logger
	beat    time.Duration
	mux     *http.ServeMux

	mu     sync.Mutex
	mirror agent.Mirror
	stop   func()
	srv    *http.Server
	ln     net.Listener
}

// NewToken returns a new random token (256 bits, URL-safe base64).
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("control token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// New returns a server over core. It starts watching the core at once;
// Close stops it.
func New(core *agent.Agent, opts Options) (*Server, error) {
	if len(opts.Token) < 16 {
		return nil, ErrNoToken
	}
	s := &Server{core: core, token: []byte(opts.Token), config: opts.Config, log: opts.Logger, beat: opts.Heartbeat}
	for _, o := range opts.AllowedOrigins {
		n, err := normalizeOrigin(o)
		if err != nil {
			return nil, err
		}
		s.origins = append(s.origins, n)
	}
	if s.config == nil {
		s.config = func(string) domain.Config { return domain.DefaultConfig() }
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("component", "control")
	if s.beat <= 0 {
		s.beat = 15 * time.Second
	}
	s.routes()
	s.stop = core.Watch(context.Background(), func(n agent.Notify) {
		s.mu.Lock()
		s.mirror.Apply(n)
		s.mu.Unlock()
	})
	return s, nil
}

// normalizeOrigin checks an allowed origin and returns it as
// scheme://host[:port], lowercased, without a trailing slash.
func normalizeOrigin(o string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return "", fmt.Errorf("%w: %q (want scheme://host[:port])", ErrBadOrigin, o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// Handler returns the API's handler with every security check applied.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Listen binds addr (a loopback "host:port"; port 0 picks one) and serves
// until Close. It returns the bound address.
func (s *Server) Listen(addr string) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("control listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("%w: %q", ErrNotLoopback, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("control listen: %w", err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.mu.Lock()
	s.srv, s.ln = srv, ln
	s.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("control api stopped", "error", err)
		}
	}()
	return ln.Addr().String(), nil
}

// Close stops serving (event streams end) and stops watching the core.
func (s *Server) Close() error {
	s.mu.Lock()
	srv := s.srv
	s.mu.Unlock()
	var err error
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if err = srv.Shutdown(ctx); err != nil {
			err = srv.Close()
		}
		cancel()
	}
	s.stop()
	return err
}

// State returns the current state as the API serves it.
func (s *Server) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return StateOf(&s.mirror)
}

// ---- security ----

var allowedMethods = "GET, POST, OPTIONS"

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !loopbackPeer(r.RemoteAddr) {
		s.refuse(w, r, http.StatusForbidden, "only local clients may use the control api")
		return
	}
	if !loopbackHost(r.Host) {
		s.refuse(w, r, http.StatusForbidden, "the host header must name this computer")
		return
	}
	origin := r.Header.Get("Origin")
	if origin != "" {
		w.Header().Add("Vary", "Origin")
		if !s.originAllowed(origin) {
			s.refuse(w, r, http.StatusForbidden, "this web origin is not allowed to use the softphone")
			return
		}
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
	if r.Method == http.MethodOptions {
		s.preflight(w, r, origin)
		return
	}
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="softphone"`)
		s.refuse(w, r, http.StatusUnauthorized, "missing or wrong token")
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.log.Warn("control request refused", "status", code, "method", r.Method, "path", r.URL.Path, "reason", msg)
	writeError(w, code, msg)
}

func loopbackPeer(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func loopbackHost(h string) bool {
	host := h
	if hh, _, err := net.SplitHostPort(h); err == nil {
		host = hh
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) originAllowed(origin string) bool {
	n, err := normalizeOrigin(origin)
	return err == nil && slices.Contains(s.origins, n)
}

// preflight answers a CORS preflight from an allowed origin.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request, origin string) {
	if origin == "" {
		writeError(w, http.StatusMethodNotAllowed, "OPTIONS is only for CORS preflight requests")
		return
	}
	m := r.Header.Get("Access-Control-Request-Method")
	if m != http.MethodGet && m != http.MethodPost {
		s.refuse(w, r, http.StatusForbidden, "method not allowed by cors")
		return
	}
	for _, h := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "", "authorization", "content-type":
		default:
			s.refuse(w, r, http.StatusForbidden, "header not allowed by cors")
			return
		}
	}
	hd := w.Header()
	hd.Add("Vary", "Access-Control-Request-Method")
	hd.Add("Vary", "Access-Control-Request-Headers")
	hd.Set("Access-Control-Allow-Methods", allowedMethods)
	hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	hd.Set("Access-Control-Max-Age", "600")
	if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
		hd.Set("Access-Control-Allow-Private-Network", "true")
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) authorized(r *http.Request) bool {
	got := ""
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, tok, ok := strings.Cut(a, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return false
		}
		got = strings.TrimSpace(tok)
	} else if r.Method == http.MethodGet && r.URL.Path == "/v1/events" {
		got = r.URL.Query().Get("access_token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), s.token) == 1
}

// ---- helpers ----

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// decode reads a JSON body into v, refusing unknown fields, trailing data
// and oversized bodies. An empty body is allowed when empty is true.
func decode(r *http.Request, v any, empty bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return errors.New("content type must be application/json")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) && empty {
			return nil
		}
		return fmt.Errorf("invalid json body: %w", err)
	}
	if dec.More() {
		return errors.New("invalid json body: trailing data")
	}
	return nil
}
