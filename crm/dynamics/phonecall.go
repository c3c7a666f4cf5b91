package dynamics

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
)

// Phone call states and statuses (crm-apis.md §4.3).
const (
	stateOpen       = 0
	stateCompleted  = 1
	statusMade      = 2 // outgoing, completed
	statusReceived  = 4 // incoming, completed
	maskFrom        = 1
	maskTo          = 2
	maxSubject      = 200
	maxDescription  = 2000
	maxPhoneNumber  = 200
	maxCustomColumn = 4000
)

// PhoneCallFields builds the phonecall row created for a call log (without
// the activity parties and regarding binds, which need the session). The
// subject is the log's Subject (the agent's default call subject, trimmed
// and cut to 200 characters) or, without one, "Inbound call from ...",
// "Outbound call to ..." or "Missed call from ...". It is exported for
// tests and for the admin's preview of the mapping.
func (c *Connector) PhoneCallFields(log domain.CallLog, key string) map[string]any {
	verb := "Inbound call from "
	switch {
	case log.Direction == domain.DirectionOutbound:
		verb = "Outbound call to "
	case log.Missed:
		verb = "Missed call from "
	}
	who := log.Remote.Number
	if who == "" {
		who = log.Remote.Label()
	}
	subject := crm.CallSubject(log.Subject, maxSubject)
	if subject == "" {
		subject = truncate(verb+who, maxSubject)
	}
	f := map[string]any{
		"subject":               subject,
		"directioncode":         log.Direction == domain.DirectionOutbound,
		"actualdurationminutes": int((log.Talk + time.Minute - 1) / time.Minute),
	}
	if log.Remote.Number != "" {
		f["phonenumber"] = truncate(log.Remote.Number, maxPhoneNumber)
	}
	if !log.StartedAt.IsZero() {
		f["actualstart"] = stamp(log.StartedAt)
	}
	if !log.EndedAt.IsZero() {
		f["actualend"] = stamp(log.EndedAt)
	}
	var extra []string
	set := func(col, v string) bool {
		if name := c.cfg.Columns[col]; name != "" {
			f[name] = truncate(v, maxCustomColumn)
			return true
		}
		return false
	}
	set(ColumnCallKey, key)
	if log.Outcome != "" && !set(ColumnOutcome, log.Outcome) {
		extra = append(extra, "Outcome: "+log.Outcome)
	}
	if log.Queue != "" && !set(ColumnQueue, log.Queue) {
		extra = append(extra, "Queue: "+log.Queue)
	}
	if len(log.Recordings) > 0 && !set(ColumnRecording, strings.Join(log.Recordings, "\n")) {
		for _, r := range log.Recordings {
			extra = append(extra, "Recording: "+r)
		}
	}
	desc := log.Notes
	if len(extra) > 0 {
		if desc != "" {
			desc += "\n\n"
		}
		desc += strings.Join(extra, "\n")
	}
	if desc != "" {
		f["description"] = truncate(desc, maxDescription)
	}
	return f
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// truncate cuts s to at most n characters (Dataverse counts characters).
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// regarding returns the entity (contact, account, lead) and id of the
// record the log is about, when the agent's core chose one.
func regarding(log domain.CallLog) (string, string) {
	if log.RecordID == "" || !guidRE.MatchString(log.RecordID) {
		return "", ""
	}
	for _, m := range log.Matches {
		if strings.EqualFold(m.ID, log.RecordID) {
			switch t := strings.ToLower(m.Type); t {
			case "contact", "account", "lead":
				return t, strings.ToLower(m.ID)
			}
		}
	}
	return "", ""
}

// payload is the create body: the row, the regarding bind and the
// activity parties (the customer and the agent's systemuser: from/to by
// direction). associate=false leaves the customer record out (it was
// deleted or merged): the number becomes an unresolved party.
func (s *session) payload(it crm.LogItem, associate bool) map[string]any {
	f := s.c.PhoneCallFields(it.Log, it.Key)
	typ, id := regarding(it.Log)
	customer := map[string]any{}
	if associate && typ != "" {
		f["regardingobjectid_"+typ+"_phonecall@odata.bind"] = "/" + typ + "s(" + id + ")"
		customer["partyid_"+typ+"@odata.bind"] = "/" + typ + "s(" + id + ")"
	} else if n := it.Log.Remote.Number; n != "" {
		customer["addressused"] = truncate(n, maxPhoneNumber)
	}
	var parties []map[string]any
	agent := map[string]any{}
	if uid := s.userID(); uid != "" {
		agent["partyid_systemuser@odata.bind"] = "/systemusers(" + uid + ")"
	}
	customerMask, agentMask := maskFrom, maskTo
	if it.Log.Direction == domain.DirectionOutbound {
		customerMask, agentMask = maskTo, maskFrom
	}
	if len(customer) > 0 {
		customer["participationtypemask"] = customerMask
		parties = append(parties, customer)
	}
	if len(agent) > 0 {
		agent["participationtypemask"] = agentMask
		parties = append(parties, agent)
	}
	if len(parties) > 0 {
		f["phonecall_activity_parties"] = parties
	}
	return f
}

// LogCalls implements crm.Session. Each log is a phonecall activity with
// activityid = ActivityID(Key): created with PATCH and If-None-Match: *
// (204 created, 412 already there), then closed (statecode 1, statuscode
// 4 Received or 2 Made). A log that may already exist is read first
// (GET statecode) and only the missing steps are done, so a replay after
// a lost answer or a crash between create and close never writes twice. A
// customer record deleted since the lookup is left out once
// (Unassociated). At most MaxBatch logs per call.
func (s *session) LogCalls(ctx context.Context, items []crm.LogItem) ([]crm.LogResult, error) {
	if len(items) > MaxBatch {
		return nil, &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "batch_too_large",
			Message: fmt.Sprintf("%d logs in one request, at most %d", len(items), MaxBatch)}
	}
	results := make([]crm.LogResult, len(items))
	for i, it := range items {
		switch {
		case it.AgentID != s.agent:
			results[i].Err = fmt.Errorf("dynamics: %w", crm.ErrWrongAgent)
		case it.Key == "":
			results[i].Err = &crm.Error{CRM: Name, Kind: crm.KindPermanent, Code: "no_key", Message: "call log without idempotency key"}
		default:
			r, err := s.logOne(ctx, it)
			if err != nil {
				if k := crm.KindOf(err); k != crm.KindPermanent && k != crm.KindStaleReference {
					return nil, err // the whole request failed: the outbox acts on the kind
				}
				r = crm.LogResult{Err: err}
			}
			results[i] = r
		}
	}
	return results, nil
}

