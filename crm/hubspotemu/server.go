package hubspotemu

import (
	"encoding/json"
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/callcentre/softphone/crm/emukit"
)

// Defaults.
const (
	DefaultClientID     = "hubspot-emu-client"
	DefaultClientSecret = "hubspot-emu-secret"
	DefaultPortalID     = 62515
	DefaultUIDomain     = "app.hubspot.com"
	DefaultCallKey      = "cti_call_id"
	// MaxBatch is the most inputs a batch request takes.
	MaxBatch = 100
	// MaxFilterGroups is the most filter groups a search takes.
	MaxFilterGroups = 5
	// AssocCallContact and AssocCallCompany are HubSpot's association
	// type ids.
	AssocCallContact = 194
	AssocCallCompany = 182
)

// Default call outcome (disposition) GUIDs of every portal.
var DefaultDispositions = map[string]string{
	"9d9162e7-6cf3-4944-bf63-4dff82258764": "Busy",
	"f240bbac-87c9-4f6e-bf70-924b57d47db7": "Connected",
	"a4c4c377-d246-4b32-a13b-75a56a4cd0ff": "Left live message",
	"b2cf5968-551e-4856-9783-52b3da59a7d0": "Left voicemail",
	"73a0d17f-1163-4015-bdd5-ec830791da20": "No answer",
	"17b47fee-58de-441e-a44c-c6300d46f273": "Wrong number",
}

// Config configures the emulator.
type Config struct {
	ClientID     string // default DefaultClientID
	ClientSecret string // default DefaultClientSecret
	PortalID     int    // default DefaultPortalID
	UIDomain     string // account-info's uiDomain (default app.hubspot.com)
	// CallKeyProperty is the admin's custom unique call property (default
	// cti_call_id). NoCallKeyProperty leaves it undefined (the admin
	// skipped that step); CallKeyNotUnique defines it without
	// hasUniqueValue.
	CallKeyProperty   string
	NoCallKeyProperty bool
	CallKeyNotUnique  bool
	// AccessTTL is the OAuth access token lifetime, enforced (30 minutes
	// by default, as HubSpot).
	AccessTTL time.Duration
	// Region is the portal's default country for the calculated phone
	// properties ("US").
	Region string
}

// Object is a CRM record.
type Object struct {
	ID         string            `json:"id"`
	Properties map[string]string `json:"properties"`
	CreatedAt  time.Time         `json:"createdAt"`
	UpdatedAt  time.Time         `json:"updatedAt"`
	Archived   bool              `json:"archived"`
}

// Association links a call to a contact or company.
type Association struct {
	ToType string `json:"toType"` // "contacts" or "companies"
	ToID   string `json:"toId"`
	TypeID int    `json:"typeId"`
}

// Server is a running HubSpot emulator. The embedded emukit.Server gives
// Start, Stop, Restart, URL, faults, users and the journal.
type Server struct {
	*emukit.Server
	cfg Config

	mu           sync.Mutex
	seq          int64
	objects      map[string]map[string]*Object // type -> id -> object
	callByKey    map[string]string
	assoc        map[string][]Association // call id -> associations
	dispositions map[string]string
	upserts      int
	writes       map[string]int // call key -> upserts applied
}

// New returns a stopped emulator with the default dispositions and one
// user (agent1@emu.test, an owner).
func New(cfg Config) *Server {
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = DefaultClientSecret
	}
	if cfg.PortalID == 0 {
		cfg.PortalID = DefaultPortalID
	}
	if cfg.UIDomain == "" {
		cfg.UIDomain = DefaultUIDomain
	}
	if cfg.CallKeyProperty == "" {
		cfg.CallKeyProperty = DefaultCallKey
	}
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = 30 * time.Minute
	}
	if cfg.Region == "" {
		cfg.Region = "US"
	}
	s := &Server{cfg: cfg}
	s.Server = emukit.New(emukit.Config{
		Name: "hubspot", ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret,
		AuthorizePath: "/oauth/authorize", TokenPath: "/oauth/v3/token",
		AccessTTL: cfg.AccessTTL,
		TokenExtra: func(*emukit.User) map[string]any {
			return map[string]any{"hub_id": cfg.PortalID}
		},
		Errors: writeError,
		API:    s.api,
		Public: s.public,
	})
	s.ResetData()
	return s
}

