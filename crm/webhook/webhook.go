// Package webhook is the generic webhook CRM connector: each call log is
// POSTed as JSON to a configured URL with an Idempotency-Key header (the
// outbox key, the same on every retry) and an HMAC-SHA256 signature of the
// timestamp and body; caller lookup is a GET on a configured URL template.
// The receiver must treat a repeated Idempotency-Key as the same log (answer
// 2xx or 409 again), which makes every replay safe.
//
// Signature header: X-Softphone-Signature: t=<unix seconds>,v1=<hex of
// HMAC-SHA256(secret, "<t>.<body>")>. Verify it with Verify. With a
// BearerToken every request also carries "Authorization: Bearer <token>".
// Both secrets are loaded from the OS keyring by the caller (app does it);
// they have no JSON form, so a configuration file can never carry them.
//
// It imports crm and agent/domain; never agent, store, ui, sip or audio.
//
// # Concurrency contract
//
// A Connector and its Sessions are safe for concurrent use; every method
// that does I/O takes a context and blocks.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/crm"
)

// Header names.
const (
	HeaderIdempotency = "Idempotency-Key"
	HeaderSignature   = "X-Softphone-Signature"
	HeaderAgent       = "X-Softphone-Agent"
)

// DefaultName is the connector's outbox target name when Config.Name is
// empty.
const DefaultName = "webhook"

// ErrConfig means the configuration is incomplete.
var ErrConfig = errors.New("webhook configuration incomplete")

// ErrBadSignature means a signature does not verify.
var ErrBadSignature = errors.New("webhook signature does not verify")

// Config configures the webhook connector.
type Config struct {
	Name   string // outbox target name (default DefaultName)
	LogURL string // POST target for call logs (required)
	// Secret is the HMAC key, loaded from the OS keyring by the caller
	// (required, at least 16 bytes).
	Secret []byte `json:"-"`
	// BearerToken, when set, is sent as "Authorization: Bearer <token>"
	// on every request; loaded from the OS keyring by the caller.
	BearerToken string `json:"-"`
	// LookupURL is a GET template; {e164}, {digits} and {national} are
	// replaced (query-escaped). It answers a JSON array (or {"records":
	// [...]}) of {"id","type","name","url","phones"}; "phones" (optional)
	// lists the record's numbers, best first, preferably in E.164; they
	// are kept as sent (trimmed, without blanks or repeats). Empty: no
	// lookup.
	LookupURL string
	// SearchURL is a GET template with {q} answering like LookupURL;
	// empty: no search.
	SearchURL string
	// RecordURL and NewRecordURL are screen-pop templates with {id},
	// {type} and {e164}.
	RecordURL    string
	NewRecordURL string
	HTTPClient   *http.Client     `json:"-"`
	Logger       *slog.Logger     `json:"-"`
	Now          func() time.Time `json:"-"`
}

// Connector is the webhook crm.Connector.
type Connector struct{ cfg Config }

var _ crm.Connector = (*Connector)(nil)

