package sfemu

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/callcentre/softphone/crm/emukit"
)

var prefixes = map[string]string{
	"Account": PrefixAccount, "Contact": PrefixContact, "Lead": PrefixLead, "Task": PrefixTask,
}

// fields each object has (beyond custom __c fields on Task).
var objectFields = map[string][]string{
	"Contact": {"Id", "Name", "FirstName", "LastName", "Phone", "MobilePhone", "HomePhone", "OtherPhone", "Email", "AccountId", "IsDeleted"},
	"Lead":    {"Id", "Name", "FirstName", "LastName", "Company", "Phone", "MobilePhone", "Email", "IsConverted", "IsDeleted"},
	"Account": {"Id", "Name", "Phone", "IsDeleted"},
	"Task": {"Id", "Subject", "TaskSubtype", "Type", "CallType", "CallDurationInSeconds", "CallDisposition",
		"CallObject", "ActivityDate", "Status", "Priority", "WhoId", "WhatId", "Description", "OwnerId",
		"CreatedById", "IsDeleted"},
}

var phoneFields = map[string][]string{
	"Contact": {"Phone", "MobilePhone", "HomePhone", "OtherPhone"},
	"Lead":    {"Phone", "MobilePhone"},
	"Account": {"Phone", "PersonMobilePhone"},
}

var picklists = map[string][]string{
	"CallType":    {"Inbound", "Outbound", "Internal"},
	"TaskSubtype": {"Task", "Email", "ListEmail", "Cadence", "Call"},
	"Status":      {"Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"},
	"Priority":    {"High", "Normal", "Low"},
}

// stringLimits are text fields' lengths in characters, counted as
// Salesforce (Java) does: UTF-16 code units.
var stringLimits = map[string]int{"Subject": 255, "CallDisposition": 255, "CallObject": 255, "Description": 32000}

func (s *Server) hasField(typ, f string) bool {
	if slices.Contains(objectFields[typ], f) {
		return true
	}
	if typ == "Account" && s.cfg.PersonAccounts && (f == "IsPersonAccount" || f == "PersonMobilePhone") {
		return true
	}
	if typ == "Task" && (f == s.cfg.ExternalIDField || strings.HasSuffix(f, "__c")) {
		return true
	}
	return false
}

// ValidationRule is an admin validation rule on Task: when Field equals
// Equals (or contains Contains), the write fails with
// FIELD_CUSTOM_VALIDATION_EXCEPTION and Message.
type ValidationRule struct {
	Field    string `json:"field"`
	Equals   string `json:"equals,omitempty"`
	Contains string `json:"contains,omitempty"`
	Message  string `json:"message"`
}

// AddValidationRule adds a Task validation rule.
func (s *Server) AddValidationRule(r ValidationRule) {
	s.mu.Lock()
	s.rules = append(s.rules, r)
	s.mu.Unlock()
}

// ClearValidationRules removes every Task validation rule.
func (s *Server) ClearValidationRules() {
	s.mu.Lock()
	s.rules = nil
	s.mu.Unlock()
}