// ResetData forgets contacts, companies, calls and associations (users
// and tokens stay).
func (s *Server) ResetData() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects = map[string]map[string]*Object{"contacts": {}, "companies": {}, "calls": {}}
	s.callByKey = map[string]string{}
	s.assoc = map[string][]Association{}
	s.dispositions = maps.Clone(DefaultDispositions)
	s.upserts = 0
	s.writes = map[string]int{}
}

// EmuConfig returns the emulator's configuration.
func (s *Server) EmuConfig() Config { return s.cfg }

// PrivateAppToken issues a non-expiring private-app (portal) access token
// for the portal, as IT would create one in HubSpot's settings.
func (s *Server) PrivateAppToken() string {
	u := s.AddUser("private-app@emu.test", "Softphone private app")
	s.SetActive(u.ID, true)
	return s.IssueStaticToken(u.ID)
}

// Owner is a HubSpot owner (a user who can own records).
type Owner struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	UserID    int    `json:"userId"`
	Archived  bool   `json:"archived"`
}

// OwnerOf returns the owner of an emulator user (its numeric ids are
// derived from the user id "u0001": owner 70001, user 90001).
func OwnerOf(u emukit.User) Owner {
	n, _ := strconv.Atoi(strings.TrimPrefix(u.ID, "u"))
	first, last, _ := strings.Cut(u.Name, " ")
	return Owner{ID: strconv.Itoa(70000 + n), Email: u.Email, FirstName: first, LastName: last, UserID: 90000 + n, Archived: !u.Active}
}

func (s *Server) owners() []Owner {
	var out []Owner
	for _, u := range s.Users() {
		if strings.HasPrefix(u.Email, "private-app@") {
			continue
		}
		out = append(out, OwnerOf(u))
	}
	slices.SortFunc(out, func(a, b Owner) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// AddDisposition defines a custom call outcome.
func (s *Server) AddDisposition(guid, label string) {
	s.mu.Lock()
	s.dispositions[guid] = label
	s.mu.Unlock()
}

// ---- records ----

func (s *Server) nextIDLocked() string {
	s.seq++
	return strconv.FormatInt(100000+s.seq, 10)
}

func (s *Server) calc(typ string, p map[string]string) {
	national := func(v string) string {
		if v == "" {
			return ""
		}
		num, err := phonenumbers.Parse(v, s.cfg.Region)
		if err != nil {
			return ""
		}
		return phonenumbers.GetNationalSignificantNumber(num)
	}
	switch typ {
	case "contacts":
		p["hs_searchable_calculated_phone_number"] = national(p["phone"])
		p["hs_searchable_calculated_mobile_number"] = national(p["mobilephone"])
	case "companies":
		p["hs_searchable_calculated_phone_number"] = national(p["phone"])
	}
}

func (s *Server) add(typ string, props map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().UTC()
	p := maps.Clone(props)
	if p == nil {
		p = map[string]string{}
	}
	s.calc(typ, p)
	o := &Object{ID: s.nextIDLocked(), Properties: p, CreatedAt: now, UpdatedAt: now}
	s.objects[typ][o.ID] = o
	return o.ID
}

// AddContact seeds a contact (properties firstname, lastname, email,
// phone, mobilephone, company ...) and returns its id.
func (s *Server) AddContact(props map[string]string) string { return s.add("contacts", props) }

// AddCompany seeds a company (name, domain, phone ...) and returns its id.
func (s *Server) AddCompany(props map[string]string) string { return s.add("companies", props) }

// Delete removes a contact or company ("contacts", "companies"), as when
// it is deleted or merged in HubSpot.
func (s *Server) Delete(typ, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objects[typ], id)
}

// CallByKey returns the call whose unique call-key property is key.
func (s *Server) CallByKey(key string) (Object, []Association, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.callByKey[key]
	if !ok {
		return Object{}, nil, false
	}
	o := s.objects["calls"][id]
	c := *o
	c.Properties = maps.Clone(o.Properties)
	return c, slices.Clone(s.assoc[id]), true
}

// Calls returns every call.
func (s *Server) Calls() []Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Object, 0, len(s.objects["calls"]))
	for _, o := range s.objects["calls"] {
		c := *o
		c.Properties = maps.Clone(o.Properties)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// CallCount is the number of calls.
func (s *Server) CallCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects["calls"])
}

// Upserts counts the inputs batch upsert has applied (created or updated).
func (s *Server) Upserts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.upserts
}

