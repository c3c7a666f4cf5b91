package servicenowemu

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/callcentre/softphone/crm/emukit"
)

// Defaults of the emulated instance.
const (
	// DefaultClientID is the client id of the emulated application
	// registry entry.
	DefaultClientID = "softphone-desktop"
	// DefaultCallKeyField is the custom unique field of the interaction
	// table that holds the call key.
	DefaultCallKeyField = "u_cti_call_id"
	// AuthorizePath, TokenPath and RevokePath are the instance's OAuth
	// endpoints.
	AuthorizePath = "/oauth_auth.do"
	TokenPath     = "/oauth_token.do"
	RevokePath    = "/oauth_revoke_token.do"
)

// Table names the emulator knows.
const (
	TableUser            = "sys_user"
	TableCustomerContact = "customer_contact"
	TableCustomerAccount = "customer_account"
	TableInteraction     = "interaction"
)

// Record is one row: ServiceNow's Table API carries every value as a
// string (reference fields hold the referenced sys_id).
type Record map[string]string

// RateLimit is an inbound REST rate-limit rule applied per user.
type RateLimit struct {
	Requests int           // allowed requests per window (0: no rule)
	Window   time.Duration // default one hour, as ServiceNow's rules
}

// Config configures the emulated instance.
type Config struct {
	// ClientID of the registry entry (DefaultClientID when empty).
	ClientID string
	// ClientSecret, when set, must accompany every token request (a
	// registry entry that is not a public client).
	ClientSecret string
	// CallbackURLs are the registered redirect URLs (empty: any loopback
	// URL with a port).
	CallbackURLs []string
	// RotateRefresh issues a new refresh token on every refresh.
	RotateRefresh bool
	// AccessTTL is the access token lifespan (0: 30 minutes reported,
	// never enforced).
	AccessTTL time.Duration
	// InvalidQueryReturnsNoRows is glide.invalid_query.returns_no_rows:
	// a query naming an unknown field returns nothing instead of the
	// unfiltered rows.
	InvalidQueryReturnsNoRows bool
	// CallKeyField is the unique custom field of the interaction table
	// (DefaultCallKeyField when empty). NoCallKeyField plays an instance
	// where the admin never created it: inserts silently drop the value
	// and nothing is unique.
	CallKeyField   string
	NoCallKeyField bool
	// ImportSet, when set, is the staging table of an import set whose
	// transform map writes interactions, coalescing on the call key
	// field (POST /api/now/import/{ImportSet}).
	ImportSet string
	// RateLimit is an inbound REST rate-limit rule for every user.
	RateLimit RateLimit
	// InstanceName shows in messages (default "dev00000").
	InstanceName string
}

// Server is a running ServiceNow emulator.
type Server struct {
	*emukit.Server
	cfg Config

	mu       sync.Mutex
	tables   map[string][]Record
	sysIDs   map[string]string // emukit user id -> sys_user sys_id
	seq      map[string]int    // number prefixes
	writes   map[string]int    // call key -> committed inserts and updates
	imports  int
	policies []DataPolicy
	rate     map[string]*window // user -> counter
}

type window struct {
	start time.Time
	n     int
}

// DataPolicy refuses interactions whose field contains a text, like a
// data policy or a business rule that aborts the insert.
type DataPolicy struct {
	Field, Contains, Message string
}

// schema lists each table's fields; refs are reference fields (rendered
// with a link unless sysparm_exclude_reference_link=true).
var (
	userFields    = []string{"sys_id", "user_name", "name", "first_name", "last_name", "email", "phone", "mobile_phone", "active", "sys_class_name"}
	contactFields = append(slices.Clone(userFields), "account")
	accountFields = []string{"sys_id", "name", "number", "phone"}
	refs          = map[string]string{"account": TableCustomerAccount, "opened_for": TableUser, "assigned_to": TableUser}
)

func (s *Server) interactionFields() []string {
	f := []string{"sys_id", "number", "type", "direction", "state", "opened_for", "assigned_to", "short_description",
		"work_notes", "opened_at", "closed_at", "u_duration", "u_phone_number", "u_dialed_number", "u_recording_url",
		"u_outcome", "u_queue", "sys_created_on", "sys_created_by"}
	if !s.cfg.NoCallKeyField {
		f = append(f, s.cfg.CallKeyField)
	}
	return f
}

func (s *Server) fields(table string) (map[string]bool, bool) {
	var list []string
	switch table {
	case TableUser:
		list = userFields
	case TableCustomerContact:
		list = contactFields
	case TableCustomerAccount:
		list = accountFields
	case TableInteraction:
		list = s.interactionFields()
	default:
		return nil, false
	}
	m := make(map[string]bool, len(list))
	for _, f := range list {
		m[f] = true
	}
	return m, true
}

