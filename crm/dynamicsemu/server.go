package dynamicsemu

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/callcentre/softphone/crm/emukit"
)

// Defaults.
const (
	// DefaultClientID is the emulated app registration's application
	// (client) id.
	DefaultClientID = "6f1c2a0e-5d3b-4c8e-9a71-0d2e4b6f8a10"
	// DefaultTenant is the tenant segment of the emulated authority.
	DefaultTenant = "organizations"
	// DefaultWindow is the service protection window (300 s in Dataverse).
	DefaultWindow = 300 * time.Second
	// APIPrefix is where the Web API lives; v9.0 to v9.2 are served.
	APIPrefix = "/api/data/"
	// OrganizationID is the emulated organization.
	OrganizationID = "3d0b5c2e-6f4a-4e1b-8c9d-7a2f1e0b4c6d"
	// BusinessUnitID is the root business unit every user belongs to.
	BusinessUnitID = "a1e2c3d4-b5f6-4a7b-8c9d-0e1f2a3b4c5d"
)

// Dataverse error codes the emulator answers with (crm-apis.md §4.4).
const (
	CodeDuplicateKey     = "0x80040237" // a record with matching key values already exists
	CodeDoesNotExist     = "0x80040217" // entity With Id = ... Does Not Exist
	CodeInvalidArgument  = "0x80040203" // invalid argument, required field, bad state
	CodeValidation       = "0x80044331" // a validation error (length ...)
	CodeBadPayload       = "0x80048d19" // the payload is not valid JSON for the entity
	CodeReadOnly         = "0x80043b09" // a completed or canceled activity is read-only [U]
	CodeRequestsExceeded = "0x80072322" // service protection: number of requests
	CodeExecutionTime    = "0x80072321" // service protection: combined execution time
	CodeConcurrent       = "0x80072326" // service protection: concurrent requests
	CodePrivilege        = "0x80040220" // the user lacks a privilege
	codeBadProperty      = "0x80060888"
	codeQuerySyntax      = "0x80060888"
	codeNoSegment        = "0x8006088a"
)

// Config configures the emulator.
type Config struct {
	// ClientID is the registered public client (DefaultClientID).
	ClientID string
	// Tenant is the authority's tenant segment (DefaultTenant): the
	// endpoints are /{tenant}/oauth2/v2.0/authorize and .../token.
	Tenant string
	// AccessTTL is the access token lifetime (0: 60 minutes reported,
	// never enforced).
	AccessTTL time.Duration
	// RequestLimit is the service protection limit per user: more API
	// requests than this within Window answer 429 with Retry-After and
	// code 0x80072322. 0 means no limit.
	RequestLimit int
	// Window is the sliding window of RequestLimit (DefaultWindow).
	Window time.Duration
	// CustomColumns are extra phonecall columns the org has (a call key
	// or outcome column); any other unknown column is refused.
	CustomColumns []string
	// DeviceInterval is the polling interval the device code endpoint
	// asks for (whole seconds, at least 1; Entra says 5).
	DeviceInterval time.Duration
	// NoPublicClient answers the device code request as Entra does when
	// "Allow public client flows" is off (AADSTS7000218).
	NoPublicClient bool
}

// Contact is a contact row.
type Contact struct {
	ID          string // contactid; a new GUID when empty
	FullName    string
	Telephone1  string
	Telephone2  string
	MobilePhone string
	Email       string
	AccountID   string // parentcustomerid (an account)
}

// Account is an account row.
type Account struct {
	ID         string // accountid; a new GUID when empty
	Name       string
	Telephone1 string
	Telephone2 string
	Telephone3 string
}

// Lead is a lead row.
type Lead struct {
	ID          string // leadid; a new GUID when empty
	FullName    string
	CompanyName string
	Telephone1  string
	MobilePhone string
}

// Party is one activity party of a phone call.
type Party struct {
	Type    string // contact, account, lead, systemuser; "" when unresolved
	ID      string
	Address string // addressused (an unresolved number)
	Mask    int    // participationtypemask: 1 from, 2 to
}

