package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/callcentre/softphone/agent"
	"github.com/callcentre/softphone/agent/domain"
)

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /v1/state", s.getState)
	m.HandleFunc("GET /v1/events", s.events)
	m.HandleFunc("POST /v1/login", s.login)
	m.HandleFunc("POST /v1/logout", s.logout)
	m.HandleFunc("POST /v1/status", s.setStatus)
	m.HandleFunc("POST /v1/calls", s.dial)
	m.HandleFunc("POST /v1/calls/{id}/answer", s.callCmd(func(a *agent.Agent, id domain.CallID) error { return a.Answer(id) }))
	m.HandleFunc("POST /v1/calls/{id}/reject", s.callCmd(func(a *agent.Agent, id domain.CallID) error { return a.Reject(id, false) }))
	m.HandleFunc("POST /v1/calls/{id}/hangup", s.callCmd(func(a *agent.Agent, id domain.CallID) error { return a.Hangup(id) }))
	m.HandleFunc("POST /v1/calls/{id}/hold", s.callCmd(func(a *agent.Agent, id domain.CallID) error { return a.Hold(id) }))
	m.HandleFunc("POST /v1/calls/{id}/resume", s.callCmd(func(a *agent.Agent, id domain.CallID) error { return a.Resume(id) }))
	m.HandleFunc("POST /v1/calls/{id}/complete-transfer", s.callCmd(func(a *agent.Agent, id domain.CallID) error { return a.CompleteTransfer(id) }))
	m.HandleFunc("POST /v1/calls/{id}/merge", s.callCmd(func(a *agent.Agent, id domain.CallID) error { return a.Merge(id) }))
	m.HandleFunc("POST /v1/calls/{id}/cancel-consult", s.callCmd(func(a *agent.Agent, id domain.CallID) error { return a.CancelConsult(id) }))
	m.HandleFunc("POST /v1/calls/{id}/transfer", s.transfer)
	m.HandleFunc("POST /v1/calls/{id}/consult", s.consult)
	m.HandleFunc("POST /v1/calls/{id}/dtmf", s.dtmf)
	m.HandleFunc("POST /v1/interactions/{key}/wrapup", s.wrapUp)
	m.HandleFunc("POST /v1/interactions/{key}/end-conference", s.endConference)
	s.mux = m
}

// accepted answers a command the core has queued.
func accepted(w http.ResponseWriter, body map[string]string) {
	if body == nil {
		body = map[string]string{}
	}
	body["status"] = "accepted"
	writeJSON(w, http.StatusAccepted, body)
}

// coreError answers a command the core refused to queue.
func coreError(w http.ResponseWriter, err error) {
	if errors.Is(err, agent.ErrStopped) {
		writeError(w, http.StatusServiceUnavailable, "the softphone is shutting down")
		return
	}
	writeError(w, http.StatusServiceUnavailable, "the softphone is busy: "+err.Error())
}

func (s *Server) getState(w http.ResponseWriter, r *http.Request) {
	s.fresh(r.Context())
	writeJSON(w, http.StatusOK, s.State())
}

// fresh waits (briefly) until the server's mirror reflects every command
// queued before it, so a client reads its own writes: a call it has just
// dialled is known to the next request.
func (s *Server) fresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.core.Sync(ctx); err != nil {
		return
	}
	want := s.core.Seq()
	for {
		s.mu.Lock()
		seq := s.mirror.Seq
		s.mu.Unlock()
		if seq >= want {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Millisecond):
		}
	}
}

