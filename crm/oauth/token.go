package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/callcentre/softphone/crm"
)

// Token is a token endpoint's answer.
type Token struct {
	Access  string
	Refresh string // empty when the endpoint did not send one (no rotation)
	// Expiry is when the access token expires (zero: unknown; a 401 tells).
	Expiry time.Time
	Scope  string
	// Raw is the whole answer, for provider fields (instance_url,
	// id_token, hub_id ...).
	Raw map[string]any
}

// Str returns a string field of the raw answer.
func (t Token) Str(k string) string {
	s, _ := t.Raw[k].(string)
	return s
}

// Endpoint is an OAuth token endpoint.
type Endpoint struct {
	CRM string // connector name for errors
	URL string
	// JSON sends the request as a JSON object instead of a form (Zendesk).
	JSON bool
	// Client sends the request (http.DefaultClient when nil).
	Client *http.Client
}

// Exchange posts params to the token endpoint. The errors follow RFC 6749:
// invalid_grant (a dead code or refresh token) is KindAuthRevoked wrapping
// crm.ErrSignInRequired; 429 is rate limited; 5xx and network failures are
// transient (a token request is safe to repeat); other refusals are
// permanent, with the provider's error code and description.
func (e Endpoint) Exchange(ctx context.Context, params url.Values) (Token, error) {
	var body string
	ctype := "application/x-www-form-urlencoded"
	if e.JSON {
		m := map[string]string{}
		for k := range params {
			m[k] = params.Get(k)
		}
		b, err := json.Marshal(m)
		if err != nil {
			return Token{}, err
		}
		body, ctype = string(b), "application/json"
	} else {
		body = params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, strings.NewReader(body))
	if err != nil {
		return Token{}, fmt.Errorf("%s: token request: %w", e.CRM, err)
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Accept", "application/json")
	c := e.Client
	if c == nil {
		c = http.DefaultClient
	}
	raw, status, hdr, err := crm.Send(c, e.CRM, req, false)
	if err != nil {
		return Token{}, err
	}
	if status != http.StatusOK {
		var oe struct {
			Error       any    `json:"error"` // a string (RFC 6749) or an object (some CRMs)
			Description string `json:"error_description"`
			Message     string `json:"message"`
		}
		_ = json.Unmarshal(raw, &oe)
		code, _ := oe.Error.(string)
		msg := oe.Description
		if msg == "" {
			msg = oe.Message
		}
		ce := crm.StatusError(e.CRM, status, hdr, false, code, msg)
		switch {
		case code == "invalid_grant":
			ce.Kind, ce.Err = crm.KindAuthRevoked, crm.ErrSignInRequired
		case ce.Kind == crm.KindAuthExpired:
			// A 401 from the token endpoint is a refused client, not an
			// expired access token.
			ce.Kind = crm.KindPermanent
		}
		return Token{}, ce
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return Token{}, &crm.Error{CRM: e.CRM, Kind: crm.KindTransient, Status: status, Code: "bad_token_response", Message: "unreadable token response", Err: err}
	}
	t := Token{Raw: m}
	t.Access = t.Str("access_token")
	t.Refresh = t.Str("refresh_token")
	t.Scope = t.Str("scope")
	if t.Access == "" {
		return Token{}, &crm.Error{CRM: e.CRM, Kind: crm.KindTransient, Status: status, Code: "bad_token_response", Message: "token response without an access token"}
	}
	switch v := m["expires_in"].(type) {
	case float64:
		t.Expiry = time.Now().Add(time.Duration(v) * time.Second)
	case string: // Entra ID v1 and some others send a string
		var n int
		if _, err := fmt.Sscan(v, &n); err == nil {
			t.Expiry = time.Now().Add(time.Duration(n) * time.Second)
		}
	}
	return t, nil
}

// IsRevoked reports whether err means the refresh token is dead.
func IsRevoked(err error) bool {
	return errors.Is(err, crm.ErrSignInRequired) || crm.KindOf(err) == crm.KindAuthRevoked
}