// PhoneCall is a phonecall activity as stored.
type PhoneCall struct {
	ActivityID      string
	Subject         string
	Description     string
	PhoneNumber     string
	DirectionCode   bool // true: outgoing
	DurationMinutes int
	ActualStart     string
	ActualEnd       string
	StateCode       int // 0 open, 1 completed, 2 canceled
	StatusCode      int // 1 open, 2 made, 3 canceled, 4 received
	RegardingType   string
	RegardingID     string
	OwnerID         string // the creating user's systemuserid
	Parties         []Party
	Custom          map[string]any
	Version         int // bumped on each write (the etag)
	Created         time.Time
}

// Server is a running Dataverse emulator.
type Server struct {
	*emukit.Server
	cfg Config

	mu         sync.Mutex
	tables     map[string]*table // contacts, accounts, leads
	phonecalls map[string]*PhoneCall
	usage      map[string][]time.Time // user -> request times in the window
	devices    map[string]*device     // device code -> pending sign-in
}

type table struct {
	entity  string // logical name: contact
	key     string // contactid
	columns map[string]bool
	rows    []map[string]any
}

func (t *table) find(id string) map[string]any {
	for _, r := range t.rows {
		if strings.EqualFold(r[t.key].(string), id) {
			return r
		}
	}
	return nil
}

func cols(names ...string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

// New returns a stopped emulator; Start serves it.
func New(cfg Config) *Server {
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.Tenant == "" {
		cfg.Tenant = DefaultTenant
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.DeviceInterval <= 0 {
		cfg.DeviceInterval = 5 * time.Second
	}
	s := &Server{cfg: cfg}
	s.reset()
	s.Server = emukit.New(emukit.Config{
		Name:          "dynamics",
		ClientID:      cfg.ClientID,
		CallbackURLs:  []string{"http://localhost"},
		IgnorePort:    true,
		AuthorizePath: "/" + cfg.Tenant + "/oauth2/v2.0/authorize",
		TokenPath:     "/" + cfg.Tenant + "/oauth2/v2.0/token",
		RotateRefresh: true,
		AccessTTL:     cfg.AccessTTL,
		TokenExtra: func(*emukit.User) map[string]any {
			return map[string]any{"ext_expires_in": 3600}
		},
		Errors: writeError,
		API:    s.api,
		Public: s.public,
		Grant:  s.grant,
	})
	return s
}

func (s *Server) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables = map[string]*table{
		"contacts": {entity: "contact", key: "contactid", columns: cols("contactid", "fullname", "telephone1", "telephone2",
			"mobilephone", "emailaddress1", "_parentcustomerid_value", "statecode")},
		"accounts": {entity: "account", key: "accountid", columns: cols("accountid", "name", "telephone1", "telephone2",
			"telephone3", "statecode")},
		"leads": {entity: "lead", key: "leadid", columns: cols("leadid", "fullname", "companyname", "telephone1",
			"mobilephone", "statecode")},
	}
	s.phonecalls = map[string]*PhoneCall{}
	s.usage = map[string][]time.Time{}
	s.devices = map[string]*device{}
}

// Reset forgets records, users, tokens, faults and the journal.
func (s *Server) Reset() {
	s.reset()
	s.Server.Reset()
}

// AuthorityURL is the authority to configure in the connector (the
// server's URL; the tenant is Config.Tenant).
func (s *Server) AuthorityURL() string { return s.URL() }

// Tenant is the tenant segment of the endpoints.
func (s *Server) Tenant() string { return s.cfg.Tenant }

// ClientID is the registered public client id.
func (s *Server) ClientID() string { return s.cfg.ClientID }

// SystemUserID is the systemuserid of an emukit user (its id is "u0001").
func SystemUserID(userID string) string {
	return nameGUID("systemuser:" + userID)
}

// nameGUID is a stable GUID for a name (UUIDv5-shaped).
func nameGUID(name string) string {
	sum := sha1.Sum([]byte(name))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	return fmtGUID(sum[:16])
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmtGUID(b[:])
}

func fmtGUID(b []byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

var guidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ---- seeding and accessors ----

func (s *Server) add(set string, row map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[set]
	id, _ := row[t.key].(string)
	if id == "" {
		id = newGUID()
	}
	id = strings.ToLower(id)
	row[t.key] = id
	row["statecode"] = 0
	t.rows = append(t.rows, row)
	return id
}

// AddContact seeds a contact and returns its id.
func (s *Server) AddContact(c Contact) string {
	return s.add("contacts", map[string]any{"contactid": c.ID, "fullname": c.FullName, "telephone1": c.Telephone1,
		"telephone2": c.Telephone2, "mobilephone": c.MobilePhone, "emailaddress1": c.Email,
		"_parentcustomerid_value": nullable(c.AccountID)})
}

// AddAccount seeds an account and returns its id.
func (s *Server) AddAccount(a Account) string {
	return s.add("accounts", map[string]any{"accountid": a.ID, "name": a.Name, "telephone1": a.Telephone1,
		"telephone2": a.Telephone2, "telephone3": a.Telephone3})
}

// AddLead seeds a lead and returns its id.
func (s *Server) AddLead(l Lead) string {
	return s.add("leads", map[string]any{"leadid": l.ID, "fullname": l.FullName, "companyname": l.CompanyName,
		"telephone1": l.Telephone1, "mobilephone": l.MobilePhone})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return strings.ToLower(s)
}

// Delete removes a contact, account or lead (entity set "contacts" ...);
// phone calls regarding it keep their reference, as a deleted record's
// activities do.
func (s *Server) Delete(set, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[set]
	if t == nil {
		return false
	}
	for i, r := range t.rows {
		if strings.EqualFold(r[t.key].(string), id) {
			t.rows = slices.Delete(t.rows, i, i+1)
			return true
		}
	}
	return false
}

// PhoneCall returns the phone call with activityid id.
func (s *Server) PhoneCall(id string) (PhoneCall, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pc, ok := s.phonecalls[strings.ToLower(id)]
	if !ok {
		return PhoneCall{}, false
	}
	return clonePC(pc), true
}

// PhoneCalls lists every phone call, oldest first.
func (s *Server) PhoneCalls() []PhoneCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PhoneCall, 0, len(s.phonecalls))
	for _, pc := range s.phonecalls {
		out = append(out, clonePC(pc))
	}
	slices.SortFunc(out, func(a, b PhoneCall) int { return a.Created.Compare(b.Created) })
	return out
}

