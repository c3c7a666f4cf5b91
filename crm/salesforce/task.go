package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
)

// MaxSubject is the length of Task.Subject (255 characters).
const MaxSubject = 255

// TaskFields builds the Task written for a call log (without the
// external ID). Subject is the log's Subject (the agent's default call
// subject, trimmed and cut to MaxSubject) or, without one, "Inbound call
// from ...", "Outbound call to ..." or "Missed call from ...". It is
// exported for tests and for the admin's preview of the field mapping.
func (c *Connector) TaskFields(log domain.CallLog) map[string]any {
	callType, verb := "Inbound", "Inbound call from "
	switch {
	case log.Direction == domain.DirectionOutbound:
		callType, verb = "Outbound", "Outbound call to "
	case log.Missed:
		verb = "Missed call from "
	}
	who := log.Remote.Number
	if who == "" {
		who = log.Remote.Label()
	}
	subject := crm.CallSubject(log.Subject, MaxSubject)
	if subject == "" {
		subject = truncate(verb+who, MaxSubject)
	}
	f := map[string]any{
		"Subject":               subject,
		"TaskSubtype":           "Call",
		"CallType":              callType,
		"CallDurationInSeconds": int(log.Talk / time.Second),
		"CallObject":            truncate(log.Key, 255),
		"ActivityDate":          activityDate(log, c.cfg.Location),
		"Status":                c.cfg.TaskStatus,
		"Priority":              "Normal",
	}
	if log.Outcome != "" {
		f["CallDisposition"] = truncate(log.Outcome, 255)
	}
	if log.Notes != "" {
		f["Description"] = truncate(log.Notes, 32000)
	}
	if log.RecordID != "" {
		typ := typeOfID(log.RecordID)
		for _, m := range log.Matches {
			if m.ID == log.RecordID && m.Type != "" {
				typ = m.Type
			}
		}
		switch typ {
		case "Contact", "Lead":
			f["WhoId"] = log.RecordID
		case "Account", "PersonAccount":
			f["WhatId"] = log.RecordID
		}
	}
	set := func(key string, v any, ok bool) {
		if name := c.cfg.FieldMap[key]; name != "" && ok {
			f[name] = v
		}
	}
	set(FieldRemoteNumber, log.Remote.Number, log.Remote.Number != "")
	set(FieldDialedNumber, log.DialedNumber, log.DialedNumber != "")
	set(FieldStartedAt, stamp(log.StartedAt), !log.StartedAt.IsZero())
	set(FieldAnsweredAt, stamp(log.AnsweredAt), !log.AnsweredAt.IsZero())
	set(FieldEndedAt, stamp(log.EndedAt), !log.EndedAt.IsZero())
	set(FieldQueue, log.Queue, log.Queue != "")
	set(FieldHoldSeconds, int(log.Hold/time.Second), true)
	set(FieldOutcome, log.Outcome, log.Outcome != "")
	if len(log.Recordings) > 0 {
		set(FieldRecording, truncate(strings.Join(log.Recordings, "\n"), 1000), true)
	}
	return f
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func activityDate(log domain.CallLog, loc *time.Location) string {
	t := log.StartedAt
	if t.IsZero() {
		t = log.EndedAt
	}
	return t.In(loc).Format("2006-01-02")
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

type saveResult struct {
	ID      string    `json:"id"`
	Success bool      `json:"success"`
	Errors  []sfError `json:"errors"`
	Created *bool     `json:"created"`
}

// LogCalls implements crm.Session. Items that may already exist are read
// first (one GET, or one SOQL query for a batch) and reported as existing
// without writing; the rest are upserted on the external ID field, one by
// PATCH or up to 200 through sObject Collections. A record whose WhoId or
// WhatId was deleted is written again once without them.
func (s *session) LogCalls(ctx context.Context, items []crm.LogItem) ([]crm.LogResult, error) {
	if len(items) > MaxBatch {
		return nil, fmt.Errorf("salesforce: %d logs in one batch, at most %d", len(items), MaxBatch)
	}
	results := make([]crm.LogResult, len(items))
	var todo []int
	var check []int
	for i, it := range items {
		switch {
		case it.AgentID != s.agent:
			results[i].Err = fmt.Errorf("salesforce: %w", crm.ErrWrongAgent)
		case it.Key == "":
			results[i].Err = &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "NO_KEY", Message: "call log without idempotency key"}
		case it.MayExist:
			check = append(check, i)
		default:
			todo = append(todo, i)
		}
	}
	if len(check) > 0 {
		found, err := s.existing(ctx, items, check)
		if err != nil {
			return nil, err
		}
		for _, i := range check {
			if id, ok := found[items[i].Key]; ok {
				results[i] = crm.LogResult{ID: id, Created: false}
			} else {
				todo = append(todo, i)
			}
		}
	}
	if len(todo) == 0 {
		return results, nil
	}
	recs := make([]map[string]any, len(items))
	for _, i := range todo {
		recs[i] = s.c.TaskFields(items[i].Log)
	}
	if err := s.write(ctx, items, recs, todo, results); err != nil {
		return nil, err
	}
	// Deleted or merged contacts/accounts: log unassociated, once.
	var stale []int
	for _, i := range todo {
		if crm.KindOf(results[i].Err) == crm.KindStaleReference {
			delete(recs[i], "WhoId")
			delete(recs[i], "WhatId")
			stale = append(stale, i)
		}
	}
	if len(stale) > 0 {
		if err := s.write(ctx, items, recs, stale, results); err != nil {
			return nil, err
		}
		for _, i := range stale {
			results[i].Unassociated = results[i].Err == nil
		}
	}
	return results, nil
}

// existing finds which of the items at idx already have a Task.
func (s *session) existing(ctx context.Context, items []crm.LogItem, idx []int) (map[string]string, error) {
	ext := s.c.cfg.ExternalIDField
	found := map[string]string{}
	if len(idx) == 1 {
		key := items[idx[0]].Key
		body, err := s.do(ctx, http.MethodGet, s.dataPath("/sobjects/Task/"+ext+"/"+url.PathEscape(key)), url.Values{"fields": {"Id"}}, nil, false)
		if crm.KindOf(err) == crm.KindPermanent && isNotFound(err) {
			return found, nil
		}
		if err != nil {
			return nil, err
		}
		var r struct {
			ID string `json:"Id"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.ID == "" {
			return nil, &crm.Error{CRM: Name, Kind: crm.KindTransient, Code: "bad_response", Message: "unreadable task", Err: err}
		}
		found[key] = r.ID
		return found, nil
	}
	quoted := make([]string, 0, len(idx))
	for _, i := range idx {
		quoted = append(quoted, "'"+strings.ReplaceAll(strings.ReplaceAll(items[i].Key, `\`, `\\`), `'`, `\'`)+"'")
	}
	q := "SELECT Id, " + ext + " FROM Task WHERE " + ext + " IN (" + strings.Join(quoted, ",") + ")"
	body, err := s.do(ctx, http.MethodGet, s.dataPath("/query"), url.Values{"q": {q}}, nil, false)
	if err != nil {
		return nil, err
	}
	var res struct {
		Records []map[string]any `json:"records"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return nil, &crm.Error{CRM: Name, Kind: crm.KindTransient, Code: "bad_response", Message: "unreadable query response", Err: err}
	}
	for _, r := range res.Records {
		id, _ := r["Id"].(string)
		key, _ := r[ext].(string)
		if id != "" && key != "" {
			found[key] = id
		}
	}
	return found, nil
}

func isNotFound(err error) bool {
	var e *crm.Error
	return asError(err, &e) && e.Status == http.StatusNotFound && e.Code == "NOT_FOUND"
}

// write upserts the records at idx and fills their results. An error means
// the whole request failed.
func (s *session) write(ctx context.Context, items []crm.LogItem, recs []map[string]any, idx []int, results []crm.LogResult) error {
	ext := s.c.cfg.ExternalIDField
	if len(idx) == 1 {
		i := idx[0]
		body, err := s.do(ctx, http.MethodPatch, s.dataPath("/sobjects/Task/"+ext+"/"+url.PathEscape(items[i].Key)), nil, recs[i], true)
		if err != nil {
			if k := crm.KindOf(err); k == crm.KindPermanent || k == crm.KindStaleReference || k == crm.KindAlreadyExists {
				results[i] = itemResult(err)
				return nil
			}
			return err
		}
		if len(body) == 0 { // 204: updated (API < 46)
			results[i] = crm.LogResult{}
			return nil
		}
		var r saveResult
		if err := json.Unmarshal(body, &r); err != nil || r.ID == "" {
			return &crm.Error{CRM: Name, Kind: crm.KindAmbiguous, Code: "bad_response", Message: "unreadable upsert response", Err: err}
		}
		results[i] = crm.LogResult{ID: r.ID, Created: r.Created != nil && *r.Created}
		return nil
	}
	type rec map[string]any
	body := struct {
		AllOrNone bool  `json:"allOrNone"`
		Records   []rec `json:"records"`
	}{}
	for _, i := range idx {
		r := rec{"attributes": map[string]string{"type": "Task"}, ext: items[i].Key}
		for k, v := range recs[i] {
			r[k] = v
		}
		body.Records = append(body.Records, r)
	}
	out, err := s.do(ctx, http.MethodPatch, s.dataPath("/composite/sobjects/Task/"+ext), nil, body, true)
	if err != nil {
		return err
	}
	var res []saveResult
	if err := json.Unmarshal(out, &res); err != nil || len(res) != len(idx) {
		return &crm.Error{CRM: Name, Kind: crm.KindAmbiguous, Code: "bad_response", Message: "unreadable collections response", Err: err}
	}
	for j, i := range idx {
		r := res[j]
		if r.Success {
			results[i] = crm.LogResult{ID: r.ID, Created: r.Created != nil && *r.Created}
			continue
		}
		e := classify(http.StatusBadRequest, "", "record rejected", nil)
		if len(r.Errors) > 0 {
			code := r.Errors[0].StatusCode
			if code == "" {
				code = r.Errors[0].ErrorCode
			}
			e = classify(http.StatusBadRequest, code, r.Errors[0].Message, r.Errors[0].Fields)
		}
		results[i] = itemResult(e)
	}
	return nil
}

func itemResult(err error) crm.LogResult {
	var e *crm.Error
	if asError(err, &e) && e.Kind == crm.KindAlreadyExists {
		return crm.LogResult{ID: e.ExistingID}
	}
	return crm.LogResult{Err: err}
}
