package sfemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/callcentre/softphone/crm/emukit"
)

// Match selects the requests a fault applies to (emukit's). Its Path is
// matched against the path after /services/data/vNN.N (or the full path
// for /services/oauth2/...).
type Match = emukit.Match

// Fault is what happens to a matching request.
type Fault struct {
	Match Match `json:"match"`

	Status    int    `json:"status,omitempty"`    // answer with this status, not applying the request
	ErrorCode string `json:"errorCode,omitempty"` // with the Salesforce error envelope
	Message   string `json:"message,omitempty"`
	Body      string `json:"body,omitempty"` // raw non-JSON body (an HTML error page)

	Latency             time.Duration `json:"latency,omitempty"`            // sleep first; the request is still applied
	ExpireAccessTokens  bool          `json:"expireAccessTokens,omitempty"` // then answer 401 INVALID_SESSION_ID
	RevokeRefreshTokens bool          `json:"revokeRefreshTokens,omitempty"`
	CommitThenDrop      bool          `json:"commitThenDrop,omitempty"`   // apply, then reset the connection without answering
	DropBeforeCommit    bool          `json:"dropBeforeCommit,omitempty"` // reset the connection without applying
	TruncateBody        bool          `json:"truncateBody,omitempty"`     // apply, then answer half of the JSON

	seen, fired int
}

func (f *Fault) describe() string {
	switch {
	case f.Status != 0:
		return fmt.Sprintf("status %d %s", f.Status, f.ErrorCode)
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

// FaultsFired counts how many requests faults have hit so far.
func (s *Server) FaultsFired() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.faults {
		n += f.fired
	}
	return n
}

// matchFault returns the fault that fires for this request, if any.
func (s *Server) matchFault(method, path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if !f.Match.Matches(method, path) {
			continue
		}
		f.seen++
		nth := max(f.Match.Nth, 1)
		times := max(f.Match.Times, 1)
		if f.seen < nth || (!f.Match.Every && f.fired >= times) {
			continue
		}
		f.fired++
		c := *f
		return &c
	}
	return nil
}

// control serves the /__emu__/ control plane.
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
	case p == "/reset" && r.Method == http.MethodPost:
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	case p == "/seed" && r.Method == http.MethodPost:
		var in struct {
			Type   string `json:"type"`
			Fields Record `json:"fields"`
		}
		if err := json.Unmarshal(body, &in); err != nil {
			http.Error(w, "bad seed: "+err.Error(), http.StatusBadRequest)
			return
		}
		id, err := s.Seed(in.Type, in.Fields)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": id})
	case p == "/users" && r.Method == http.MethodPost:
		var in struct{ Username, Name string }
		if err := json.Unmarshal(body, &in); err != nil || in.Username == "" {
			http.Error(w, "bad user", http.StatusBadRequest)
			return
		}
		writeJSON(w, http.StatusCreated, s.AddUser(in.Username, in.Name))
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
	case p == "/requests" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Journal())
	case strings.HasPrefix(p, "/records/") && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Records(strings.TrimPrefix(p, "/records/")))
	default:
		http.Error(w, "unknown control endpoint", http.StatusNotFound)
	}
}