// PhoneCallCount is the number of phone calls.
func (s *Server) PhoneCallCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.phonecalls)
}

func clonePC(pc *PhoneCall) PhoneCall {
	c := *pc
	c.Parties = slices.Clone(pc.Parties)
	c.Custom = map[string]any{}
	for k, v := range pc.Custom {
		c.Custom[k] = v
	}
	return c
}

// ---- HTTP ----

// writeError writes Dataverse's error envelope. A 401 carries the
// WWW-Authenticate challenge and no body, as Dataverse does.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer authorization_uri=https://login.microsoftonline.com/common/oauth2/authorize`)
		w.WriteHeader(status)
		return
	}
	w.Header().Set("OData-Version", "4.0")
	emukit.WriteJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func fail(w http.ResponseWriter, status int, code, format string, a ...any) int {
	writeError(w, status, code, fmt.Sprintf(format, a...))
	return status
}

var segRE = regexp.MustCompile(`^([A-Za-z_.]+)(?:\(([^)]*)\))?$`)

// api serves /api/data/v9.x/... for an authenticated user.
func (s *Server) api(w http.ResponseWriter, r *http.Request, body []byte, u *emukit.User) int {
	rest, ok := strings.CutPrefix(r.URL.Path, APIPrefix)
	if !ok {
		return fail(w, http.StatusNotFound, codeNoSegment, "Resource not found for the segment '%s'.", strings.TrimPrefix(r.URL.Path, "/"))
	}
	ver, rest, _ := strings.Cut(rest, "/")
	if ver != "v9.0" && ver != "v9.1" && ver != "v9.2" {
		return fail(w, http.StatusNotFound, codeNoSegment, "Resource not found for the segment '%s'.", ver)
	}
	if st := s.throttle(w, u.ID); st != 0 {
		return st
	}
	base := "http://" + r.Host + APIPrefix + ver + "/"
	m := segRE.FindStringSubmatch(rest)
	if m == nil {
		return fail(w, http.StatusNotFound, codeNoSegment, "Resource not found for the segment '%s'.", rest)
	}
	set, key := m[1], m[2]
	me := SystemUserID(u.ID)
	switch {
	case set == "WhoAmI" && r.Method == http.MethodGet:
		emukit.WriteJSON(w, http.StatusOK, map[string]any{
			"@odata.context": base + "$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
			"BusinessUnitId": BusinessUnitID, "UserId": me, "OrganizationId": OrganizationID})
		return http.StatusOK
	case set == "systemusers" && key != "" && r.Method == http.MethodGet:
		id := strings.ToLower(key)
		for _, x := range s.Users() {
			if SystemUserID(x.ID) == id {
				row := map[string]any{"systemuserid": id, "fullname": x.Name, "domainname": x.Username,
					"internalemailaddress": x.Email, "isdisabled": !x.Active}
				return writeRow(w, r, base, "systemusers", "systemuser", row, 1)
			}
		}
		return fail(w, http.StatusNotFound, CodeDoesNotExist, "systemuser With Id = %s Does Not Exist", key)
	case set == "phonecalls" && key != "":
		if !guidRE.MatchString(key) {
			return fail(w, http.StatusBadRequest, codeQuerySyntax, "Bad Request - Error in query syntax.")
		}
		switch r.Method {
		case http.MethodGet:
			return s.getPhoneCall(w, r, base, strings.ToLower(key))
		case http.MethodPatch:
			return s.patchPhoneCall(w, r, base, strings.ToLower(key), body, me)
		}
		return fail(w, http.StatusMethodNotAllowed, codeQuerySyntax, "The requested method is not supported on phonecalls(%s).", key)
	case key == "" && r.Method == http.MethodGet:
		s.mu.Lock()
		t := s.tables[set]
		s.mu.Unlock()
		if t != nil {
			return s.query(w, r, base, set, t)
		}
	}
	return fail(w, http.StatusNotFound, codeNoSegment, "Resource not found for the segment '%s'.", set)
}

