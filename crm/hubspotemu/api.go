package hubspotemu

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/callcentre/softphone/crm/emukit"
)

// api serves authenticated requests.
func (s *Server) api(w http.ResponseWriter, r *http.Request, body []byte, _ *emukit.User) int {
	p := strings.TrimSuffix(r.URL.Path, "/")
	get, post := r.Method == http.MethodGet, r.Method == http.MethodPost
	switch {
	case get && p == "/account-info/v3/details":
		emukit.WriteJSON(w, http.StatusOK, map[string]any{"portalId": s.cfg.PortalID, "timeZone": "US/Eastern",
			"companyCurrency": "USD", "utcOffset": "-05:00", "uiDomain": s.cfg.UIDomain, "dataHostingLocation": "na1"})
		return http.StatusOK
	case get && p == "/calling/v1/dispositions":
		s.mu.Lock()
		list := []map[string]any{}
		for _, id := range slices.Sorted(maps.Keys(s.dispositions)) {
			list = append(list, map[string]any{"id": id, "label": s.dispositions[id], "deleted": false})
		}
		s.mu.Unlock()
		emukit.WriteJSON(w, http.StatusOK, list)
		return http.StatusOK
	case get && p == "/crm/v3/owners":
		return s.ownersAPI(w, r.URL.Query())
	case get && strings.HasPrefix(p, "/crm/v3/properties/calls/"):
		return s.property(w, strings.TrimPrefix(p, "/crm/v3/properties/calls/"))
	case post && (p == "/crm/v3/objects/contacts/search" || p == "/crm/v3/objects/companies/search"):
		return s.search(w, strings.Split(p, "/")[4], body)
	case post && p == "/crm/v3/objects/calls/batch/upsert":
		return s.upsert(w, body)
	case post && p == "/crm/v3/objects/calls/batch/read":
		return s.batchRead(w, body)
	case post && (p == "/crm/v4/associations/calls/contacts/batch/create" || p == "/crm/v4/associations/calls/companies/batch/create"):
		return s.associate(w, strings.Split(p, "/")[5], body)
	}
	writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "Unable to route "+r.Method+" "+r.URL.Path)
	return http.StatusNotFound
}

func validation(w http.ResponseWriter, msg string) int {
	writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", msg)
	return http.StatusBadRequest
}

func (s *Server) ownersAPI(w http.ResponseWriter, q url.Values) int {
	email := q.Get("email")
	out := []Owner{}
	for _, o := range s.owners() {
		if o.Archived != (q.Get("archived") == "true") {
			continue
		}
		if email == "" || strings.EqualFold(o.Email, email) {
			out = append(out, o)
		}
	}
	emukit.WriteJSON(w, http.StatusOK, map[string]any{"results": out})
	return http.StatusOK
}

func (s *Server) property(w http.ResponseWriter, name string) int {
	if name != s.cfg.CallKeyProperty || s.cfg.NoCallKeyProperty {
		writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", fmt.Sprintf("Unable to find property %s for object type calls", name))
		return http.StatusNotFound
	}
	emukit.WriteJSON(w, http.StatusOK, map[string]any{"name": name, "label": "CTI call id", "type": "string",
		"fieldType": "text", "groupName": "call_information", "hasUniqueValue": !s.cfg.CallKeyNotUnique})
	return http.StatusOK
}

// ---- search ----

type filter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        *string  `json:"value"`
	Values       []string `json:"values"`
}

type searchRequest struct {
	FilterGroups []struct {
		Filters []filter `json:"filters"`
	} `json:"filterGroups"`
	Query      string   `json:"query"`
	Properties []string `json:"properties"`
	Limit      *int     `json:"limit"`
	After      string   `json:"after"`
}

var searchable = map[string][]string{
	"contacts":  {"firstname", "lastname", "email", "phone", "mobilephone", "company"},
	"companies": {"name", "domain", "phone"},
}

var defaultProps = map[string][]string{
	"contacts":  {"firstname", "lastname", "email"},
	"companies": {"name", "domain"},
}

