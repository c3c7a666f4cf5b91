package emukit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Match selects the requests a fault applies to.
type Match struct {
	Method string `json:"method,omitempty"` // "" matches any method
	// Path is the request path; a trailing "*" matches any suffix. ""
	// matches any path.
	Path string `json:"path,omitempty"`
	// Nth is the first matching request that fails (1-based; 0 means 1),
	// counted from when the fault was armed.
	Nth int `json:"nth,omitempty"`
	// Times is how many requests fail from the Nth on (0 means 1); Every
	// makes every matching request from the Nth on fail.
	Times int  `json:"times,omitempty"`
	Every bool `json:"every,omitempty"`
}

// Fault is what happens to a matching request.
type Fault struct {
	Match Match `json:"match"`

	// Status answers with this status without applying the request: with
	// the CRM's error envelope (Code, Message), or Body verbatim (an HTML
	// page of the edge), plus Header (Retry-After ...).
	Status  int               `json:"status,omitempty"`
	Code    string            `json:"code,omitempty"`
	Message string            `json:"message,omitempty"`
	Body    string            `json:"body,omitempty"`
	Header  map[string]string `json:"header,omitempty"`

	Latency             time.Duration `json:"latency,omitempty"`            // sleep first; the request is still applied
	ExpireAccessTokens  bool          `json:"expireAccessTokens,omitempty"` // then serve: a 401 follows
	RevokeRefreshTokens bool          `json:"revokeRefreshTokens,omitempty"`
	CommitThenDrop      bool          `json:"commitThenDrop,omitempty"`   // apply, then reset the connection without answering
	DropBeforeCommit    bool          `json:"dropBeforeCommit,omitempty"` // reset the connection without applying
	TruncateBody        bool          `json:"truncateBody,omitempty"`     // apply, then answer half of the body

	seen, fired int
}

func (f *Fault) describe() string {
	switch {
	case f.Status != 0:
		return fmt.Sprintf("status %d %s", f.Status, f.Code)
	case f.CommitThenDrop:
		return "commit-then-drop"
	case f.DropBeforeCommit:
		return "drop-before-commit"
	case f.TruncateBody:
		return "truncate-body"
	case f.ExpireAccessTokens:
		return "expire-access-tokens"
	case f.RevokeRefreshTokens:
		return "revoke-refresh-tokens"
	case f.Latency > 0:
		return "latency " + f.Latency.String()
	}
	return "none"
}

// AddFault arms a fault.
func (s *Server) AddFault(f Fault) {
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// ClearFaults disarms every fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// FaultsFired counts the requests faults have hit so far.
func (s *Server) FaultsFired() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.fired
	}
	return n
}

// Matches reports whether a request with method and path is selected
// (Nth, Times and Every are counted by the caller).
func (m Match) Matches(method, path string) bool {
	if m.Method != "" && !strings.EqualFold(m.Method, method) {
		return false
	}
	if m.Path == "" {
		return true
	}
	if pre, ok := strings.CutSuffix(m.Path, "*"); ok {
		return strings.HasPrefix(path, pre)
	}
	return path == m.Path
}

func (s *Server) matchFault(method, path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Every matching fault counts the request, so Nth is the Nth matching
	// request since the fault was armed; the first armed fault that is due
	// fires (a later one due on the same request waits for the next).
	var due *Fault
	for _, f := range s.faults {
		if !f.Match.Matches(method, path) {
			continue
		}
		f.seen++
		nth := max(f.Match.Nth, 1)
		times := max(f.Match.Times, 1)
		if due != nil || f.seen < nth || (!f.Match.Every && f.fired >= times) {
			continue
		}
		due = f
	}
	if due == nil {
		return nil
	}
	due.fired++
	c := *due
	return &c
}

type routeFunc func(w http.ResponseWriter, r *http.Request, body []byte) (status int, user string)