// throttle applies the service protection limit; it returns the status
// written, or 0 to go on.
func (s *Server) throttle(w http.ResponseWriter, user string) int {
	if s.cfg.RequestLimit <= 0 {
		return 0
	}
	now := time.Now()
	s.mu.Lock()
	times := s.usage[user]
	cut := 0
	for cut < len(times) && now.Sub(times[cut]) >= s.cfg.Window {
		cut++
	}
	times = times[cut:]
	if len(times) >= s.cfg.RequestLimit {
		wait := s.cfg.Window - now.Sub(times[0])
		s.usage[user] = times
		s.mu.Unlock()
		secs := max(int((wait+time.Second-1)/time.Second), 1)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		w.Header().Set("x-ms-ratelimit-burst-remaining-xrm-requests", "0")
		return fail(w, http.StatusTooManyRequests, CodeRequestsExceeded,
			"Number of requests exceeded the limit of %d over time window of %d seconds.", s.cfg.RequestLimit, int(s.cfg.Window/time.Second))
	}
	s.usage[user] = append(times, now)
	remaining := s.cfg.RequestLimit - len(s.usage[user])
	s.mu.Unlock()
	w.Header().Set("x-ms-ratelimit-burst-remaining-xrm-requests", strconv.Itoa(remaining))
	return 0
}

// selectColumns applies $select to row; unknown columns are an error.
func selectColumns(row map[string]any, sel string, known func(string) bool, entity string) (map[string]any, error) {
	if sel == "" {
		return row, nil
	}
	out := map[string]any{}
	for _, c := range strings.Split(sel, ",") {
		c = strings.TrimSpace(strings.ToLower(c))
		if !known(c) {
			return nil, &filterError{code: codeBadProperty, msg: fmt.Sprintf("Could not find a property named '%s' on type 'Microsoft.Dynamics.CRM.%s'.", c, entity)}
		}
		out[c] = row[c]
	}
	return out, nil
}

func writeRow(w http.ResponseWriter, r *http.Request, base, set, entity string, row map[string]any, version int) int {
	out, err := selectColumns(row, r.URL.Query().Get("$select"), func(c string) bool { _, ok := row[c]; return ok }, entity)
	if err != nil {
		fe := err.(*filterError)
		return fail(w, http.StatusBadRequest, fe.code, "%s", fe.msg)
	}
	out["@odata.context"] = base + "$metadata#" + set + "/$entity"
	out["@odata.etag"] = fmt.Sprintf(`W/"%d"`, version)
	w.Header().Set("OData-Version", "4.0")
	emukit.WriteJSON(w, http.StatusOK, out)
	return http.StatusOK
}

