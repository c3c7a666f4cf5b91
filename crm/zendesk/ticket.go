package zendesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
)

// IdempotencyHeader carries the call key on ticket creation.
const IdempotencyHeader = "Idempotency-Key"

// unassociatedSuffix marks the idempotency key of the second write of a
// log whose requester was deleted: it has another payload, and Zendesk
// refuses a key reused with a different payload.
const unassociatedSuffix = "/unassociated"

// maxComment bounds the comment body (Zendesk accepts far more; notes
// beyond this are cut at a rune boundary).
const maxComment = 60000

// maxSubject bounds the ticket's subject.
const maxSubject = 255

// TicketComment is a ticket's comment.
type TicketComment struct {
	Body   string `json:"body"`
	Public bool   `json:"public"`
}

// TicketField is a custom field value.
type TicketField struct {
	ID    int64  `json:"id"`
	Value string `json:"value"`
}

// Ticket is the ticket written for a call log (the "ticket" object of
// POST /api/v2/tickets.json). It is exported for tests and for the
// admin's preview of the mapping.
type Ticket struct {
	Subject      string        `json:"subject"`
	Comment      TicketComment `json:"comment"`
	RequesterID  int64         `json:"requester_id,omitempty"`
	AssigneeID   int64         `json:"assignee_id,omitempty"`
	ExternalID   string        `json:"external_id"`
	Tags         []string      `json:"tags"`
	Status       string        `json:"status"`
	CustomFields []TicketField `json:"custom_fields,omitempty"`
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func clock(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// TicketFor builds the ticket for log, written by Zendesk user agentUser
// (the assignee) under call key key. It is deterministic: every attempt
// of one log sends the same payload, which the Idempotency-Key requires.
// The subject is the log's Subject (the agent's default call subject,
// trimmed and cut to 255 characters) or, without one, "Inbound call from
// ...", "Outbound call to ..." or "Missed call from ...".
func (c *Connector) TicketFor(log domain.CallLog, key string, agentUser int64) Ticket {
	who := log.Remote.Number
	if who == "" {
		who = log.Remote.Label()
	}
	kind, subject, tag := "Inbound call", "Inbound call from "+who, "inbound_call"
	switch {
	case log.Direction == domain.DirectionOutbound:
		kind, subject, tag = "Outbound call", "Outbound call to "+who, "outbound_call"
	case log.Missed:
		kind, subject, tag = "Missed inbound call", "Missed call from "+who, "missed_call"
	}
	if s := crm.CallSubject(log.Subject, maxSubject); s != "" {
		subject = s
	} else {
		subject = truncate(subject, maxSubject)
	}
	var b strings.Builder
	line := func(label, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", label, v)
		}
	}
	b.WriteString(kind + "\n")
	party := log.Remote.Number
	if log.Remote.Name != "" && log.Remote.Name != party {
		party = strings.TrimSpace(party + " (" + log.Remote.Name + ")")
	}
	if log.Direction == domain.DirectionOutbound {
		line("To", party)
	} else {
		line("From", party)
		line("Dialed number", log.DialedNumber)
	}
	line("Queue", log.Queue)
	if !log.StartedAt.IsZero() {
		line("Started", stamp(log.StartedAt))
	}
	if !log.AnsweredAt.IsZero() {
		line("Answered", stamp(log.AnsweredAt))
	}
	if !log.EndedAt.IsZero() {
		line("Ended", stamp(log.EndedAt))
	}
	line("Talk time", clock(log.Talk))
	if log.Hold > 0 {
		line("Hold time", clock(log.Hold))
	}
	line("Outcome", log.Outcome)
	for _, r := range log.Recordings {
		line("Recording", r)
	}
	line("Call key", key)
	if log.Notes != "" {
		b.WriteString("\nNotes:\n" + log.Notes + "\n")
	}
	t := Ticket{
		Subject:    subject,
		Comment:    TicketComment{Body: truncate(b.String(), maxComment), Public: false},
		AssigneeID: agentUser,
		ExternalID: key,
		Tags:       append(append([]string{}, c.cfg.Tags...), tag),
		Status:     c.cfg.TicketStatus,
	}
	if id, ok := numericID(log.RecordID); ok {
		typ := TypeUser
		for _, m := range log.Matches {
			if m.ID == log.RecordID {
				typ = m.Type
			}
		}
		if typ == TypeUser || typ == "" {
			t.RequesterID = id
		}
	}
	if c.cfg.CallKeyFieldID != 0 {
		t.CustomFields = []TicketField{{ID: c.cfg.CallKeyFieldID, Value: key}}
	}
	return t
}

// LogCalls implements crm.Session with one ticket per log (MaxBatch 1).
// A log that may already exist is looked up by external_id first; the
// create carries the call key as Idempotency-Key, so a replay within
// Zendesk's retention window returns the original ticket (Created false).
// A deleted requester is a stale reference: the ticket is written once
// more without it (Unassociated). Refusals (422 RecordInvalid, 403 ...)
// are per-item permanent errors; anything else fails the request.
func (s *Session) LogCalls(ctx context.Context, items []crm.LogItem) ([]crm.LogResult, error) {
	if len(items) > MaxBatch {
		return nil, fmt.Errorf("zendesk: %d logs in one request, at most %d", len(items), MaxBatch)
	}
	results := make([]crm.LogResult, len(items))
	for i, it := range items {
		r, err := s.logOne(ctx, it)
		if err != nil {
			return nil, err
		}
		results[i] = r
	}
	return results, nil
}

func (s *Session) logOne(ctx context.Context, it crm.LogItem) (crm.LogResult, error) {
	switch {
	case it.AgentID != s.agent:
		return crm.LogResult{Err: fmt.Errorf("zendesk: %w", crm.ErrWrongAgent)}, nil
	case it.Key == "":
		return crm.LogResult{Err: &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "no_key", Message: "call log without idempotency key"}}, nil
	}
	if it.MayExist {
		id, found, err := s.ticketByExternalID(ctx, it.Key)
		if err != nil {
			return crm.LogResult{}, err
		}
		if found {
			return crm.LogResult{ID: id}, nil
		}
	}
	agent, err := s.agentUserID(ctx)
	if err != nil {
		return crm.LogResult{}, err
	}
	t := s.c.TicketFor(it.Log, it.Key, agent)
	res, err := s.create(ctx, it.Key, t)
	if crm.KindOf(err) == crm.KindStaleReference && t.RequesterID != 0 {
		t.RequesterID = 0
		res, err = s.create(ctx, it.Key+unassociatedSuffix, t)
		res.Unassociated = err == nil
	}
	var ce *crm.Error
	if errors.As(err, &ce) && ce.Code == "IdempotentRequestError" {
		// The key was used with another payload (a changed mapping, an
		// earlier version): the ticket exists if external_id says so.
		id, found, ferr := s.ticketByExternalID(ctx, it.Key)
		if ferr != nil {
			return crm.LogResult{}, ferr
		}
		if found {
			return crm.LogResult{ID: id}, nil
		}
	}
	if err != nil {
		switch crm.KindOf(err) {
		case crm.KindPermanent, crm.KindStaleReference:
			return crm.LogResult{Err: err}, nil
		}
		return crm.LogResult{}, err
	}
	return res, nil
}