type loginReq struct {
	AgentID string `json:"agent_id"`
	Name    string `json:"name"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginReq
	if err := decode(r, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	id := strings.TrimSpace(req.AgentID)
	if id == "" || len(id) > 128 {
		writeError(w, http.StatusBadRequest, "agent_id is required (at most 128 characters)")
		return
	}
	if err := s.core.Login(domain.AgentInfo{ID: id, Name: strings.TrimSpace(req.Name)}, s.config(id)); err != nil {
		coreError(w, err)
		return
	}
	accepted(w, nil)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if err := s.core.Logout(); err != nil {
		coreError(w, err)
		return
	}
	accepted(w, nil)
}

type statusReq struct {
	Status string `json:"status"` // available, break, dnd, offline
	Reason string `json:"reason"`
}

func (s *Server) setStatus(w http.ResponseWriter, r *http.Request) {
	var req statusReq
	if err := decode(r, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var p domain.Presence
	switch strings.ToLower(strings.TrimSpace(req.Status)) {
	case "available":
		p = domain.PresenceAvailable
	case "break":
		p = domain.PresenceBreak
		if strings.TrimSpace(req.Reason) == "" {
			writeError(w, http.StatusBadRequest, "a break needs a reason")
			return
		}
	case "dnd":
		p = domain.PresenceDND
	case "offline":
		p = domain.PresenceOffline
	default:
		writeError(w, http.StatusBadRequest, "status must be available, break, dnd or offline")
		return
	}
	reason := ""
	if p == domain.PresenceBreak {
		reason = strings.TrimSpace(req.Reason)
	}
	if err := s.core.SetStatus(domain.Status{Presence: p, Reason: reason}); err != nil {
		coreError(w, err)
		return
	}
	accepted(w, nil)
}

type dialReq struct {
	Number string `json:"number"`
}

func (s *Server) dial(w http.ResponseWriter, r *http.Request) {
	var req dialReq
	if err := decode(r, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	target, err := domain.NormalizeDialString(req.Number)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	id, err := s.core.Dial(target)
	if err != nil {
		coreError(w, err)
		return
	}
	accepted(w, map[string]string{"id": string(id), "target": target})
}

// knownCall checks that id is a live call.
func (s *Server) knownCall(w http.ResponseWriter, r *http.Request) (domain.CallID, bool) {
	id := domain.CallID(r.PathValue("id"))
	s.fresh(r.Context())
	s.mu.Lock()
	ok := s.mirror.Call(id) != nil
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no live call %q", id))
	}
	return id, ok
}

func (s *Server) callCmd(fn func(*agent.Agent, domain.CallID) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := decode(r, &struct{}{}, true); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		id, ok := s.knownCall(w, r)
		if !ok {
			return
		}
		if err := fn(s.core, id); err != nil {
			coreError(w, err)
			return
		}
		accepted(w, nil)
	}
}

type targetReq struct {
	Target string `json:"target"`
}

func (s *Server) targetOf(w http.ResponseWriter, r *http.Request) (domain.CallID, string, bool) {
	var req targetReq
	if err := decode(r, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", "", false
	}
	target, err := domain.NormalizeDialString(req.Target)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", "", false
	}
	id, ok := s.knownCall(w, r)
	return id, target, ok
}

func (s *Server) transfer(w http.ResponseWriter, r *http.Request) {
	id, target, ok := s.targetOf(w, r)
	if !ok {
		return
	}
	if err := s.core.BlindTransfer(id, target); err != nil {
		coreError(w, err)
		return
	}
	accepted(w, nil)
}

func (s *Server) consult(w http.ResponseWriter, r *http.Request) {
	id, target, ok := s.targetOf(w, r)
	if !ok {
		return
	}
	nid, err := s.core.Consult(id, target)
	if err != nil {
		coreError(w, err)
		return
	}
	accepted(w, map[string]string{"id": string(nid), "target": target})
}

type dtmfReq struct {
	Digits string `json:"digits"`
}

func (s *Server) dtmf(w http.ResponseWriter, r *http.Request) {
	var req dtmfReq
	if err := decode(r, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !domain.ValidDTMF(req.Digits) {
		writeError(w, http.StatusBadRequest, "digits must be 0-9, *, #, A-D")
		return
	}
	id, ok := s.knownCall(w, r)
	if !ok {
		return
	}
	if err := s.core.SendDTMF(id, req.Digits); err != nil {
		coreError(w, err)
		return
	}
	accepted(w, nil)
}

type wrapUpReq struct {
	Outcome  *string `json:"outcome"`
	Notes    *string `json:"notes"`
	DoNotLog *bool   `json:"do_not_log"`
	Complete bool    `json:"complete"`
}

// maxNotes bounds the notes of one interaction.
const maxNotes = 32 << 10

func (s *Server) knownInteraction(w http.ResponseWriter, r *http.Request) (string, bool) {
	key := r.PathValue("key")
	s.fresh(r.Context())
	s.mu.Lock()
	ok := s.mirror.Interaction(key) != nil
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no open interaction %q", key))
	}
	return key, ok
}

func (s *Server) wrapUp(w http.ResponseWriter, r *http.Request) {
	var req wrapUpReq
	if err := decode(r, &req, false); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Notes != nil && len(*req.Notes) > maxNotes {
		writeError(w, http.StatusBadRequest, "notes are too long")
		return
	}
	key, ok := s.knownInteraction(w, r)
	if !ok {
		return
	}
	// The commands are queued in order, so the log carries the outcome and
	// notes given in the same request.
	var err error
	if req.Outcome != nil {
		err = s.core.SetOutcome(key, *req.Outcome)
	}
	if err == nil && req.Notes != nil {
		err = s.core.SetNotes(key, *req.Notes)
	}
	if err == nil && req.DoNotLog != nil {
		err = s.core.SetDoNotLog(key, *req.DoNotLog)
	}
	if err == nil && req.Complete {
		err = s.core.CompleteWrapUp(key)
	}
	if err != nil {
		coreError(w, err)
		return
	}
	accepted(w, nil)
}

func (s *Server) endConference(w http.ResponseWriter, r *http.Request) {
	if err := decode(r, &struct{}{}, true); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	key, ok := s.knownInteraction(w, r)
	if !ok {
		return
	}
	if err := s.core.EndConference(key); err != nil {
		coreError(w, err)
		return
	}
	accepted(w, nil)
}

// ---- event stream ----

// Event is one Server-Sent Event of GET /v1/events: the full state after a
// change and the notices the change produced. The first event of a stream
// has Initial set.
type Event struct {
	Initial bool     `json:"initial"`
	State   State    `json:"state"`
	Notices []Notice `json:"notices,omitempty"`
}

func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	// Each stream has its own ordered, unbounded queue filled by its own
	// watcher: nothing is dropped and a slow client delays only itself.
	var (
		mu    sync.Mutex
		queue []agent.Notify
		wake  = make(chan struct{}, 1)
	)
	stop := s.core.Watch(r.Context(), func(n agent.Notify) {
		mu.Lock()
		queue = append(queue, n)
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	})
	defer stop()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Connection", "keep-alive")
	w.WriteHeader(http.StatusOK)
	fl.Flush()
	var m agent.Mirror
	beat := time.NewTicker(s.beat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.core.Done():
			return
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			fl.Flush()
		case <-wake:
			mu.Lock()
			q := queue
			queue = nil
			mu.Unlock()
			for _, n := range q {
				ev := EventOf(&m, n)
				b, err := json.Marshal(ev)
				if err != nil {
					s.log.Error("cannot encode event", "error", err)
					return
				}
				if _, err := fmt.Fprintf(w, "id: %d\nevent: state\ndata: %s\n\n", n.Seq, b); err != nil {
					return
				}
			}
			fl.Flush()
		}
	}
}