func (s *Server) query(w http.ResponseWriter, r *http.Request, base, set string, t *table) int {
	q := r.URL.Query()
	top := 5000
	if v := q.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fail(w, http.StatusBadRequest, codeQuerySyntax, "Invalid value for $top query option.")
		}
		top = n
	}
	var where node
	if f := q.Get("$filter"); f != "" {
		var err error
		if where, err = parseFilter(f, t.entity, t.columns); err != nil {
			fe := err.(*filterError)
			return fail(w, http.StatusBadRequest, fe.code, "%s", fe.msg)
		}
	}
	s.mu.Lock()
	var rows []map[string]any
	for _, row := range t.rows {
		if where == nil || where.eval(row) {
			rows = append(rows, row)
		}
	}
	s.mu.Unlock()
	rows = rows[:min(len(rows), top)]
	value := make([]map[string]any, 0, len(rows))
	for _, row := range rows {
		out, err := selectColumns(row, q.Get("$select"), func(c string) bool { return t.columns[c] }, t.entity)
		if err != nil {
			fe := err.(*filterError)
			return fail(w, http.StatusBadRequest, fe.code, "%s", fe.msg)
		}
		out["@odata.etag"] = `W/"1"`
		value = append(value, out)
	}
	w.Header().Set("OData-Version", "4.0")
	emukit.WriteJSON(w, http.StatusOK, map[string]any{"@odata.context": base + "$metadata#" + set, "value": value})
	return http.StatusOK
}

// phonecallRow is the Web API shape of a phone call.
func phonecallRow(pc *PhoneCall) map[string]any {
	row := map[string]any{
		"activityid": pc.ActivityID, "subject": pc.Subject, "description": pc.Description,
		"phonenumber": pc.PhoneNumber, "directioncode": pc.DirectionCode,
		"actualdurationminutes": pc.DurationMinutes, "actualstart": nullable(pc.ActualStart),
		"actualend": nullable(pc.ActualEnd), "statecode": pc.StateCode, "statuscode": pc.StatusCode,
		"_regardingobjectid_value": nullable(pc.RegardingID), "_ownerid_value": pc.OwnerID,
	}
	if pc.ActualStart != "" {
		row["actualstart"] = pc.ActualStart
	}
	if pc.ActualEnd != "" {
		row["actualend"] = pc.ActualEnd
	}
	for k, v := range pc.Custom {
		row[k] = v
	}
	return row
}

func (s *Server) getPhoneCall(w http.ResponseWriter, r *http.Request, base, id string) int {
	s.mu.Lock()
	pc, ok := s.phonecalls[id]
	var row map[string]any
	var ver int
	if ok {
		row, ver = phonecallRow(pc), pc.Version
	}
	s.mu.Unlock()
	if !ok {
		return fail(w, http.StatusNotFound, CodeDoesNotExist, "phonecall With Id = %s Does Not Exist", id)
	}
	return writeRow(w, r, base, "phonecalls", "phonecall", row, ver)
}

var bindRE = regexp.MustCompile(`^/?(contacts|accounts|leads|systemusers)\(([0-9a-fA-F-]{36})\)$`)