func (f filter) matches(p map[string]string) (bool, error) {
	v, has := p[f.PropertyName]
	switch f.Operator {
	case "EQ", "NEQ":
		if f.Value == nil {
			return false, fmt.Errorf("filter on %s needs a value", f.PropertyName)
		}
		eq := has && v != "" && strings.EqualFold(v, *f.Value)
		return eq == (f.Operator == "EQ"), nil
	case "IN":
		for _, x := range f.Values {
			if has && strings.EqualFold(v, x) {
				return true, nil
			}
		}
		return false, nil
	case "HAS_PROPERTY":
		return has && v != "", nil
	case "NOT_HAS_PROPERTY":
		return !has || v == "", nil
	}
	return false, fmt.Errorf("operator %q is not supported", f.Operator)
}

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// queryMatches is HubSpot's free-text search: every word of q is a prefix
// of a word of a searchable property (a number matches inside the digits
// of a phone).
func queryMatches(typ, q string, p map[string]string) bool {
	for _, term := range strings.Fields(strings.ToLower(q)) {
		found := false
		for _, name := range searchable[typ] {
			v := strings.ToLower(p[name])
			if d := digits(term); len(d) >= 3 && d == strings.Trim(term, "+()- ") && strings.Contains(digits(v), d) {
				found = true
			}
			for _, w := range strings.FieldsFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '@' && r != '.' }) {
				if strings.HasPrefix(w, term) {
					found = true
				}
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func (s *Server) search(w http.ResponseWriter, typ string, body []byte) int {
	var req searchRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return validation(w, "Invalid input JSON on line 1: "+err.Error())
	}
	if len(req.FilterGroups) > MaxFilterGroups {
		return validation(w, fmt.Sprintf("The request contains %d filterGroups; the maximum is %d.", len(req.FilterGroups), MaxFilterGroups))
	}
	limit := 10
	if req.Limit != nil {
		limit = *req.Limit
	}
	if limit < 1 || limit > 200 {
		return validation(w, "limit must be between 1 and 200")
	}
	after, _ := strconv.Atoi(req.After)
	s.mu.Lock()
	ids := slices.Sorted(maps.Keys(s.objects[typ]))
	var hits []*Object
	for _, id := range ids {
		o := s.objects[typ][id]
		if req.Query != "" && !queryMatches(typ, req.Query, o.Properties) {
			continue
		}
		ok := len(req.FilterGroups) == 0
		for _, g := range req.FilterGroups {
			all := true
			for _, f := range g.Filters {
				m, err := f.matches(o.Properties)
				if err != nil {
					s.mu.Unlock()
					return validation(w, err.Error())
				}
				all = all && m
			}
			if all && len(g.Filters) > 0 {
				ok = true
				break
			}
		}
		if ok {
			hits = append(hits, o)
		}
	}
	props := req.Properties
	if len(props) == 0 {
		props = defaultProps[typ]
	}
	results := []map[string]any{}
	for i := after; i < len(hits) && i < after+limit; i++ {
		results = append(results, render(hits[i], props))
	}
	s.mu.Unlock()
	out := map[string]any{"total": len(hits), "results": results}
	if after+limit < len(hits) {
		out["paging"] = map[string]any{"next": map[string]string{"after": strconv.Itoa(after + limit)}}
	}
	emukit.WriteJSON(w, http.StatusOK, out)
	return http.StatusOK
}

func render(o *Object, props []string) map[string]any {
	p := map[string]any{"hs_object_id": o.ID, "createdate": o.CreatedAt.Format(time.RFC3339Nano), "lastmodifieddate": o.UpdatedAt.Format(time.RFC3339Nano)}
	for _, k := range props {
		if v, ok := o.Properties[k]; ok && v != "" {
			p[k] = v
		} else {
			p[k] = nil
		}
	}
	return map[string]any{"id": o.ID, "properties": p, "createdAt": o.CreatedAt.Format(time.RFC3339Nano),
		"updatedAt": o.UpdatedAt.Format(time.RFC3339Nano), "archived": false}
}

// ---- calls ----

var callProps = map[string]bool{
	"hs_timestamp": true, "hs_call_title": true, "hs_call_body": true, "hs_call_direction": true,
	"hs_call_disposition": true, "hs_call_status": true, "hs_call_duration": true,
	"hs_call_from_number": true, "hs_call_to_number": true, "hs_call_recording_url": true,
	"hs_call_source": true, "hubspot_owner_id": true, "hs_call_callee_object_id": true,
}

var callStatuses = []string{"BUSY", "CALLING_CRM_USER", "CANCELED", "COMPLETED", "CONNECTING", "FAILED",
	"IN_PROGRESS", "NO_ANSWER", "QUEUED", "RINGING"}

// validateCall checks a call's properties as HubSpot does; the message
// names the property.
func (s *Server) validateCall(p map[string]string) string {
	for k, v := range p {
		if !callProps[k] && (k != s.cfg.CallKeyProperty || s.cfg.NoCallKeyProperty) {
			return fmt.Sprintf("Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"%s\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":\"%s\"}]", k, k)
		}
		if len(v) > 65536 {
			return fmt.Sprintf("Property %s is longer than 65536 characters", k)
		}
	}
	if ts := p["hs_timestamp"]; ts == "" {
		return "Property hs_timestamp is required"
	} else if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		if _, err := strconv.ParseInt(ts, 10, 64); err != nil {
			return fmt.Sprintf("%s was not a valid long or date for hs_timestamp", ts)
		}
	}
	if d := p["hs_call_direction"]; d != "" && d != "INBOUND" && d != "OUTBOUND" {
		return fmt.Sprintf("%s was not one of the allowed options for hs_call_direction", d)
	}
	if st := p["hs_call_status"]; st != "" && !slices.Contains(callStatuses, st) {
		return fmt.Sprintf("%s was not one of the allowed options for hs_call_status", st)
	}
	if d := p["hs_call_disposition"]; d != "" {
		if _, ok := s.dispositions[d]; !ok {
			return fmt.Sprintf("%s was not one of the allowed options for hs_call_disposition", d)
		}
	}
	if d := p["hs_call_duration"]; d != "" {
		if n, err := strconv.ParseInt(d, 10, 64); err != nil || n < 0 {
			return fmt.Sprintf("%s was not a valid number for hs_call_duration", d)
		}
	}
	if u := p["hs_call_recording_url"]; u != "" {
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme != "https" || !(strings.HasSuffix(strings.ToLower(pu.Path), ".mp3") || strings.HasSuffix(strings.ToLower(pu.Path), ".wav")) {
			return "hs_call_recording_url must be an https URL of an .mp3 or .wav file"
		}
	}
	if o := p["hubspot_owner_id"]; o != "" {
		found := false
		for _, ow := range s.owners() {
			found = found || (ow.ID == o && !ow.Archived)
		}
		if !found {
			return fmt.Sprintf("%s is not a valid owner id for hubspot_owner_id", o)
		}
	}
	return ""
}