// New checks cfg and returns the connector.
func New(cfg Config) (*Connector, error) {
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if strings.ContainsAny(cfg.BearerToken, "\r\n") {
		return nil, fmt.Errorf("%w: the bearer token has a line break", ErrConfig)
	}
	if _, err := url.ParseRequestURI(cfg.LogURL); err != nil {
		return nil, fmt.Errorf("%w: log url: %v", ErrConfig, err)
	}
	if len(cfg.Secret) < 16 {
		return nil, fmt.Errorf("%w: the signing secret must have at least 16 bytes", ErrConfig)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Logger = cfg.Logger.With("component", "crm", "crm", cfg.Name)
	return &Connector{cfg: cfg}, nil
}

// Name implements crm.Connector.
func (c *Connector) Name() string { return c.cfg.Name }

// Capabilities implements crm.Connector: one log per request, idempotent
// through the Idempotency-Key.
func (c *Connector) Capabilities() crm.Capabilities {
	return crm.Capabilities{MaxBatch: 1, Idempotent: true}
}

// SignIn implements crm.Connector; a webhook has no per-agent sign-in, so
// it is the same as Resume.
func (c *Connector) SignIn(ctx context.Context, agentID string, _ crm.SignInOptions) (crm.Session, error) {
	return c.Resume(ctx, agentID)
}

// Resume implements crm.Connector.
func (c *Connector) Resume(_ context.Context, agentID string) (crm.Session, error) {
	if agentID == "" {
		return nil, fmt.Errorf("webhook: %w: empty agent", crm.ErrSignInRequired)
	}
	return &session{c: c, agent: agentID}, nil
}

// MaxSubject is the most characters (UTF-16 code units) of a payload's
// subject; a longer call subject is cut at a character boundary.
const MaxSubject = 255

// Payload is the JSON body of a call-log POST (a stable contract).
type Payload struct {
	IdempotencyKey string    `json:"idempotency_key"`
	AgentID        string    `json:"agent_id"`
	CallKey        string    `json:"call_key"`
	Direction      string    `json:"direction"`
	RemoteNumber   string    `json:"remote_number,omitempty"`
	RemoteName     string    `json:"remote_name,omitempty"`
	DialedNumber   string    `json:"dialed_number,omitempty"`
	Queue          string    `json:"queue,omitempty"`
	Subject        string    `json:"subject,omitempty"` // the agent's call subject, trimmed, at most MaxSubject characters; absent without one
	StartedAt      time.Time `json:"started_at"`
	AnsweredAt     time.Time `json:"answered_at,omitzero"`
	EndedAt        time.Time `json:"ended_at"`
	TalkSeconds    int       `json:"talk_seconds"`
	HoldSeconds    int       `json:"hold_seconds"`
	Missed         bool      `json:"missed"`
	Outcome        string    `json:"outcome,omitempty"`
	Notes          string    `json:"notes,omitempty"`
	RecordID       string    `json:"record_id,omitempty"`
	Recordings     []string  `json:"recordings,omitempty"`
}

// NewPayload maps a call log.
func NewPayload(key string, l domain.CallLog) Payload {
	return Payload{IdempotencyKey: key, AgentID: l.AgentID, CallKey: l.Key, Direction: l.Direction.String(),
		RemoteNumber: l.Remote.Number, RemoteName: l.Remote.Name, DialedNumber: l.DialedNumber, Queue: l.Queue,
		Subject:   crm.CallSubject(l.Subject, MaxSubject),
		StartedAt: l.StartedAt, AnsweredAt: l.AnsweredAt, EndedAt: l.EndedAt, TalkSeconds: int(l.Talk / time.Second),
		HoldSeconds: int(l.Hold / time.Second), Missed: l.Missed, Outcome: l.Outcome, Notes: l.Notes,
		RecordID: l.RecordID, Recordings: l.Recordings}
}

// Sign returns the signature header value of body at time t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against body, accepting timestamps
// within tolerance of now (receivers and tests use it).
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp outside tolerance", ErrBadSignature)
	}
	want := Sign(secret, time.Unix(sec, 0), body)
	if !hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig)) {
		return ErrBadSignature
	}
	return nil
}

type session struct {
	c     *Connector
	agent string
}

func (s *session) AgentID() string               { return s.agent }
func (s *session) Identity() crm.Identity        { return crm.Identity{UserID: s.agent, Display: s.agent} }
func (s *session) SignOut(context.Context) error { return nil }

func (s *session) crmErr(kind crm.Kind, status int, msg string, err error) *crm.Error {
	return &crm.Error{CRM: s.c.cfg.Name, Kind: kind, Status: status, Message: msg, Err: err}
}

// send performs a request; write marks POSTs (transport failures after
// the connection opened are ambiguous).
func (s *session) send(req *http.Request, write bool) ([]byte, error) {
	if s.c.cfg.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.c.cfg.BearerToken)
	}
	resp, err := s.c.cfg.HTTPClient.Do(req)
	if err != nil {
		// Keep the URL out of the message: a lookup's query holds the number.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s: %w", ue.Op, ue.Err)
		}
		var op *net.OpError
		var dns *net.DNSError
		switch {
		case errors.As(err, &op) && op.Op == "dial", errors.As(err, &dns):
			return nil, s.crmErr(crm.KindOffline, 0, "the webhook cannot be reached", err)
		case write:
			return nil, s.crmErr(crm.KindAmbiguous, 0, "no answer after the log was sent", err)
		}
		return nil, s.crmErr(crm.KindTransient, 0, "network error", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		k := crm.KindTransient
		if write {
			k = crm.KindAmbiguous
		}
		return nil, s.crmErr(k, resp.StatusCode, "answer cut off", err)
	}
	st := resp.StatusCode
	switch {
	case st >= 200 && st < 300:
		return body, nil
	case st == http.StatusConflict:
		return nil, s.crmErr(crm.KindAlreadyExists, st, "already logged", nil)
	case st == http.StatusTooManyRequests:
		e := s.crmErr(crm.KindRateLimited, st, "rate limited", nil)
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			e.RetryAfter = time.Duration(n) * time.Second
		}
		return nil, e
	case st == http.StatusRequestTimeout || st >= 500:
		return nil, s.crmErr(crm.KindTransient, st, http.StatusText(st), nil)
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 300 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		msg = http.StatusText(st)
	}
	return nil, s.crmErr(crm.KindPermanent, st, msg, nil)
}