// create posts the ticket with key as Idempotency-Key.
func (s *Session) create(ctx context.Context, key string, t Ticket) (crm.LogResult, error) {
	h := http.Header{}
	h.Set(IdempotencyHeader, key)
	r, err := s.do(ctx, http.MethodPost, "/api/v2/tickets.json", nil, h, map[string]Ticket{"ticket": t}, true)
	if err != nil {
		return crm.LogResult{}, err
	}
	var out struct {
		Ticket *struct {
			ID int64 `json:"id"`
		} `json:"ticket"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil || out.Ticket == nil || out.Ticket.ID == 0 {
		return crm.LogResult{}, badResponse("ticket create response", err, true)
	}
	hit := strings.EqualFold(r.header.Get("x-idempotency-lookup"), "hit")
	return crm.LogResult{ID: strconv.FormatInt(out.Ticket.ID, 10), Created: !hit}, nil
}

// ticketByExternalID finds the ticket of a call key
// (GET /api/v2/tickets.json?external_id=KEY).
func (s *Session) ticketByExternalID(ctx context.Context, key string) (string, bool, error) {
	r, err := s.do(ctx, http.MethodGet, "/api/v2/tickets.json", url.Values{"external_id": {key}}, nil, nil, false)
	if err != nil {
		return "", false, err
	}
	var out struct {
		Tickets []struct {
			ID         int64  `json:"id"`
			ExternalID string `json:"external_id"`
		} `json:"tickets"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil || out.Tickets == nil {
		return "", false, badResponse("ticket list", err, false)
	}
	for _, t := range out.Tickets {
		if t.ExternalID == key && t.ID != 0 {
			return strconv.FormatInt(t.ID, 10), true, nil
		}
	}
	return "", false, nil
}