type upsertInput struct {
	IDProperty string            `json:"idProperty"`
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
}

func (s *Server) checkIDProperty(w http.ResponseWriter, idProp string) (int, bool) {
	if idProp != s.cfg.CallKeyProperty || s.cfg.NoCallKeyProperty {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("Property \"%s\" does not exist", idProp))
		return http.StatusBadRequest, false
	}
	if s.cfg.CallKeyNotUnique {
		writeError(w, http.StatusBadRequest, "VALIDATION_ERROR", fmt.Sprintf("Property %s is not a unique identifier property; idProperty needs hasUniqueValue", idProp))
		return http.StatusBadRequest, false
	}
	return 0, true
}

func (s *Server) upsert(w http.ResponseWriter, body []byte) int {
	var req struct {
		Inputs []upsertInput `json:"inputs"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return validation(w, "Invalid input JSON on line 1: "+err.Error())
	}
	if len(req.Inputs) == 0 || len(req.Inputs) > MaxBatch {
		return validation(w, fmt.Sprintf("inputs must hold between 1 and %d items, not %d", MaxBatch, len(req.Inputs)))
	}
	started := time.Now().UTC()
	results := []map[string]any{}
	var errs []batchError
	s.mu.Lock()
	for _, in := range req.Inputs {
		if st, ok := s.checkIDProperty(w, in.IDProperty); !ok {
			s.mu.Unlock()
			return st
		}
		if in.ID == "" {
			errs = append(errs, batchError{"error", "VALIDATION_ERROR", "id is required for an upsert", nil})
			continue
		}
		if v, ok := in.Properties[in.IDProperty]; ok && v != in.ID {
			errs = append(errs, batchError{"error", "VALIDATION_ERROR", "the idProperty value differs from id", map[string][]string{"ids": {in.ID}}})
			continue
		}
		props := maps.Clone(in.Properties)
		if props == nil {
			props = map[string]string{}
		}
		props[in.IDProperty] = in.ID
		if msg := s.validateCall(props); msg != "" {
			errs = append(errs, batchError{"error", "VALIDATION_ERROR", msg, map[string][]string{"ids": {in.ID}}})
			continue
		}
		now := time.Now().UTC()
		id, exists := s.callByKey[in.ID]
		var o *Object
		if exists {
			o = s.objects["calls"][id]
			maps.Copy(o.Properties, props)
			o.UpdatedAt = now
		} else {
			o = &Object{ID: s.nextIDLocked(), Properties: props, CreatedAt: now, UpdatedAt: now}
			s.objects["calls"][o.ID] = o
			s.callByKey[in.ID] = o.ID
		}
		s.upserts++
		s.writes[in.ID]++
		res := render(o, slices.Sorted(maps.Keys(o.Properties)))
		res["new"] = !exists
		results = append(results, res)
	}
	s.mu.Unlock()
	out := map[string]any{"status": "COMPLETE", "results": results, "startedAt": started.Format(time.RFC3339Nano),
		"completedAt": time.Now().UTC().Format(time.RFC3339Nano)}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusMultiStatus
		out["numErrors"], out["errors"] = len(errs), errs
	}
	emukit.WriteJSON(w, status, out)
	return status
}

func (s *Server) batchRead(w http.ResponseWriter, body []byte) int {
	var req struct {
		IDProperty string   `json:"idProperty"`
		Properties []string `json:"properties"`
		Inputs     []struct {
			ID string `json:"id"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return validation(w, "Invalid input JSON on line 1: "+err.Error())
	}
	if len(req.Inputs) == 0 || len(req.Inputs) > MaxBatch {
		return validation(w, fmt.Sprintf("inputs must hold between 1 and %d items, not %d", MaxBatch, len(req.Inputs)))
	}
	s.mu.Lock()
	results := []map[string]any{}
	var missing []string
	for _, in := range req.Inputs {
		id := in.ID
		if req.IDProperty != "" {
			if st, ok := s.checkIDProperty(w, req.IDProperty); !ok {
				s.mu.Unlock()
				return st
			}
			id = s.callByKey[in.ID]
		}
		o := s.objects["calls"][id]
		if o == nil {
			missing = append(missing, in.ID)
			continue
		}
		results = append(results, render(o, append(slices.Clone(req.Properties), s.cfg.CallKeyProperty)))
	}
	s.mu.Unlock()
	out := map[string]any{"status": "COMPLETE", "results": results}
	status := http.StatusOK
	if len(missing) > 0 {
		status = http.StatusMultiStatus
		out["numErrors"] = 1
		out["errors"] = []batchError{{"error", "OBJECT_NOT_FOUND", "Could not get some CALL objects, they may be deleted or not exist. Check that ids are valid.", map[string][]string{"ids": missing}}}
	}
	emukit.WriteJSON(w, status, out)
	return status
}