// LogCalls implements crm.Session: one signed POST per log.
func (s *session) LogCalls(ctx context.Context, items []crm.LogItem) ([]crm.LogResult, error) {
	if len(items) != 1 {
		return nil, fmt.Errorf("webhook: %d logs in one batch, exactly 1 expected", len(items))
	}
	it := items[0]
	if it.AgentID != s.agent {
		return []crm.LogResult{{Err: fmt.Errorf("webhook: %w", crm.ErrWrongAgent)}}, nil
	}
	body, err := json.Marshal(NewPayload(it.Key, it.Log))
	if err != nil {
		return []crm.LogResult{{Err: s.crmErr(crm.KindPermanent, 0, "unencodable log", err)}}, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.c.cfg.LogURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderIdempotency, it.Key)
	req.Header.Set(HeaderAgent, s.agent)
	req.Header.Set(HeaderSignature, Sign(s.c.cfg.Secret, s.c.cfg.Now(), body))
	_, err = s.send(req, true)
	switch crm.KindOf(err) {
	case crm.KindUnknown:
		return []crm.LogResult{{ID: it.Key, Created: !it.MayExist}}, nil
	case crm.KindAlreadyExists:
		return []crm.LogResult{{ID: it.Key}}, nil
	case crm.KindPermanent:
		return []crm.LogResult{{Err: err}}, nil
	default:
		return nil, err
	}
}

func expand(tmpl string, vars map[string]string) string {
	for k, v := range vars {
		tmpl = strings.ReplaceAll(tmpl, "{"+k+"}", url.QueryEscape(v))
	}
	return tmpl
}

type record struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Name string `json:"name"`
	URL  string `json:"url"`
	// Phones are the record's numbers, best first (optional).
	Phones []string `json:"phones"`
}

// phonesOf is a record's phones as the receiver sent them: trimmed,
// without blanks or repeats; nil when none is left.
func phonesOf(in []string) []string {
	var out []string
	for _, p := range in {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func (s *session) getRecords(ctx context.Context, u string) ([]domain.CRMRecord, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set(HeaderAgent, s.agent)
	req.Header.Set(HeaderSignature, Sign(s.c.cfg.Secret, s.c.cfg.Now(), nil))
	body, err := s.send(req, false)
	if err != nil {
		return nil, err
	}
	var recs []record
	if err := json.Unmarshal(body, &recs); err != nil {
		var wrapped struct {
			Records []record `json:"records"`
		}
		if err2 := json.Unmarshal(body, &wrapped); err2 != nil {
			return nil, s.crmErr(crm.KindTransient, 200, "unreadable lookup answer", err)
		}
		recs = wrapped.Records
	}
	out := make([]domain.CRMRecord, 0, len(recs))
	for _, r := range recs {
		if r.ID == "" {
			continue
		}
		rec := domain.CRMRecord{ID: r.ID, Type: r.Type, Name: r.Name, URL: r.URL, Phones: phonesOf(r.Phones)}
		if rec.URL == "" {
			rec.URL, _ = s.RecordURL(rec)
		}
		out = append(out, rec)
	}
	return out, nil
}

// LookupPhone implements crm.Session.
func (s *session) LookupPhone(ctx context.Context, p crm.Phone) ([]domain.CRMRecord, error) {
	if s.c.cfg.LookupURL == "" {
		return nil, crm.ErrUnsupported
	}
	return s.getRecords(ctx, expand(s.c.cfg.LookupURL, map[string]string{"e164": p.E164, "digits": p.Digits(), "national": p.National}))
}

// Search implements crm.Session.
func (s *session) Search(ctx context.Context, text string, _ int) ([]domain.CRMRecord, error) {
	if s.c.cfg.SearchURL == "" {
		return nil, crm.ErrUnsupported
	}
	return s.getRecords(ctx, expand(s.c.cfg.SearchURL, map[string]string{"q": text}))
}

// RecordURL implements crm.Session.
func (s *session) RecordURL(rec domain.CRMRecord) (string, error) {
	if rec.URL != "" {
		return rec.URL, nil
	}
	if s.c.cfg.RecordURL == "" {
		return "", crm.ErrUnsupported
	}
	return expand(s.c.cfg.RecordURL, map[string]string{"id": rec.ID, "type": rec.Type}), nil
}

// NewRecordURL implements crm.Session.
func (s *session) NewRecordURL(p crm.Phone) (string, error) {
	if s.c.cfg.NewRecordURL == "" {
		return "", crm.ErrUnsupported
	}
	return expand(s.c.cfg.NewRecordURL, map[string]string{"e164": p.E164}), nil
}

// Health implements crm.Session: any HTTP answer from the log URL means
// the receiver is reachable.
func (s *session) Health(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, s.c.cfg.LogURL, nil)
	if err != nil {
		return err
	}
	_, err = s.send(req, false)
	if k := crm.KindOf(err); k == crm.KindOffline || k == crm.KindTransient {
		return err
	}
	return nil
}