// New returns a stopped emulator with one user, the browser user
// ("agent1@emu.test"). Start it with Start.
func New(cfg Config) *Server {
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.CallKeyField == "" {
		cfg.CallKeyField = DefaultCallKeyField
	}
	if cfg.InstanceName == "" {
		cfg.InstanceName = "dev00000"
	}
	if cfg.RateLimit.Requests > 0 && cfg.RateLimit.Window <= 0 {
		cfg.RateLimit.Window = time.Hour
	}
	s := &Server{cfg: cfg}
	s.Server = emukit.New(emukit.Config{
		Name:          "servicenow",
		ClientID:      cfg.ClientID,
		ClientSecret:  cfg.ClientSecret,
		CallbackURLs:  cfg.CallbackURLs,
		AuthorizePath: AuthorizePath,
		TokenPath:     TokenPath,
		RevokePath:    RevokePath,
		RotateRefresh: cfg.RotateRefresh,
		AccessTTL:     cfg.AccessTTL,
		Errors:        writeError,
		API:           s.api,
		Public:        s.public,
	})
	s.ResetRecords()
	return s
}

// ResetRecords forgets every record (users and tokens stay).
func (s *Server) ResetRecords() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables = map[string][]Record{}
	s.sysIDs = map[string]string{}
	s.seq = map[string]int{}
	s.writes = map[string]int{}
	s.rate = map[string]*window{}
	s.policies = nil
	s.imports = 0
}

// NewSysID returns a random 32-hex-digit sys_id.
func NewSysID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// writeError renders ServiceNow's error envelope: code is the message
// ("User Not Authorized"), msg the detail.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	message := code
	switch {
	case status == http.StatusUnauthorized:
		message, msg = "User Not Authenticated", "Required to provide Auth information"
	case status == http.StatusTooManyRequests:
		if message == "" {
			message = "Rate limit exceeded"
		}
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", "30")
		}
		if w.Header().Get("X-RateLimit-Rule") == "" {
			w.Header().Set("X-RateLimit-Rule", "emulated")
		}
	case message == "":
		message = http.StatusText(status)
	}
	var detail any
	if msg != "" {
		detail = msg
	}
	emukit.WriteJSON(w, status, map[string]any{"error": map[string]any{"message": message, "detail": detail}, "status": "failure"})
}

// ---- accessors for tests and demos ----

// SeedContact adds a customer_contact row (sys_id and active are filled
// in when missing) and returns its sys_id.
func (s *Server) SeedContact(r Record) string { return s.Seed(TableCustomerContact, r) }

// Seed adds a row to table and returns its sys_id.
func (s *Server) Seed(table string, r Record) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	row := Record{}
	for k, v := range r {
		row[k] = v
	}
	if row["sys_id"] == "" {
		row["sys_id"] = NewSysID()
	}
	if _, ok := row["active"]; !ok && table != TableInteraction {
		row["active"] = "true"
	}
	if row["name"] == "" && (row["first_name"] != "" || row["last_name"] != "") {
		row["name"] = strings.TrimSpace(row["first_name"] + " " + row["last_name"])
	}
	s.tables[table] = append(s.tables[table], row)
	return row["sys_id"]
}

// Delete removes a row by sys_id from table.
func (s *Server) Delete(table, sysID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables[table] = slices.DeleteFunc(s.tables[table], func(r Record) bool { return r["sys_id"] == sysID })
}

// Records returns copies of table's rows.
func (s *Server) Records(table string) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Record
	for _, r := range s.rowsLocked(table) {
		out = append(out, copyRecord(r))
	}
	return out
}

// Interactions returns the interaction rows.
func (s *Server) Interactions() []Record { return s.Records(TableInteraction) }

// InteractionsByKey returns the interactions carrying call key (more than
// one means a duplicate).
func (s *Server) InteractionsByKey(key string) []Record {
	var out []Record
	for _, r := range s.Interactions() {
		if r[s.cfg.CallKeyField] == key {
			out = append(out, r)
		}
	}
	return out
}

// Writes maps each call key to the committed writes of its interaction:
// the insert, plus any update by an import set's coalesce.
func (s *Server) Writes() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.writes))
	for k, n := range s.writes {
		out[k] = n
	}
	return out
}

// Logs maps each call key to the number of interactions holding it.
func (s *Server) Logs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, r := range s.tables[TableInteraction] {
		if k := r[s.cfg.CallKeyField]; k != "" {
			out[k]++
		}
	}
	return out
}