// data serves /services/data.
func (s *Server) data(w http.ResponseWriter, r *http.Request, body []byte) (int, string) {
	p := strings.TrimPrefix(r.URL.Path, "/services/data")
	if p == "" || p == "/" {
		var out []map[string]string
		for _, v := range s.cfg.APIVersions {
			out = append(out, map[string]string{"label": "Emulated", "url": "/services/data/v" + v, "version": v})
		}
		writeJSON(w, http.StatusOK, out)
		return http.StatusOK, ""
	}
	ver, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if !strings.HasPrefix(ver, "v") || !slices.Contains(s.cfg.APIVersions, ver[1:]) {
		writeErrors(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return http.StatusNotFound, ""
	}
	user := s.userOf(r)
	if user == "" {
		writeErrors(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return http.StatusUnauthorized, ""
	}
	s.mu.Lock()
	s.usage++
	usage, limit := s.usage, s.cfg.DailyLimit
	s.mu.Unlock()
	w.Header().Set("Sforce-Limit-Info", fmt.Sprintf("api-usage=%d/%d", usage, limit))
	if usage > limit {
		writeErrors(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return http.StatusForbidden, user
	}
	v := ver[1:]
	seg := strings.Split(rest, "/")
	switch {
	case rest == "limits" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"DailyApiRequests": map[string]int{"Max": limit, "Remaining": max(limit-usage, 0)}})
		return http.StatusOK, user
	case (rest == "search" || rest == "search/") && r.Method == http.MethodGet:
		return s.search(w, r.URL.Query().Get("q"), v), user
	case (rest == "query" || rest == "query/") && r.Method == http.MethodGet:
		return s.query(w, r.URL.Query().Get("q"), v), user
	case len(seg) == 3 && seg[0] == "sobjects" && seg[2] == "describe":
		return s.describe(w, seg[1]), user
	case len(seg) == 2 && seg[0] == "sobjects" && seg[1] == "Task" && r.Method == http.MethodPost:
		return s.createTask(w, body, user, v), user
	case len(seg) == 3 && seg[0] == "sobjects" && r.Method == http.MethodGet:
		return s.getByID(w, seg[1], seg[2], r.URL.Query().Get("fields"), v), user
	case len(seg) == 4 && seg[0] == "sobjects" && seg[1] == "Task":
		val, err := url.PathUnescape(seg[3])
		if err != nil {
			writeErrors(w, http.StatusBadRequest, "MALFORMED_ID", "bad external id")
			return http.StatusBadRequest, user
		}
		switch r.Method {
		case http.MethodGet:
			return s.getByExt(w, seg[2], val, r.URL.Query().Get("fields"), v), user
		case http.MethodPatch:
			return s.upsertOne(w, seg[2], val, body, user, v), user
		}
	case len(seg) == 4 && seg[0] == "composite" && seg[1] == "sobjects" && seg[2] == "Task" && r.Method == http.MethodPatch:
		return s.upsertCollection(w, seg[3], body, user, v), user
	}
	writeErrors(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	return http.StatusNotFound, user
}

func attributes(typ, id, v string) map[string]string {
	return map[string]string{"type": typ, "url": "/services/data/v" + v + "/sobjects/" + typ + "/" + id}
}

func (s *Server) project(typ string, rec Record, fields []string, v string) map[string]any {
	out := map[string]any{"attributes": attributes(typ, rec["Id"].(string), v)}
	for _, f := range fields {
		out[f] = rec[f]
	}
	return out
}

func (s *Server) describe(w http.ResponseWriter, typ string) int {
	if _, ok := prefixes[typ]; !ok {
		writeErrors(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return http.StatusNotFound
	}
	var fields []map[string]any
	for _, f := range objectFields[typ] {
		d := map[string]any{"name": f, "createable": f != "Id", "updateable": f != "Id" && f != "TaskSubtype",
			"externalId": false, "unique": false, "type": "string"}
		if vals, ok := picklists[f]; ok && typ == "Task" {
			d["type"], d["restrictedPicklist"] = "picklist", true
			var pv []map[string]any
			for _, x := range vals {
				pv = append(pv, map[string]any{"value": x, "active": true})
			}
			d["picklistValues"] = pv
		}
		fields = append(fields, d)
	}
	if typ == "Task" {
		fields = append(fields, map[string]any{"name": s.cfg.ExternalIDField, "type": "string", "length": 64,
			"createable": true, "updateable": true, "externalId": true, "unique": true})
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": typ, "fields": fields})
	return http.StatusOK
}

func (s *Server) getByID(w http.ResponseWriter, typ, id, fields, v string) int {
	s.mu.Lock()
	rec, ok := s.records[typ][id]
	var out map[string]any
	if ok {
		out = s.project(typ, rec, fieldList(fields, objectFields[typ]), v)
	}
	s.mu.Unlock()
	switch {
	case !ok:
		writeErrors(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return http.StatusNotFound
	case rec["IsDeleted"] == true:
		writeErrors(w, http.StatusNotFound, "ENTITY_IS_DELETED", "entity is deleted")
		return http.StatusNotFound
	}
	writeJSON(w, http.StatusOK, out)
	return http.StatusOK
}

func fieldList(s string, def []string) []string {
	if s == "" {
		return def
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func (s *Server) getByExt(w http.ResponseWriter, field, val, fields, v string) int {
	if field != s.cfg.ExternalIDField {
		writeErrors(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return http.StatusNotFound
	}
	s.mu.Lock()
	id, ok := s.extIndex[val]
	var out map[string]any
	if ok {
		out = s.project("Task", s.records["Task"][id], fieldList(fields, append(objectFields["Task"], field)), v)
	}
	s.mu.Unlock()
	if !ok {
		writeErrors(w, http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+val)
		return http.StatusNotFound
	}
	writeJSON(w, http.StatusOK, out)
	return http.StatusOK
}

// itemError is an error inside a collections response (statusCode, not
// errorCode).
type itemError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

type saveResult struct {
	ID      string      `json:"id,omitempty"`
	Success bool        `json:"success"`
	Errors  []itemError `json:"errors"`
	Created *bool       `json:"created,omitempty"`
}

// validateLocked checks a Task create or update.
func (s *Server) validateLocked(rec Record, update bool) *itemError {
	for f, val := range rec {
		if f == "attributes" {
			continue
		}
		if f == "Id" {
			return &itemError{"INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: Id. Please check the security settings of this field and verify that it is read/write for your profile or permission set.", []string{"Id"}}
		}
		if !s.hasField("Task", f) {
			return &itemError{"INVALID_FIELD", fmt.Sprintf("No such column '%s' on sobject of type Task", f), []string{f}}
		}
		str, isStr := val.(string)
		if vals, ok := picklists[f]; ok && (!isStr || !slices.Contains(vals, str)) {
			label := map[string]string{"CallType": "Call Type", "TaskSubtype": "Task Subtype", "Status": "Status", "Priority": "Priority"}[f]
			return &itemError{"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", fmt.Sprintf("%s: bad value for restricted picklist field: %v", label, val), []string{f}}
		}
		if n, ok := stringLimits[f]; ok && isStr && len(utf16.Encode([]rune(str))) > n {
			return &itemError{"STRING_TOO_LONG", fmt.Sprintf("%s: data value too large: (max length=%d)", f, n), []string{f}}
		}
		if f == "CallDurationInSeconds" {
			if _, ok := val.(float64); !ok && val != nil {
				return &itemError{"JSON_PARSER_ERROR", "Cannot deserialize instance of int from value", []string{f}}
			}
		}
	}
	if update && s.cfg.StrictCreateOnlyFields {
		if _, ok := rec["TaskSubtype"]; ok {
			return &itemError{"INVALID_FIELD_FOR_INSERT_UPDATE", "Unable to create/update fields: TaskSubtype.", []string{"TaskSubtype"}}
		}
	}
	for _, ref := range []string{"WhoId", "WhatId"} {
		id, _ := rec[ref].(string)
		if id == "" {
			continue
		}
		if len(id) != 15 && len(id) != 18 {
			return &itemError{"MALFORMED_ID", fmt.Sprintf("%s: id value of incorrect type: %s", ref, id), []string{ref}}
		}
		allowed := []string{"Contact", "Lead"}
		if ref == "WhatId" {
			allowed = []string{"Account"}
		}
		var target Record
		for _, typ := range allowed {
			if r, ok := s.records[typ][id]; ok {
				target = r
			}
		}
		if target == nil {
			for typ := range s.records {
				if _, ok := s.records[typ][id]; ok {
					return &itemError{"FIELD_INTEGRITY_EXCEPTION", fmt.Sprintf("%s: id value of incorrect type: %s", ref, id), []string{ref}}
				}
			}
			return &itemError{"INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", []string{ref}}
		}
		if target["IsDeleted"] == true {
			return &itemError{"ENTITY_IS_DELETED", "entity is deleted", []string{ref}}
		}
	}
	for _, rule := range s.rules {
		val := fmt.Sprint(orEmpty(rec[rule.Field]))
		if (rule.Equals != "" && val == rule.Equals) || (rule.Contains != "" && strings.Contains(val, rule.Contains)) {
			return &itemError{"FIELD_CUSTOM_VALIDATION_EXCEPTION", rule.Message, []string{}}
		}
	}
	return nil
}

// applyLocked creates or updates the Task with external id val.
func (s *Server) applyLocked(val string, rec Record, user string) (id string, created bool, ierr *itemError) {
	id, exists := s.extIndex[val]
	if ierr := s.validateLocked(rec, exists); ierr != nil {
		return "", false, ierr
	}
	if exists {
		t := s.records["Task"][id]
		for k, v := range rec {
			if k != "attributes" && k != "TaskSubtype" {
				t[k] = v
			}
		}
		s.writes[id]++
		return id, false, nil
	}
	id = s.nextID(PrefixTask)
	t := Record{"Id": id, "OwnerId": user, "CreatedById": user}
	for k, v := range rec {
		if k != "attributes" {
			t[k] = v
		}
	}
	t[s.cfg.ExternalIDField] = val
	s.records["Task"][id] = t
	s.extIndex[val] = id
	s.writes[id]++
	return id, true, nil
}

func decodeRecord(body []byte) (Record, error) {
	var rec Record
	if err := json.Unmarshal(body, &rec); err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("empty body")
	}
	return rec, nil
}

func (s *Server) createTask(w http.ResponseWriter, body []byte, user, _ string) int {
	rec, err := decodeRecord(body)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Unexpected character: "+err.Error())
		return http.StatusBadRequest
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	val, _ := rec[s.cfg.ExternalIDField].(string)
	if val != "" {
		if id, ok := s.extIndex[val]; ok {
			writeErrors(w, http.StatusBadRequest, "DUPLICATE_VALUE",
				fmt.Sprintf("duplicate value found: %s duplicates value on record with id: %s", s.cfg.ExternalIDField, id))
			return http.StatusBadRequest
		}
	} else {
		val = "auto-" + emukit.RandomToken(12) // not indexed by the caller
	}
	id, _, ierr := s.applyLocked(val, rec, user)
	if ierr != nil {
		writeJSON(w, http.StatusBadRequest, []apiError{{Message: ierr.Message, ErrorCode: ierr.StatusCode, Fields: ierr.Fields}})
		return http.StatusBadRequest
	}
	writeJSON(w, http.StatusCreated, saveResult{ID: id, Success: true, Errors: []itemError{}})
	return http.StatusCreated
}

func (s *Server) upsertOne(w http.ResponseWriter, field, val string, body []byte, user, v string) int {
	if field != s.cfg.ExternalIDField {
		writeErrors(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return http.StatusNotFound
	}
	rec, err := decodeRecord(body)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Unexpected character: "+err.Error())
		return http.StatusBadRequest
	}
	if got, ok := rec[field]; ok && got != val {
		writeErrors(w, http.StatusBadRequest, "INVALID_FIELD", "external id in body does not match the url", field)
		return http.StatusBadRequest
	}
	delete(rec, field)
	s.mu.Lock()
	id, created, ierr := s.applyLocked(val, rec, user)
	s.mu.Unlock()
	if ierr != nil {
		writeJSON(w, http.StatusBadRequest, []apiError{{Message: ierr.Message, ErrorCode: ierr.StatusCode, Fields: ierr.Fields}})
		return http.StatusBadRequest
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	if !created && versionBelow(v, 46) {
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent
	}
	writeJSON(w, status, saveResult{ID: id, Success: true, Errors: []itemError{}, Created: &created})
	return status
}

func versionBelow(v string, major int) bool {
	f, err := strconv.ParseFloat(v, 64)
	return err == nil && f < float64(major)
}

func (s *Server) upsertCollection(w http.ResponseWriter, field string, body []byte, user, _ string) int {
	if field != s.cfg.ExternalIDField {
		writeErrors(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
		return http.StatusNotFound
	}
	var req struct {
		AllOrNone bool     `json:"allOrNone"`
		Records   []Record `json:"records"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeErrors(w, http.StatusBadRequest, "JSON_PARSER_ERROR", "Unexpected character: "+err.Error())
		return http.StatusBadRequest
	}
	if len(req.Records) > maxCollection {
		writeErrors(w, http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
		return http.StatusBadRequest
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	count := map[string]int{}
	for _, r := range req.Records {
		if v, ok := r[field].(string); ok {
			count[v]++
		}
	}
	results := make([]saveResult, len(req.Records))
	type pending struct {
		i   int
		val string
		rec Record
	}
	var ok []pending
	failed := false
	for i, r := range req.Records {
		val, _ := r[field].(string)
		attrs, _ := r["attributes"].(map[string]any)
		switch {
		case attrs == nil || attrs["type"] != "Task":
			results[i] = saveResult{Errors: []itemError{{"INVALID_TYPE", "attributes.type must be Task", []string{}}}}
		case val == "":
			results[i] = saveResult{Errors: []itemError{{"REQUIRED_FIELD_MISSING", "Required fields are missing: [" + field + "]", []string{field}}}}
		case count[val] > 1:
			results[i] = saveResult{Errors: []itemError{{"DUPLICATE_VALUE", "Duplicate external id specified: " + val, []string{field}}}}
		default:
			rec := Record{}
			for k, v := range r {
				if k != field && k != "attributes" {
					rec[k] = v
				}
			}
			_, exists := s.extIndex[val]
			if ierr := s.validateLocked(rec, exists); ierr != nil {
				results[i] = saveResult{Errors: []itemError{*ierr}}
			} else {
				ok = append(ok, pending{i, val, rec})
				continue
			}
		}
		failed = true
	}
	if req.AllOrNone && failed {
		for _, p := range ok {
			results[p.i] = saveResult{Errors: []itemError{{"ALL_OR_NONE_OPERATION_ROLLED_BACK", "Record rolled back because not all records were valid and the request was using AllOrNone header", []string{}}}}
		}
	} else {
		for _, p := range ok {
			id, created, ierr := s.applyLocked(p.val, p.rec, user)
			if ierr != nil {
				results[p.i] = saveResult{Errors: []itemError{*ierr}}
				continue
			}
			c := created
			results[p.i] = saveResult{ID: id, Success: true, Errors: []itemError{}, Created: &c}
		}
	}
	writeJSON(w, http.StatusOK, results)
	return http.StatusOK
}
