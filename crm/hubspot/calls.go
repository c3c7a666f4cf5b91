package hubspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
)

// Association type ids (HUBSPOT_DEFINED).
const (
	AssocCallToContact = 194
	AssocCallToCompany = 182
)

const maxText = 65536

// maxTitle is the length hs_call_title is cut to: the call's title as the
// timeline shows it.
const maxTitle = 255

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// callStatus maps how the call ended to hs_call_status.
func callStatus(log domain.CallLog) string {
	if !log.AnsweredAt.IsZero() {
		return "COMPLETED"
	}
	switch log.Cause {
	case domain.CauseBusy, domain.CauseLinesBusy, domain.CauseDND:
		return "BUSY"
	case domain.CauseCancelled:
		return "CANCELED"
	case domain.CauseInvalidNumber, domain.CauseUnavailable, domain.CauseNetwork, domain.CauseFailed:
		return "FAILED"
	case domain.CauseNoAnswer, domain.CauseMissed, domain.CauseRingTimeout, domain.CauseRejected,
		domain.CauseDeclined, domain.CauseRedirected:
		return "NO_ANSWER"
	case domain.CauseUnknown, domain.CauseLocalHangup, domain.CauseRemoteHangup, domain.CauseTransferred:
	}
	if log.Missed {
		return "NO_ANSWER"
	}
	if log.Talk > 0 {
		return "COMPLETED"
	}
	return "NO_ANSWER"
}

// recordingURL is the first recording HubSpot accepts: https, .mp3 or .wav.
func recordingURL(recs []string) string {
	for _, r := range recs {
		u, err := url.Parse(r)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			continue
		}
		p := strings.ToLower(u.Path)
		if strings.HasSuffix(p, ".mp3") || strings.HasSuffix(p, ".wav") {
			return r
		}
	}
	return ""
}

// CallProperties builds the calls-engagement properties of a log for the
// owner ownerID (without the call-key property). hs_call_title is the
// log's Subject (the agent's default call subject, trimmed and cut to 255
// characters) or, without one, "Inbound call from ...", "Outbound call to
// ..." or "Missed call from ...". It is exported for tests and for the
// admin's preview of the mapping.
func (c *Connector) CallProperties(log domain.CallLog, ownerID string) map[string]string {
	return callProperties(log, ownerID, c.disps)
}

// callProperties maps log with disps (lower-case outcome -> GUID).
func callProperties(log domain.CallLog, ownerID string, disps map[string]string) map[string]string {
	status := callStatus(log)
	dir, verb := "INBOUND", "Inbound call from "
	switch {
	case log.Direction == domain.DirectionOutbound:
		dir, verb = "OUTBOUND", "Outbound call to "
	case log.Missed:
		verb = "Missed call from "
	}
	at := log.StartedAt
	if at.IsZero() {
		at = log.EndedAt
	}
	if at.IsZero() {
		at = log.WrappedAt
	}
	title := crm.CallSubject(log.Subject, maxTitle)
	if title == "" {
		title = truncate(verb+log.Remote.Label(), maxTitle)
	}
	p := map[string]string{
		"hs_timestamp":      at.UTC().Format("2006-01-02T15:04:05.000Z"),
		"hs_call_title":     title,
		"hs_call_direction": dir,
		"hs_call_status":    status,
		"hs_call_duration":  strconv.FormatInt(log.Talk.Milliseconds(), 10),
	}
	if dir == "INBOUND" {
		p["hs_call_from_number"] = log.Remote.Number
		p["hs_call_to_number"] = log.DialedNumber
	} else {
		to := log.Remote.Number
		if to == "" {
			to = log.DialedNumber
		}
		p["hs_call_to_number"] = to
	}
	for k, v := range p {
		if v == "" {
			delete(p, k)
		}
	}
	outcome := strings.TrimSpace(log.Outcome)
	guid := disps[strings.ToLower(outcome)]
	if outcome == "" {
		switch status {
		case "COMPLETED":
			guid = disps["connected"]
		case "BUSY":
			guid = disps["busy"]
		case "NO_ANSWER":
			guid = disps["no answer"]
		}
	}
	if guid != "" {
		p["hs_call_disposition"] = guid
	}
	body := log.Notes
	var footer []string
	if outcome != "" && disps[strings.ToLower(outcome)] == "" {
		footer = append(footer, "Outcome: "+outcome)
	}
	if log.Queue != "" {
		footer = append(footer, "Queue: "+log.Queue)
	}
	if len(footer) > 0 {
		if body != "" {
			body += "\n\n"
		}
		body += strings.Join(footer, "\n")
	}
	if body != "" {
		p["hs_call_body"] = truncate(body, maxText)
	}
	if r := recordingURL(log.Recordings); r != "" {
		p["hs_call_recording_url"] = r
	}
	if ownerID != "" {
		p["hubspot_owner_id"] = ownerID
	}
	return p
}