// AddDataPolicy arms a data policy on interactions.
func (s *Server) AddDataPolicy(p DataPolicy) {
	s.mu.Lock()
	s.policies = append(s.policies, p)
	s.mu.Unlock()
}

// SysID returns the sys_user sys_id of the emulator user id (an emukit
// user, "u0001").
func (s *Server) SysID(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sysIDLocked(userID)
}

func (s *Server) sysIDLocked(userID string) string {
	id, ok := s.sysIDs[userID]
	if !ok {
		id = NewSysID()
		s.sysIDs[userID] = id
	}
	return id
}

// usersLocked renders the emulator's users as sys_user rows.
func (s *Server) usersLocked() []Record {
	users := s.Users()
	slices.SortFunc(users, func(a, b emukit.User) int { return strings.Compare(a.ID, b.ID) })
	out := make([]Record, 0, len(users))
	for _, u := range users {
		first, last, _ := strings.Cut(u.Name, " ")
		out = append(out, Record{"sys_id": s.sysIDLocked(u.ID), "user_name": u.Username, "name": u.Name, "first_name": first,
			"last_name": last, "email": u.Email, "active": strconv.FormatBool(u.Active), "sys_class_name": TableUser})
	}
	return out
}

func copyRecord(r Record) Record {
	c := make(Record, len(r))
	for k, v := range r {
		c[k] = v
	}
	return c
}

// ---- HTTP ----

// public serves the emulator's own control endpoints under /__emu__/
// (GET /__emu__/records/{table}, POST /__emu__/records/{table} to seed).
func (s *Server) public(w http.ResponseWriter, r *http.Request, body []byte) (int, bool) {
	table, ok := strings.CutPrefix(r.URL.Path, "/__emu__/records/")
	if !ok {
		return 0, false
	}
	switch r.Method {
	case http.MethodGet:
		emukit.WriteJSON(w, http.StatusOK, map[string]any{"result": s.Records(table)})
		return http.StatusOK, true
	case http.MethodPost:
		var rec Record
		if err := json.Unmarshal(body, &rec); err != nil {
			http.Error(w, "bad record: "+err.Error(), http.StatusBadRequest)
			return http.StatusBadRequest, true
		}
		emukit.WriteJSON(w, http.StatusCreated, map[string]any{"result": map[string]string{"sys_id": s.Seed(table, rec)}})
		return http.StatusCreated, true
	}
	return 0, false
}

// api serves authenticated requests: the Table API (v1 and v2) and the
// Import Set API.
func (s *Server) api(w http.ResponseWriter, r *http.Request, body []byte, u *emukit.User) int {
	if st, limited := s.rateLimit(w, u.ID); limited {
		return st
	}
	p := r.URL.Path
	if staging, ok := strings.CutPrefix(p, "/api/now/import/"); ok && r.Method == http.MethodPost {
		return s.importSet(w, r, staging, body, u)
	}
	v2 := false
	rest, ok := strings.CutPrefix(p, "/api/now/table/")
	if !ok {
		if rest, ok = strings.CutPrefix(p, "/api/now/v2/table/"); ok {
			v2 = true
		} else if rest, ok = strings.CutPrefix(p, "/api/now/v1/table/"); !ok {
			writeError(w, http.StatusBadRequest, "Requested URI does not represent any resource", p)
			return http.StatusBadRequest
		}
	}
	table, id, _ := strings.Cut(rest, "/")
	if _, known := s.fields(table); !known {
		writeError(w, http.StatusBadRequest, "Invalid table "+table, "")
		return http.StatusBadRequest
	}
	switch {
	case r.Method == http.MethodGet && id == "":
		return s.list(w, r, table, v2, u)
	case r.Method == http.MethodGet:
		return s.get(w, r, table, id, u)
	case r.Method == http.MethodPost && id == "":
		return s.create(w, r, table, body, u)
	}
	writeError(w, http.StatusMethodNotAllowed, "Method not Supported", "")
	return http.StatusMethodNotAllowed
}

func (s *Server) rateLimit(w http.ResponseWriter, user string) (int, bool) {
	rl := s.cfg.RateLimit
	if rl.Requests <= 0 {
		return 0, false
	}
	s.mu.Lock()
	now := time.Now()
	c := s.rate[user]
	if c == nil || now.Sub(c.start) >= rl.Window {
		c = &window{start: now}
		s.rate[user] = c
	}
	c.n++
	n, reset := c.n, c.start.Add(rl.Window)
	s.mu.Unlock()
	w.Header().Set("X-RateLimit-Limit", strconv.Itoa(rl.Requests))
	w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	w.Header().Set("X-RateLimit-Rule", "b1f8a3a0dbe2330010f1f3c4ca9619e7")
	if n <= rl.Requests {
		return 0, false
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(time.Until(reset).Seconds()+1)))
	writeError(w, http.StatusTooManyRequests, "Rate limit exceeded",
		fmt.Sprintf("Rate limit of %d requests per hour for Table API exceeded", rl.Requests))
	return http.StatusTooManyRequests, true
}