func (s *session) logOne(ctx context.Context, it crm.LogItem) (crm.LogResult, error) {
	if s.userID() == "" {
		// A session whose identity could not be read yet: the agent's
		// systemuser is an activity party.
		if err := s.loadIdentity(ctx); err != nil {
			return crm.LogResult{}, err
		}
	}
	id := ActivityID(it.Key)
	res := crm.LogResult{ID: id}
	if it.MayExist {
		state, found, err := s.state(ctx, id)
		if err != nil {
			return crm.LogResult{}, err
		}
		if found {
			if state != stateOpen {
				return res, nil // created and closed before
			}
			return res, s.close(ctx, id, it.Log)
		}
	}
	created, unassoc, err := s.create(ctx, id, it)
	if err != nil {
		return crm.LogResult{}, err
	}
	res.Created, res.Unassociated = created, unassoc
	if !created {
		// Already there (a replay that did not know): it may still be
		// open if the earlier attempt stopped before the close.
		state, found, err := s.state(ctx, id)
		if err != nil {
			return crm.LogResult{}, err
		}
		if !found || state != stateOpen {
			return res, nil
		}
	}
	return res, s.close(ctx, id, it.Log)
}

// state reads the phone call's statecode; found is false on 404.
func (s *session) state(ctx context.Context, id string) (int, bool, error) {
	body, err := s.do(ctx, request{method: http.MethodGet, path: "phonecalls(" + id + ")",
		query: map[string][]string{"$select": {"statecode"}}})
	if isNotFound(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	var row struct {
		StateCode *int `json:"statecode"`
	}
	if err := json.Unmarshal(body, &row); err != nil || row.StateCode == nil {
		return 0, false, badResponse("phonecall", err, false)
	}
	return *row.StateCode, true, nil
}

// create writes the phone call unless it exists. created is false when
// it already did (412).
func (s *session) create(ctx context.Context, id string, it crm.LogItem) (created, unassociated bool, err error) {
	associate := true
	for {
		_, err = s.do(ctx, request{method: http.MethodPatch, path: "phonecalls(" + id + ")",
			header: map[string]string{"If-None-Match": "*"}, body: s.payload(it, associate), write: true})
		switch {
		case err == nil:
			return true, !associate, nil
		case crm.KindOf(err) == crm.KindAlreadyExists:
			return false, false, nil
		case associate && isNotFound(err):
			// A bound contact/account/lead was deleted or merged since
			// the lookup: log the call without it, once.
			if typ, _ := regarding(it.Log); typ != "" {
				s.c.cfg.Logger.Info("regarding record gone; logging unassociated", "agent", s.agent)
				associate = false
				continue
			}
		}
		return false, false, err
	}
}

// close completes an open phone call. A refusal because it is already
// closed (someone closed it meanwhile) counts as done: the state is read
// back before giving up.
func (s *session) close(ctx context.Context, id string, log domain.CallLog) error {
	status := statusReceived
	if log.Direction == domain.DirectionOutbound {
		status = statusMade
	}
	_, err := s.do(ctx, request{method: http.MethodPatch, path: "phonecalls(" + id + ")",
		header: map[string]string{"If-Match": "*"}, body: map[string]any{"statecode": stateCompleted, "statuscode": status}, write: true})
	if err == nil || crm.KindOf(err) != crm.KindPermanent {
		return err
	}
	state, found, rerr := s.state(ctx, id)
	if rerr == nil && found && state != stateOpen {
		return nil
	}
	return err
}