// association of a log: the chosen record (contact or company).
func association(log domain.CallLog) (toType, id string) {
	if log.RecordID == "" || !numericID.MatchString(log.RecordID) {
		return "", ""
	}
	typ := TypeContact
	for _, m := range log.Matches {
		if m.ID == log.RecordID && m.Type != "" {
			typ = strings.ToLower(m.Type)
		}
	}
	switch typ {
	case TypeCompany, "companies":
		return "companies", log.RecordID
	case TypeContact, "contacts":
		return "contacts", log.RecordID
	}
	return "", ""
}

type batchError struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
}

type batchResponse struct {
	Status  string       `json:"status"`
	Results []object     `json:"results"`
	Errors  []batchError `json:"errors"`
}

type upsertResult struct {
	object
	New bool `json:"new"`
}

// LogCalls implements crm.Session. Items that may already exist are read
// first by the call-key property (batch/read) and, when found, are
// reported as existing without being written again; the rest are upserted
// on that unique property in one batch (so a replay can never create a
// second call). Each call is then associated with its matched contact or
// company; a record deleted meanwhile leaves the call unassociated.
func (s *Session) LogCalls(ctx context.Context, items []crm.LogItem) ([]crm.LogResult, error) {
	if len(items) > MaxBatch {
		return nil, fmt.Errorf("hubspot: %d logs in one batch, at most %d", len(items), MaxBatch)
	}
	results := make([]crm.LogResult, len(items))
	var todo, check []int
	for i, it := range items {
		switch {
		case it.AgentID != s.agent:
			results[i].Err = fmt.Errorf("hubspot: %w", crm.ErrWrongAgent)
		case it.Key == "":
			results[i].Err = &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "NO_KEY", Message: "call log without idempotency key"}
		case it.MayExist:
			check = append(check, i)
		default:
			todo = append(todo, i)
		}
	}
	var logged []int // items whose call exists now: to associate
	if len(check) > 0 {
		found, err := s.existing(ctx, items, check)
		if err != nil {
			return nil, err
		}
		for _, i := range check {
			if id, ok := found[items[i].Key]; ok {
				results[i] = crm.LogResult{ID: id}
				logged = append(logged, i)
			} else {
				todo = append(todo, i)
			}
		}
	}
	if len(todo) > 0 {
		if err := s.upsert(ctx, items, todo, results); err != nil {
			return nil, err
		}
		for _, i := range todo {
			if results[i].Err == nil {
				logged = append(logged, i)
			}
		}
	}
	if err := s.associate(ctx, items, logged, results); err != nil {
		return nil, err
	}
	return results, nil
}

// existing reads which of the items at idx already have a call.
func (s *Session) existing(ctx context.Context, items []crm.LogItem, idx []int) (map[string]string, error) {
	prop := s.c.cfg.CallKeyProperty
	type input struct {
		ID string `json:"id"`
	}
	req := struct {
		IDProperty string   `json:"idProperty"`
		Properties []string `json:"properties"`
		Inputs     []input  `json:"inputs"`
	}{IDProperty: prop, Properties: []string{prop}}
	for _, i := range idx {
		req.Inputs = append(req.Inputs, input{items[i].Key})
	}
	body, _, err := s.do(ctx, http.MethodPost, "/crm/v3/objects/calls/batch/read", nil, req, false)
	if err != nil {
		return nil, err
	}
	var r batchResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, badResponse(false, "batch read", err)
	}
	found := map[string]string{}
	for _, o := range r.Results {
		if k := o.prop(prop); k != "" && o.ID != "" {
			found[k] = o.ID
		}
	}
	for _, e := range r.Errors {
		if e.Category != "OBJECT_NOT_FOUND" {
			return nil, &crm.Error{CRM: Name, Kind: crm.KindTransient, Status: http.StatusMultiStatus, Code: e.Category, Message: e.Message}
		}
	}
	return found, nil
}

func itemError(e batchError) *crm.Error {
	status := http.StatusBadRequest
	if e.Category == "CONFLICT" {
		status = http.StatusConflict
	}
	return classify(status, nil, true, apiEnvelope{Category: e.Category, Message: e.Message})
}