// patchPhoneCall is the upsert: If-None-Match: * creates only, If-Match:
// * updates only, neither does either.
func (s *Server) patchPhoneCall(w http.ResponseWriter, r *http.Request, base, id string, body []byte, me string) int {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil || in == nil {
		return fail(w, http.StatusBadRequest, CodeBadPayload, "Error identified in Payload provided by the user for Entity :'phonecalls', For more information on this error please follow this help link https://go.microsoft.com/fwlink/?linkid=2195293")
	}
	noneMatch := r.Header.Get("If-None-Match") == "*"
	match := r.Header.Get("If-Match")
	s.mu.Lock()
	defer s.mu.Unlock()
	pc, exists := s.phonecalls[id]
	switch {
	case noneMatch && exists:
		return fail(w, http.StatusPreconditionFailed, CodeDuplicateKey, "A record with matching key values already exists.")
	case match != "" && !exists:
		return fail(w, http.StatusNotFound, CodeDoesNotExist, "phonecall With Id = %s Does Not Exist", id)
	case match != "" && match != "*" && match != fmt.Sprintf(`W/"%d"`, pc.Version):
		return fail(w, http.StatusPreconditionFailed, "0x80060882", "The version of the existing record doesn't match the RowVersion property provided.")
	}
	next := &PhoneCall{ActivityID: id, StateCode: 0, StatusCode: 1, DirectionCode: true, OwnerID: me, Custom: map[string]any{}, Created: time.Now()}
	if exists {
		c := clonePC(pc)
		next = &c
	}
	if st, msg, code := s.apply(next, in, exists); st != 0 {
		return fail(w, st, code, "%s", msg)
	}
	if exists && pc.StateCode != 0 && next.StateCode != 0 {
		// Completed and canceled phone calls are read-only; only a reopen
		// (statecode 0) is accepted.
		return fail(w, http.StatusBadRequest, CodeReadOnly, "The phonecall is closed or canceled and cannot be edited.")
	}
	if !exists && next.Subject == "" {
		return fail(w, http.StatusBadRequest, CodeInvalidArgument, "Attribute 'subject' cannot be NULL: it is required.")
	}
	next.Version++
	s.phonecalls[id] = next
	w.Header().Set("OData-EntityId", base+"phonecalls("+id+")")
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(http.StatusNoContent)
	return http.StatusNoContent
}