// Writes maps each call key to the number of upserts applied to its call
// (the create plus any rewrite).
func (s *Server) Writes() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.writes)
}

// ---- errors ----

func correlationID() string { return emukit.RandomToken(12) }

// writeError writes HubSpot's error envelope. For 429, code is the policy
// name (default TEN_SECONDLY_ROLLING); for 401 the emukit reasons become
// HubSpot's authentication categories.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	switch status {
	case http.StatusTooManyRequests:
		if code == "" {
			code = "TEN_SECONDLY_ROLLING"
		}
		if msg == "" || msg == http.StatusText(status) {
			msg = "You have reached your " + strings.ToLower(code) + " limit."
		}
		emukit.WriteJSON(w, status, map[string]any{"status": "error", "message": msg, "errorType": "RATE_LIMIT",
			"correlationId": correlationID(), "policyName": code, "requestId": correlationID()})
		return
	case http.StatusUnauthorized:
		switch code {
		case "expired_token":
			code, msg = "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired."
		case "missing_token", "invalid_token", "inactive_user":
			code, msg = "INVALID_AUTHENTICATION", "Authentication credentials not found. This API supports OAuth 2.0 authentication."
		}
	}
	if code == "" {
		code = "ERROR"
	}
	emukit.WriteJSON(w, status, map[string]any{"status": "error", "message": msg, "correlationId": correlationID(), "category": code})
}

type batchError struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context,omitempty"`
}

// ---- public paths (no bearer token) ----

func (s *Server) public(w http.ResponseWriter, r *http.Request, body []byte) (int, bool) {
	p := r.URL.Path
	switch {
	case p == "/oauth/2026-03/token/introspect" && r.Method == http.MethodPost:
		return s.introspect(w, body), true
	case strings.HasPrefix(p, "/oauth/v1/refresh-tokens/") && r.Method == http.MethodDelete:
		tok := strings.TrimPrefix(p, "/oauth/v1/refresh-tokens/")
		if !s.Revoke(tok) {
			writeError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "refresh token not found")
			return http.StatusNotFound, true
		}
		w.WriteHeader(http.StatusNoContent)
		return http.StatusNoContent, true
	case strings.HasPrefix(p, "/contacts/") && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, "<!doctype html><title>HubSpot emulator</title><p>%s</p>", html.EscapeString(p))
		return http.StatusOK, true
	case p == "/__emu__/contacts" || p == "/__emu__/companies":
		typ := strings.TrimPrefix(p, "/__emu__/")
		if r.Method != http.MethodPost {
			return 0, false
		}
		var props map[string]string
		if err := json.Unmarshal(body, &props); err != nil {
			http.Error(w, "bad properties", http.StatusBadRequest)
			return http.StatusBadRequest, true
		}
		emukit.WriteJSON(w, http.StatusCreated, map[string]string{"id": s.add(typ, props)})
		return http.StatusCreated, true
	case p == "/__emu__/calls" && r.Method == http.MethodGet:
		emukit.WriteJSON(w, http.StatusOK, s.Calls())
		return http.StatusOK, true
	}
	return 0, false
}

func (s *Server) introspect(w http.ResponseWriter, body []byte) int {
	form := parseForm(body)
	if form["client_id"] != s.cfg.ClientID || form["client_secret"] != s.cfg.ClientSecret {
		emukit.WriteJSON(w, http.StatusUnauthorized, map[string]string{"status": "error", "error": "invalid_client",
			"error_description": "client authentication failed", "message": "client authentication failed"})
		return http.StatusUnauthorized
	}
	u, ok := s.TokenUser(form["token"])
	if !ok {
		emukit.WriteJSON(w, http.StatusOK, map[string]any{"active": false})
		return http.StatusOK
	}
	o := OwnerOf(u)
	emukit.WriteJSON(w, http.StatusOK, map[string]any{"active": true, "client_id": s.cfg.ClientID,
		"hub_id": s.cfg.PortalID, "user_id": o.UserID, "user": u.Email, "token_type": "access_token",
		"scopes": []string{"oauth", "crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.companies.read"}})
	return http.StatusOK
}

func parseForm(body []byte) map[string]string {
	out := map[string]string{}
	v, _ := url.ParseQuery(string(body))
	for k := range v {
		out[k] = v.Get(k)
	}
	return out
}