func (s *Server) associate(w http.ResponseWriter, toType string, body []byte) int {
	var req struct {
		Inputs []struct {
			From struct {
				ID string `json:"id"`
			} `json:"from"`
			To struct {
				ID string `json:"id"`
			} `json:"to"`
			Types []struct {
				Category string `json:"associationCategory"`
				TypeID   int    `json:"associationTypeId"`
			} `json:"types"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return validation(w, "Invalid input JSON on line 1: "+err.Error())
	}
	if len(req.Inputs) == 0 || len(req.Inputs) > MaxBatch {
		return validation(w, fmt.Sprintf("inputs must hold between 1 and %d items, not %d", MaxBatch, len(req.Inputs)))
	}
	want := map[string]int{"contacts": AssocCallContact, "companies": AssocCallCompany}[toType]
	objType := map[string]string{"contacts": "0-1", "companies": "0-2"}[toType]
	s.mu.Lock()
	defer s.mu.Unlock()
	results := []map[string]any{}
	var errs []batchError
	for _, in := range req.Inputs {
		if len(in.Types) != 1 || in.Types[0].Category != "HUBSPOT_DEFINED" || in.Types[0].TypeID != want {
			return validation(w, fmt.Sprintf("association type between calls and %s must be HUBSPOT_DEFINED %d", toType, want))
		}
		if s.objects["calls"][in.From.ID] == nil {
			errs = append(errs, batchError{"error", "OBJECT_NOT_FOUND", "No call with id " + in.From.ID, map[string][]string{"fromIds": {in.From.ID}}})
			continue
		}
		if s.objects[toType][in.To.ID] == nil {
			errs = append(errs, batchError{"error", "OBJECT_NOT_FOUND", fmt.Sprintf("No %s with id %s", strings.TrimSuffix(toType, "s"), in.To.ID), map[string][]string{"toIds": {in.To.ID}}})
			continue
		}
		a := Association{ToType: toType, ToID: in.To.ID, TypeID: want}
		if !slices.Contains(s.assoc[in.From.ID], a) {
			s.assoc[in.From.ID] = append(s.assoc[in.From.ID], a)
		}
		results = append(results, map[string]any{"fromObjectTypeId": "0-48", "fromObjectId": in.From.ID,
			"toObjectTypeId": objType, "toObjectId": in.To.ID, "labels": []string{}})
	}
	out := map[string]any{"status": "COMPLETE", "results": results}
	status := http.StatusCreated
	if len(errs) > 0 {
		status = http.StatusMultiStatus
		out["numErrors"], out["errors"] = len(errs), errs
	}
	emukit.WriteJSON(w, status, out)
	return status
}