// withFaults applies a matching fault around h and journals the request.
func (s *Server) withFaults(w http.ResponseWriter, r *http.Request, body []byte, h routeFunc) {
	f := s.matchFault(r.Method, r.URL.Path)
	entry := Request{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	entry.Body = string(body[:min(len(body), maxJournalBody)])
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
		time.Sleep(f.Latency) // the request below still happens, whatever the client did meanwhile
	}
	if f.ExpireAccessTokens || f.RevokeRefreshTokens {
		s.mu.Lock()
		s.expireLocked(f.RevokeRefreshTokens)
		s.mu.Unlock()
	}
	switch {
	case f.Status != 0:
		entry.Status = f.Status
		for k, v := range f.Header {
			w.Header().Set(k, v)
		}
		if f.Body != "" {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(f.Status)
			_, _ = w.Write([]byte(f.Body))
			return
		}
		msg := f.Message
		if msg == "" {
			msg = http.StatusText(f.Status)
		}
		s.cfg.Errors(w, f.Status, f.Code, msg)
	case f.DropBeforeCommit:
		entry.Status = -1
		DropConnection(w)
	case f.CommitThenDrop || f.TruncateBody:
		ServeThenBreak(w, f.CommitThenDrop, func(rw http.ResponseWriter) { entry.Status, entry.UserID = h(rw, r, body) })
		if f.CommitThenDrop {
			entry.Status = -1
		}
	default:
		entry.Status, entry.UserID = h(w, r, body)
	}
}

// DropConnection resets the request's connection without an answer, like
// a proxy dying.
func DropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // reset
	}
	_ = conn.Close()
}

// ServeThenBreak lets serve apply the request into a buffer, then breaks
// the answer: drop resets the connection (commit-then-drop), otherwise
// the client gets the headers, the status and half of the body.
func ServeThenBreak(w http.ResponseWriter, drop bool, serve func(http.ResponseWriter)) {
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	serve(rec)
	if drop {
		DropConnection(w)
		return
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes()[:rec.body.Len()/2])
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.status = code }

// control serves the /__emu__/ control plane: POST/DELETE faults, POST
// users, POST browser-user, GET requests, POST expire-tokens, POST
// revoke-tokens. An emulator serves its records' endpoints itself through
// Config.Public.
func (s *Server) control(w http.ResponseWriter, r *http.Request, body []byte) {
	p := strings.TrimPrefix(r.URL.Path, "/__emu__")
	switch {
	case p == "/faults" && r.Method == http.MethodPost:
		var f Fault
		if err := json.Unmarshal(body, &f); err != nil {
			http.Error(w, "bad fault: "+err.Error(), http.StatusBadRequest)
			return
		}
		s.AddFault(f)
		w.WriteHeader(http.StatusNoContent)
	case p == "/faults" && r.Method == http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case p == "/users" && r.Method == http.MethodPost:
		var in struct{ Username, Name string }
		if err := json.Unmarshal(body, &in); err != nil || in.Username == "" {
			http.Error(w, "bad user", http.StatusBadRequest)
			return
		}
		WriteJSON(w, http.StatusCreated, s.AddUser(in.Username, in.Name))
	case p == "/browser-user" && r.Method == http.MethodPost:
		var in struct {
			UserID string `json:"user_id"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, "bad user", http.StatusBadRequest)
			return
		}
		s.SetBrowserUser(in.UserID)
		w.WriteHeader(http.StatusNoContent)
	case p == "/expire-tokens" && r.Method == http.MethodPost:
		s.ExpireAccessTokens()
		w.WriteHeader(http.StatusNoContent)
	case p == "/revoke-tokens" && r.Method == http.MethodPost:
		s.RevokeRefreshTokens()
		w.WriteHeader(http.StatusNoContent)
	case p == "/requests" && r.Method == http.MethodGet:
		WriteJSON(w, http.StatusOK, s.Journal())
	default:
		if s.cfg.Public != nil {
			if _, ok := s.cfg.Public(w, r, body); ok {
				return
			}
		}
		http.Error(w, "unknown control endpoint", http.StatusNotFound)
	}
}