func (s *Server) vars(u *emukit.User) map[string]string {
	return map[string]string{
		"javascript:gs.getUserName()": u.Username,
		"javascript:gs.getUserID()":   s.SysID(u.ID),
	}
}

func (s *Server) rowsLocked(table string) []Record {
	if table == TableUser {
		// The emulator's users, then seeded rows (people who only exist
		// as users, or the sys_user side of a customer_contact).
		return append(s.usersLocked(), s.tables[table]...)
	}
	return s.tables[table]
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, table string, v2 bool, u *emukit.User) int {
	q := r.URL.Query()
	fields, _ := s.fields(table)
	vars := s.vars(u)
	qq := parseQuery(q.Get("sysparm_query"), fields, vars)
	limit, offset := 10000, 0
	if v := q.Get("sysparm_limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "Invalid sysparm_limit", v)
			return http.StatusBadRequest
		}
		limit = n
	}
	if v := q.Get("sysparm_offset"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			offset = n
		}
	}
	s.mu.Lock()
	var hits []Record
	if !(qq.invalid && s.cfg.InvalidQueryReturnsNoRows) {
		for _, row := range s.rowsLocked(table) {
			if qq.matches(row) {
				hits = append(hits, copyRecord(row))
			}
		}
	}
	s.mu.Unlock()
	if qq.orderBy != "" {
		slices.SortStableFunc(hits, func(a, b Record) int {
			c := strings.Compare(a[qq.orderBy], b[qq.orderBy])
			if qq.desc {
				return -c
			}
			return c
		})
	}
	total := len(hits)
	hits = hits[min(offset, total):min(offset+limit, total)]
	if !v2 && len(hits) == 0 {
		// Table API v1 answers an empty result with 404.
		writeError(w, http.StatusNotFound, "No Record found", "Records matching query not found. Check query parameter or offset parameter")
		return http.StatusNotFound
	}
	if q.Get("sysparm_no_count") != "true" {
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
	}
	if offset+limit < total {
		next := *r.URL
		nq := next.Query()
		nq.Set("sysparm_offset", strconv.Itoa(offset+limit))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", "<"+s.URL()+next.String()+`>;rel="next"`)
	}
	out := make([]map[string]any, 0, len(hits))
	for _, row := range hits {
		out = append(out, s.render(row, q))
	}
	emukit.WriteJSON(w, http.StatusOK, map[string]any{"result": out})
	return http.StatusOK
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, table, id string, _ *emukit.User) int {
	s.mu.Lock()
	var row Record
	for _, x := range s.rowsLocked(table) {
		if x["sys_id"] == id {
			row = copyRecord(x)
		}
	}
	s.mu.Unlock()
	if row == nil {
		writeError(w, http.StatusNotFound, "No Record found", "Record doesn't exist or ACL restricts the record retrieval")
		return http.StatusNotFound
	}
	emukit.WriteJSON(w, http.StatusOK, map[string]any{"result": s.render(row, r.URL.Query())})
	return http.StatusOK
}

// render projects row on sysparm_fields and renders reference fields.
func (s *Server) render(row Record, q url.Values) map[string]any {
	noLinks := q.Get("sysparm_exclude_reference_link") == "true"
	keep := func(string) bool { return true }
	if f := q.Get("sysparm_fields"); f != "" {
		want := strings.Split(f, ",")
		keep = func(k string) bool { return slices.Contains(want, k) }
	}
	out := map[string]any{}
	for k, v := range row {
		if !keep(k) {
			continue
		}
		if t, isRef := refs[k]; isRef && v != "" && !noLinks {
			out[k] = map[string]string{"link": s.URL() + "/api/now/table/" + t + "/" + v, "value": v}
			continue
		}
		out[k] = v
	}
	return out
}