// apply sets the columns of in on pc; it returns a status, message and
// code when the payload is refused. Called with s.mu held.
func (s *Server) apply(pc *PhoneCall, in map[string]json.RawMessage, exists bool) (int, string, string) {
	bad := func(format string, a ...any) (int, string, string) {
		return http.StatusBadRequest, fmt.Sprintf(format, a...), CodeInvalidArgument
	}
	str := func(k string, raw json.RawMessage, maxLen int) (string, int, string, string) {
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			st, m, c := bad("Cannot convert the literal '%s' to the expected type 'Edm.String' of '%s'.", raw, k)
			return "", st, m, c
		}
		if v == nil {
			return "", 0, "", ""
		}
		if len([]rune(*v)) > maxLen {
			return "", http.StatusBadRequest, fmt.Sprintf("A validation error occurred. The length of the '%s' attribute of the 'phonecall' entity exceeded the maximum allowed length of '%d'.", k, maxLen), CodeValidation
		}
		return *v, 0, "", ""
	}
	state, status := -1, -1
	for k, raw := range in {
		switch {
		case k == "subject" || k == "description" || k == "phonenumber":
			limit := map[string]int{"subject": 200, "description": 2000, "phonenumber": 200}[k]
			v, st, m, c := str(k, raw, limit)
			if st != 0 {
				return st, m, c
			}
			switch k {
			case "subject":
				pc.Subject = v
			case "description":
				pc.Description = v
			default:
				pc.PhoneNumber = v
			}
		case k == "actualstart" || k == "actualend":
			v, st, m, c := str(k, raw, 40)
			if st != 0 {
				return st, m, c
			}
			if v != "" {
				if _, err := time.Parse(time.RFC3339, v); err != nil {
					return bad("Cannot convert the literal '%s' to the expected type 'Edm.DateTimeOffset'.", v)
				}
			}
			if k == "actualstart" {
				pc.ActualStart = v
			} else {
				pc.ActualEnd = v
			}
		case k == "directioncode":
			if err := json.Unmarshal(raw, &pc.DirectionCode); err != nil {
				return bad("Cannot convert the literal '%s' to the expected type 'Edm.Boolean'.", raw)
			}
		case k == "actualdurationminutes":
			var n int
			if err := json.Unmarshal(raw, &n); err != nil || n < 0 || n > 2147483647 {
				return bad("Cannot convert the literal '%s' to the expected type 'Edm.Int32'.", raw)
			}
			pc.DurationMinutes = n
		case k == "statecode" || k == "statuscode":
			var n int
			if err := json.Unmarshal(raw, &n); err != nil {
				return bad("Cannot convert the literal '%s' to the expected type 'Edm.Int32'.", raw)
			}
			if k == "statecode" {
				state = n
			} else {
				status = n
			}
		case strings.HasPrefix(k, "regardingobjectid_") && strings.HasSuffix(k, "_phonecall@odata.bind"):
			typ := strings.TrimSuffix(strings.TrimPrefix(k, "regardingobjectid_"), "_phonecall@odata.bind")
			var ref string
			if err := json.Unmarshal(raw, &ref); err != nil {
				return bad("Invalid @odata.bind value for '%s'.", k)
			}
			t, id, st, m, c := s.resolve(ref)
			if st != 0 {
				return st, m, c
			}
			if t != typ {
				return bad("The navigation property '%s' does not match the bound entity '%s'.", k, t)
			}
			pc.RegardingType, pc.RegardingID = t, id
		case k == "phonecall_activity_parties":
			var parties []map[string]json.RawMessage
			if err := json.Unmarshal(raw, &parties); err != nil {
				return bad("phonecall_activity_parties must be an array of activityparty objects.")
			}
			pc.Parties = nil
			for _, p := range parties {
				var party Party
				for pk, pv := range p {
					switch {
					case pk == "participationtypemask":
						if err := json.Unmarshal(pv, &party.Mask); err != nil || party.Mask < 1 || party.Mask > 11 {
							return bad("Invalid participationtypemask %s.", pv)
						}
					case pk == "addressused":
						if err := json.Unmarshal(pv, &party.Address); err != nil {
							return bad("Invalid addressused.")
						}
					case strings.HasPrefix(pk, "partyid_") && strings.HasSuffix(pk, "@odata.bind"):
						var ref string
						if err := json.Unmarshal(pv, &ref); err != nil {
							return bad("Invalid @odata.bind value for '%s'.", pk)
						}
						t, id, st, m, c := s.resolve(ref)
						if st != 0 {
							return st, m, c
						}
						party.Type, party.ID = t, id
					default:
						return http.StatusBadRequest, fmt.Sprintf("The property '%s' does not exist on type 'Microsoft.Dynamics.CRM.activityparty'.", pk), codeBadProperty
					}
				}
				if party.Mask == 0 || (party.ID == "" && party.Address == "") {
					return bad("An activity party needs participationtypemask and a party or addressused.")
				}
				pc.Parties = append(pc.Parties, party)
			}
		case slices.Contains(s.cfg.CustomColumns, k):
			var v any
			_ = json.Unmarshal(raw, &v)
			pc.Custom[k] = v
		default:
			return http.StatusBadRequest, fmt.Sprintf("The property '%s' does not exist on type 'Microsoft.Dynamics.CRM.phonecall'. Make sure to only use property names that are defined by the type.", k), codeBadProperty
		}
	}
	if state >= 0 || status >= 0 {
		if !exists {
			return bad("statecode and statuscode are not valid for create: create the phone call open, then close it.")
		}
		valid := map[int][]int{0: {1}, 1: {2, 4}, 2: {3}}
		if state < 0 {
			state = pc.StateCode
		}
		if status < 0 {
			status = valid[state][0]
		}
		if ok := slices.Contains(valid[state], status); !ok {
			return bad("%d is not a valid status code for state code %d on phonecall.", status, state)
		}
		if pc.StateCode != 0 && state != 0 {
			return http.StatusBadRequest, "The phonecall is closed or canceled and cannot be edited.", CodeReadOnly
		}
		pc.StateCode, pc.StatusCode = state, status
	}
	return 0, "", ""
}

// resolve checks an @odata.bind reference; called with s.mu held.
func (s *Server) resolve(ref string) (typ, id string, status int, msg, code string) {
	m := bindRE.FindStringSubmatch(ref)
	if m == nil {
		return "", "", http.StatusBadRequest, fmt.Sprintf("Invalid @odata.bind reference '%s'.", ref), CodeInvalidArgument
	}
	set, id := m[1], strings.ToLower(m[2])
	typ = strings.TrimSuffix(set, "s")
	if set == "systemusers" {
		for _, u := range s.Users() {
			if SystemUserID(u.ID) == id {
				return typ, id, 0, "", ""
			}
		}
	} else if s.tables[set].find(id) != nil {
		return typ, id, 0, "", ""
	}
	return "", "", http.StatusNotFound, fmt.Sprintf("%s With Id = %s Does Not Exist", typ, id), CodeDoesNotExist
}