// upsert writes the items at idx in one batch upsert and fills their
// results. An error means the whole request failed.
func (s *Session) upsert(ctx context.Context, items []crm.LogItem, idx []int, results []crm.LogResult) error {
	prop := s.c.cfg.CallKeyProperty
	owner, disps := s.OwnerID(), s.dispositions()
	type input struct {
		IDProperty string            `json:"idProperty"`
		ID         string            `json:"id"`
		Properties map[string]string `json:"properties"`
	}
	req := struct {
		Inputs []input `json:"inputs"`
	}{}
	for _, i := range idx {
		p := callProperties(items[i].Log, owner, disps)
		p[prop] = items[i].Key
		req.Inputs = append(req.Inputs, input{IDProperty: prop, ID: items[i].Key, Properties: p})
	}
	body, _, err := s.do(ctx, http.MethodPost, "/crm/v3/objects/calls/batch/upsert", nil, req, true)
	if err != nil {
		if len(idx) == 1 {
			if k := crm.KindOf(err); k == crm.KindPermanent || k == crm.KindAlreadyExists {
				results[idx[0]] = itemResult(err)
				return nil
			}
		}
		return err
	}
	var r struct {
		Results []upsertResult `json:"results"`
		Errors  []batchError   `json:"errors"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return badResponse(true, "batch upsert", err)
	}
	done := map[string]upsertResult{}
	for _, o := range r.Results {
		if k := o.prop(prop); k != "" {
			done[k] = o
		}
	}
	if len(done) == 0 && len(idx) == 1 && len(r.Results) == 1 && len(r.Errors) == 0 {
		// An answer that does not echo the call-key property: with one
		// input its one result is that input's.
		done[items[idx[0]].Key] = r.Results[0]
	}
	failed := map[string]*crm.Error{}
	var loose []*crm.Error
	for _, e := range r.Errors {
		ids := e.Context["ids"]
		if len(ids) == 0 {
			loose = append(loose, itemError(e))
		}
		for _, k := range ids {
			failed[k] = itemError(e)
		}
	}
	for _, i := range idx {
		key := items[i].Key
		if o, ok := done[key]; ok && o.ID != "" {
			results[i] = crm.LogResult{ID: o.ID, Created: o.New}
			continue
		}
		if e, ok := failed[key]; ok {
			results[i] = itemResult(e)
			continue
		}
		if len(idx) == 1 && len(loose) == 1 {
			results[i] = itemResult(loose[0])
			continue
		}
		// Neither a result nor an error names it: it may or may not be
		// written; the next attempt reads first.
		results[i].Err = &crm.Error{CRM: Name, Kind: crm.KindAmbiguous, Code: "no_result", Message: "HubSpot did not report this call's result"}
	}
	return nil
}

func itemResult(err error) crm.LogResult {
	var ce *crm.Error
	if errors.As(err, &ce) && ce.Kind == crm.KindAlreadyExists {
		return crm.LogResult{ID: ce.ExistingID}
	}
	return crm.LogResult{Err: err}
}

// associate links each logged call at idx with its record. Creating an
// association that exists is harmless, so this is safe to repeat. A
// record that no longer exists (or a refused association type) leaves the
// call logged unassociated; a failure that may pass (network, rate limit,
// 5xx) makes those logs ambiguous, so they are replayed read first.
func (s *Session) associate(ctx context.Context, items []crm.LogItem, idx []int, results []crm.LogResult) error {
	type ref struct {
		ID string `json:"id"`
	}
	type typ struct {
		Category string `json:"associationCategory"`
		TypeID   int    `json:"associationTypeId"`
	}
	type input struct {
		From  ref   `json:"from"`
		To    ref   `json:"to"`
		Types []typ `json:"types"`
	}
	byType := map[string][]int{}
	inputs := map[string][]input{}
	for _, i := range idx {
		toType, id := association(items[i].Log)
		if toType == "" || results[i].ID == "" {
			continue
		}
		tid := AssocCallToContact
		if toType == "companies" {
			tid = AssocCallToCompany
		}
		byType[toType] = append(byType[toType], i)
		inputs[toType] = append(inputs[toType], input{From: ref{results[i].ID}, To: ref{id}, Types: []typ{{"HUBSPOT_DEFINED", tid}}})
	}
	for _, toType := range []string{"contacts", "companies"} {
		if len(inputs[toType]) == 0 {
			continue
		}
		body, _, err := s.do(ctx, http.MethodPost, "/crm/v4/associations/calls/"+toType+"/batch/create", nil,
			map[string]any{"inputs": inputs[toType]}, true)
		if err != nil {
			if k := crm.KindOf(err); k == crm.KindPermanent || k == crm.KindStaleReference {
				s.c.cfg.Logger.Warn("calls logged without association", "to", toType, "calls", len(byType[toType]), "err", err)
				for _, i := range byType[toType] {
					results[i].Unassociated = true
				}
				continue
			}
			unconfirmed(byType[toType], results, err)
			continue
		}
		var r batchResponse
		if err := json.Unmarshal(body, &r); err != nil {
			unconfirmed(byType[toType], results, badResponse(true, "association", err))
			continue
		}
		stale := map[string]bool{}
		for _, e := range r.Errors {
			for _, id := range e.Context["toIds"] {
				stale[id] = true
			}
		}
		for _, i := range byType[toType] {
			if _, id := association(items[i].Log); stale[id] {
				results[i].Unassociated = true
			}
		}
	}
	return nil
}

// unconfirmed marks calls whose association failed in a way that may pass:
// the call is written, so the log is ambiguous and its replay reads first
// (finding the call) and associates again, never writing it twice.
func unconfirmed(idx []int, results []crm.LogResult, err error) {
	for _, i := range idx {
		results[i].Err = &crm.Error{CRM: Name, Kind: crm.KindAmbiguous, Code: "association_unconfirmed",
			Message: "the call is logged but its link to the record is not confirmed; it will be checked", Err: err}
	}
}