// decodeRecord reads a JSON object as a row: numbers and booleans become
// strings, a reference object gives its value, unknown fields are dropped
// silently (as ServiceNow does).
func decodeRecord(body []byte, fields map[string]bool) (Record, error) {
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	if in == nil {
		return nil, fmt.Errorf("not a json object")
	}
	row := Record{}
	for k, v := range in {
		if !fields[k] || k == "sys_id" || k == "number" {
			continue
		}
		switch x := v.(type) {
		case nil:
			row[k] = ""
		case string:
			row[k] = x
		case map[string]any:
			row[k], _ = x["value"].(string)
		default:
			b, _ := json.Marshal(x)
			row[k] = string(b)
		}
	}
	return row, nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, table string, body []byte, u *emukit.User) int {
	fields, _ := s.fields(table)
	row, err := decodeRecord(body, fields)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Exception while reading request", "The payload is not valid JSON.")
		return http.StatusBadRequest
	}
	s.mu.Lock()
	row, status, code, detail := s.insertLocked(table, row, u)
	s.mu.Unlock()
	if status != http.StatusCreated {
		writeError(w, status, code, detail)
		return status
	}
	emukit.WriteJSON(w, http.StatusCreated, map[string]any{"result": s.render(row, r.URL.Query())})
	return http.StatusCreated
}

func (s *Server) nextNumberLocked(table string) string {
	prefix := map[string]string{TableInteraction: "IMS", TableCustomerAccount: "ACCT"}[table]
	if prefix == "" {
		return ""
	}
	s.seq[table]++
	return fmt.Sprintf("%s%07d", prefix, 1000+s.seq[table])
}

// insertLocked applies an insert: data policies, then the unique index of
// the call key field (a violation aborts the insert like ServiceNow's
// database does: 403 "Operation Failed").
func (s *Server) insertLocked(table string, row Record, u *emukit.User) (Record, int, string, string) {
	number := s.nextNumberLocked(table)
	if table == TableInteraction {
		for _, p := range s.policies {
			if strings.Contains(row[p.Field], p.Contains) {
				return nil, http.StatusForbidden, "Operation Failed", "Data Policy Exception: " + p.Message
			}
		}
		if key := row[s.cfg.CallKeyField]; key != "" && !s.cfg.NoCallKeyField {
			for _, x := range s.tables[table] {
				if x[s.cfg.CallKeyField] == key {
					return nil, http.StatusForbidden, "Operation Failed", "Error during insert of interaction (" + number + ")"
				}
			}
			s.writes[key]++
		}
	}
	row["sys_id"] = NewSysID()
	if number != "" {
		row["number"] = number
	}
	now := time.Now().UTC().Format("2006-01-02 15:04:05")
	row["sys_created_on"], row["sys_created_by"] = now, u.Username
	s.tables[table] = append(s.tables[table], row)
	return copyRecord(row), http.StatusCreated, "", ""
}

// importSet plays POST /api/now/import/{staging}: the row is staged and
// transformed synchronously into an interaction, coalescing on the call
// key field (an existing row with the same key is updated, not inserted).
func (s *Server) importSet(w http.ResponseWriter, _ *http.Request, staging string, body []byte, u *emukit.User) int {
	if s.cfg.ImportSet == "" || staging != s.cfg.ImportSet {
		writeError(w, http.StatusBadRequest, "Invalid table "+staging, "")
		return http.StatusBadRequest
	}
	fields, _ := s.fields(TableInteraction)
	row, err := decodeRecord(body, fields)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Exception while reading request", "The payload is not valid JSON.")
		return http.StatusBadRequest
	}
	s.mu.Lock()
	s.imports++
	set := fmt.Sprintf("ISET%07d", 10000+s.imports)
	res := map[string]any{"transform_map": "CTI call import", "table": TableInteraction, "display_name": "number"}
	key := row[s.cfg.CallKeyField]
	var existing Record
	if key != "" && !s.cfg.NoCallKeyField {
		for _, x := range s.tables[TableInteraction] {
			if x[s.cfg.CallKeyField] == key {
				existing = x
			}
		}
	}
	switch {
	case existing != nil:
		for k, v := range row {
			existing[k] = v
		}
		s.writes[key]++
		res["status"], res["sys_id"], res["display_value"] = "updated", existing["sys_id"], existing["number"]
	default:
		created, status, _, detail := s.insertLocked(TableInteraction, row, u)
		if status != http.StatusCreated {
			res["status"], res["status_message"], res["error_message"] = "error", detail, detail
		} else {
			res["status"], res["sys_id"], res["display_value"] = "inserted", created["sys_id"], created["number"]
		}
	}
	s.mu.Unlock()
	if id, ok := res["sys_id"].(string); ok {
		res["record_link"] = s.URL() + "/api/now/table/interaction/" + id
	}
	emukit.WriteJSON(w, http.StatusCreated, map[string]any{"import_set": set, "staging_table": staging, "result": []any{res}})
	return http.StatusCreated
}
