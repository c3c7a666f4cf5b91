package servicenow

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

// userTables are the tables whose rows opened_for (a sys_user reference)
// can point at: customer_contact and csm_consumer extend sys_user.
var userTables = map[string]bool{"": true, "sys_user": true, "customer_contact": true, "csm_consumer": true}

// maxShortDescription is the length of the interaction's
// short_description (160 characters, as on task).
const maxShortDescription = 160

// InteractionFields builds the interaction row written for a call log
// (with the call key field): type phone, direction, state
// closed_complete, short_description (the log's Subject, trimmed and cut
// to 160 characters, or without one "Inbound call from ...", "Outbound
// call to ..." or "Missed call from ..."), work_notes (the notes), opened_at
// and closed_at (UTC, the Table API's format), assigned_to (agentSysID),
// opened_for (the matched contact or user), and the FieldMap columns. It
// is exported for tests and for the admin's preview of the mapping.
func (c *Connector) InteractionFields(key string, log domain.CallLog, agentSysID string) map[string]any {
	dir, verb := "inbound", "Inbound call from "
	switch {
	case log.Direction == domain.DirectionOutbound:
		dir, verb = "outbound", "Outbound call to "
	case log.Missed:
		verb = "Missed call from "
	}
	who := log.Remote.Number
	if who == "" {
		who = log.Remote.Label()
	}
	short := crm.CallSubject(log.Subject, maxShortDescription)
	if short == "" {
		short = truncate(verb+who, maxShortDescription)
	}
	f := map[string]any{
		c.cfg.CallKeyField:  key,
		"type":              "phone",
		"direction":         dir,
		"state":             "closed_complete",
		"short_description": short,
	}
	if agentSysID != "" {
		f["assigned_to"] = agentSysID
	}
	if log.Notes != "" {
		f["work_notes"] = truncate(log.Notes, 32000)
	}
	if !log.StartedAt.IsZero() {
		f["opened_at"] = stamp(log.StartedAt)
	}
	if !log.EndedAt.IsZero() {
		f["closed_at"] = stamp(log.EndedAt)
	}
	if log.RecordID != "" && sysIDRE.MatchString(log.RecordID) {
		typ := ""
		for _, m := range log.Matches {
			if m.ID == log.RecordID {
				typ = m.Type
			}
		}
		if userTables[typ] {
			f["opened_for"] = log.RecordID
		}
	}
	set := func(key string, v string) {
		if col := c.cfg.FieldMap[key]; col != "" && v != "" {
			f[col] = v
		}
	}
	set(FieldDuration, strconv.Itoa(int(log.Talk/time.Second)))
	set(FieldRemoteNumber, log.Remote.Number)
	set(FieldDialedNumber, log.DialedNumber)
	set(FieldOutcome, truncate(log.Outcome, 255))
	set(FieldQueue, truncate(log.Queue, 255))
	set(FieldRecording, truncate(strings.Join(log.Recordings, "\n"), 4000))
	return f
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// keyOK accepts keys that cannot change the meaning of an encoded query.
func keyOK(k string) bool {
	return k != "" && len(k) <= 255 && !strings.ContainsAny(k, "^=,\n\r ")
}

// LogCalls implements crm.Session, one log per request (MaxBatch 1).
// A log that may already exist is looked up by its call key first
// (?sysparm_query={key field}={key}&sysparm_limit=1, verified
// client-side) and reported as existing without writing; otherwise it is
// inserted through the Table API, or the import set with ImportSetTable. An insert the instance
// aborts with 403 "Operation Failed" (the unique index on the call key
// refusing a second row, a data policy, a business rule) is checked
// against the key again: an existing row is success, anything else a
// permanent refusal with the instance's detail. An insert whose answer
// lacks the call key means the field does not exist: that call is logged,
// and every later log is refused permanently without being written
// (replays could duplicate) until the connector is rebuilt after the
// admin created the field. Through an import
// set, the transform's coalesce on the call key makes even a blind replay
// update the same interaction instead of adding one.
func (s *session) LogCalls(ctx context.Context, items []crm.LogItem) ([]crm.LogResult, error) {
	if len(items) > MaxBatch {
		return nil, fmt.Errorf("servicenow: %d logs in one request, at most %d", len(items), MaxBatch)
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

func (s *session) logOne(ctx context.Context, it crm.LogItem) (crm.LogResult, error) {
	switch {
	case it.AgentID != s.agent:
		return crm.LogResult{Err: fmt.Errorf("servicenow: %w", crm.ErrWrongAgent)}, nil
	case !keyOK(it.Key):
		return crm.LogResult{Err: &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "bad_key", Message: "call log without a usable idempotency key"}}, nil
	}
	if s.c.keyFieldMissing.Load() {
		return crm.LogResult{Err: s.c.keyFieldError()}, nil
	}
	agentSysID, err := s.agentSysID(ctx)
	if err != nil {
		return crm.LogResult{}, err
	}
	if it.MayExist {
		id, err := s.existing(ctx, it.Key)
		if err != nil {
			return crm.LogResult{}, err
		}
		if id != "" {
			return crm.LogResult{ID: id}, nil
		}
	}
	fields := s.c.InteractionFields(it.Key, it.Log, agentSysID)
	if s.c.cfg.ImportSetTable != "" {
		return s.importRow(ctx, fields)
	}
	return s.insert(ctx, it.Key, fields)
}

// existing returns the sys_id of the interaction holding key, or "".
func (s *session) existing(ctx context.Context, key string) (string, error) {
	kf := s.c.cfg.CallKeyField
	rows, err := s.list(ctx, s.c.cfg.InteractionTable, url.Values{
		"sysparm_query":                  {kf + "=" + key},
		"sysparm_fields":                 {"sys_id," + kf},
		"sysparm_limit":                  {"1"},
		"sysparm_exclude_reference_link": {"true"},
	})
	if err != nil {
		return "", err
	}
	for _, r := range rows {
		// An instance without the field ignores the condition and returns
		// any row: only a row carrying the key counts.
		if r.str(kf) == key && r.str("sys_id") != "" {
			return r.str("sys_id"), nil
		}
	}
	return "", nil
}

func (s *session) insert(ctx context.Context, key string, fields map[string]any) (crm.LogResult, error) {
	kf := s.c.cfg.CallKeyField
	body, err := s.do(ctx, http.MethodPost, "/api/now/v2/table/"+s.c.cfg.InteractionTable, url.Values{
		"sysparm_fields":                 {"sys_id,number," + kf},
		"sysparm_exclude_reference_link": {"true"},
	}, fields, true)
	if err != nil {
		var e *crm.Error
		if !errors.As(err, &e) || e.Kind != crm.KindPermanent {
			return crm.LogResult{}, err
		}
		if e.Status == http.StatusForbidden && e.Code == "Operation Failed" {
			// The unique index refuses a second row with the key; so do
			// data policies and business rules: look.
			id, lerr := s.existing(ctx, key)
			if lerr != nil {
				return crm.LogResult{}, lerr
			}
			if id != "" {
				return crm.LogResult{ID: id}, nil
			}
		}
		return crm.LogResult{Err: err}, nil
	}
	var res struct {
		Result snRecord `json:"result"`
	}
	if err := json.Unmarshal(body, &res); err != nil || res.Result.str("sys_id") == "" {
		return crm.LogResult{}, badResponse(true, "insert response", err)
	}
	if res.Result.str(kf) != key {
		// The call is logged, but nothing else can be without risking
		// duplicates: stop writing until the field exists.
		s.c.keyFieldMissing.Store(true)
		s.c.cfg.Logger.Error("call key field missing: logging stopped", "table", s.c.cfg.InteractionTable, "field", kf)
	}
	return crm.LogResult{ID: res.Result.str("sys_id"), Created: true}, nil
}

// importRow sends the row through the Import Set API.
func (s *session) importRow(ctx context.Context, fields map[string]any) (crm.LogResult, error) {
	body, err := s.do(ctx, http.MethodPost, "/api/now/import/"+s.c.cfg.ImportSetTable, nil, fields, true)
	if err != nil {
		if crm.KindOf(err) == crm.KindPermanent {
			return crm.LogResult{Err: err}, nil
		}
		return crm.LogResult{}, err
	}
	var res struct {
		Result []struct {
			Status        string `json:"status"`
			SysID         string `json:"sys_id"`
			Table         string `json:"table"`
			StatusMessage string `json:"status_message"`
			ErrorMessage  string `json:"error_message"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &res); err != nil || len(res.Result) == 0 {
		return crm.LogResult{}, badResponse(true, "import set response", err)
	}
	r := res.Result[0]
	switch r.Status {
	case "inserted":
		if r.SysID != "" {
			return crm.LogResult{ID: r.SysID, Created: true}, nil
		}
	case "updated", "ignored", "skipped":
		if r.SysID != "" {
			return crm.LogResult{ID: r.SysID}, nil
		}
	case "error":
		msg := r.ErrorMessage
		if msg == "" {
			msg = r.StatusMessage
		}
		return crm.LogResult{Err: &crm.Error{CRM: Name, Kind: crm.KindPermanent, Status: http.StatusCreated, Code: "transform_error", Message: msg}}, nil
	}
	return crm.LogResult{}, badResponse(true, "import set result", nil)
}

// keyFieldError is the refusal of every log once the call key field was
// found missing.
func (c *Connector) keyFieldError() error {
	return &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "no_call_key_field",
		Message: fmt.Sprintf("the %s table has no %s field, so calls could be logged twice: create it with a unique index (see the connector's README), restart the softphone and resend", c.cfg.InteractionTable, c.cfg.CallKeyField)}
}
