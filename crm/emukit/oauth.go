package emukit

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

const codeTTL = 2 * time.Minute

// RandomToken returns n random bytes, base64url.
func RandomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) callbackOK(redirect string) bool {
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme != "http" {
		return false
	}
	loop := u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1"
	if len(s.cfg.CallbackURLs) == 0 {
		return loop && u.Port() != ""
	}
	if slices.Contains(s.cfg.CallbackURLs, redirect) {
		return true
	}
	if s.cfg.IgnorePort && loop {
		for _, c := range s.cfg.CallbackURLs {
			if cu, err := url.Parse(c); err == nil && cu.Hostname() == u.Hostname() && rootPath(cu.Path) == rootPath(u.Path) {
				return true
			}
		}
	}
	return false
}

// rootPath treats an empty path as "/": http://localhost and
// http://localhost:PORT/ name the same loopback callback.
func rootPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// authorize plays the login page: the browser user signs in at once and
// the browser is redirected to the callback with a code.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) int {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != s.cfg.ClientID || !s.callbackOK(redirect) {
		// Identity providers show an error page rather than redirect to an
		// unregistered callback.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("<html><body>invalid client_id or redirect_uri</body></html>"))
		return http.StatusBadRequest
	}
	back := func(params url.Values) int {
		if st := q.Get("state"); st != "" {
			params.Set("state", st)
		}
		http.Redirect(w, r, redirect+"?"+params.Encode(), http.StatusFound)
		return http.StatusFound
	}
	if q.Get("response_type") != "code" {
		return back(url.Values{"error": {"unsupported_response_type"}, "error_description": {"response type not supported"}})
	}
	challenge := q.Get("code_challenge")
	if challenge == "" && !s.cfg.NoPKCE {
		return back(url.Values{"error": {"invalid_request"}, "error_description": {"code_challenge required"}})
	}
	if m := q.Get("code_challenge_method"); challenge != "" && m != "S256" {
		return back(url.Values{"error": {"invalid_request"}, "error_description": {"only S256 is supported"}})
	}
	s.mu.Lock()
	s.lastAuth = map[string]string{}
	for k := range q {
		s.lastAuth[k] = q.Get(k)
	}
	u := s.users[s.browserUser]
	if u == nil || !u.Active {
		s.mu.Unlock()
		return back(url.Values{"error": {"access_denied"}, "error_description": {"the user denied access"}})
	}
	code := RandomToken(24)
	s.codes[code] = &authCode{redirect: redirect, challenge: challenge, user: u.ID, expires: time.Now().Add(codeTTL)}
	s.mu.Unlock()
	return back(url.Values{"code": {code}})
}

func (s *Server) oauthError(w http.ResponseWriter, status int, code, desc string) int {
	WriteJSON(w, status, map[string]string{"error": code, "error_description": desc})
	return status
}

// tokenParams reads a token request, form or JSON.
func tokenParams(r *http.Request, body []byte) (url.Values, bool) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var m map[string]any
		if json.Unmarshal(body, &m) != nil {
			return nil, false
		}
		v := url.Values{}
		for k, x := range m {
			if s, ok := x.(string); ok {
				v.Set(k, s)
			}
		}
		return v, true
	}
	v, err := url.ParseQuery(string(body))
	return v, err == nil
}

func (s *Server) token(w http.ResponseWriter, r *http.Request, body []byte) (int, string) {
	form, ok := tokenParams(r, body)
	if !ok {
		return s.oauthError(w, http.StatusBadRequest, "invalid_request", "malformed token request"), ""
	}
	if form.Get("client_id") != s.cfg.ClientID {
		return s.oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client"), ""
	}
	if s.cfg.ClientSecret != "" && form.Get("client_secret") != s.cfg.ClientSecret {
		return s.oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed"), ""
	}
	if gt := form.Get("grant_type"); gt != "authorization_code" && gt != "refresh_token" && s.cfg.Grant != nil {
		user, code, desc := s.cfg.Grant(form)
		if code != "" {
			return s.oauthError(w, http.StatusBadRequest, code, desc), ""
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if u := s.users[user]; u == nil || !u.Active {
			return s.oauthError(w, http.StatusBadRequest, "invalid_grant", "inactive user"), ""
		}
		rt := RandomToken(32)
		s.refresh[rt] = &refreshToken{user: user}
		return s.issueLocked(w, user, rt), user
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch form.Get("grant_type") {
	case "authorization_code":
		c := s.codes[form.Get("code")]
		if c == nil || c.used || time.Now().After(c.expires) || c.redirect != form.Get("redirect_uri") {
			return s.oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid authorization code"), ""
		}
		c.used = true
		if c.challenge != "" {
			sum := sha256.Sum256([]byte(form.Get("code_verifier")))
			if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
				return s.oauthError(w, http.StatusBadRequest, "invalid_grant", "code_verifier does not match"), ""
			}
		}
		rt := RandomToken(32)
		s.refresh[rt] = &refreshToken{user: c.user}
		return s.issueLocked(w, c.user, rt), c.user
	case "refresh_token":
		old := form.Get("refresh_token")
		rt := s.refresh[old]
		if rt == nil || rt.revoked {
			return s.oauthError(w, http.StatusBadRequest, "invalid_grant", "the refresh token is invalid or revoked"), ""
		}
		if u := s.users[rt.user]; u == nil || !u.Active {
			return s.oauthError(w, http.StatusBadRequest, "invalid_grant", "inactive user"), ""
		}
		if s.cfg.RotateRefresh {
			rt.revoked = true
			nrt := RandomToken(32)
			s.refresh[nrt] = &refreshToken{user: rt.user}
			return s.issueLocked(w, rt.user, nrt), rt.user
		}
		return s.issueLocked(w, rt.user, old), rt.user
	}
	return s.oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported"), ""
}

func (s *Server) issueLocked(w http.ResponseWriter, user, rt string) int {
	at := RandomToken(40)
	t := &accessToken{user: user, refresh: rt}
	ttl := 30 * time.Minute
	if s.cfg.AccessTTL > 0 {
		ttl = s.cfg.AccessTTL
		t.expires = time.Now().Add(ttl)
	}
	s.access[at] = t
	resp := map[string]any{"access_token": at, "refresh_token": rt, "token_type": "Bearer",
		"expires_in": int(ttl / time.Second), "scope": "emulated"}
	if s.cfg.TokenExtra != nil {
		u := *s.users[user]
		for k, v := range s.cfg.TokenExtra(&u) {
			resp[k] = v
		}
	}
	WriteJSON(w, http.StatusOK, resp)
	return http.StatusOK
}

// IssueTokens gives user a refresh token and an access token without the
// browser (a provisioned token, a test's shortcut).
func (s *Server) IssueTokens(userID string) (access, refresh string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	refresh = RandomToken(32)
	s.refresh[refresh] = &refreshToken{user: userID}
	access = RandomToken(40)
	s.access[access] = &accessToken{user: userID, refresh: refresh}
	return access, refresh
}

// IssueStaticToken gives user a non-expiring access token with no refresh
// token (a HubSpot private-app token, a Zendesk API token).
func (s *Server) IssueStaticToken(userID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	at := RandomToken(40)
	s.access[at] = &accessToken{user: userID}
	return at
}

// ExpireAccessTokens makes every access token invalid (a 401 next).
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(false)
}

// RevokeRefreshTokens kills every refresh token and access token (an
// admin revoking the app): the agents must sign in again.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocked(true)
}

func (s *Server) expireLocked(revoke bool) {
	for k, t := range s.access {
		if t.refresh == "" && !revoke {
			continue // a static token does not expire
		}
		delete(s.access, k)
	}
	if revoke {
		for _, rt := range s.refresh {
			rt.revoked = true
		}
	}
}

// Revoke invalidates token, an access or a refresh token (a refresh
// token takes its access tokens with it). It reports whether the token
// was live.
func (s *Server) Revoke(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt := s.refresh[token]; rt != nil && !rt.revoked {
		rt.revoked = true
		for k, at := range s.access {
			if at.refresh == token {
				delete(s.access, k)
			}
		}
		return true
	}
	if _, ok := s.access[token]; ok {
		delete(s.access, token)
		return true
	}
	return false
}

// RevokeGrant invalidates the grant an access token belongs to: the
// access token, its refresh token and the refresh token's other access
// tokens (Zendesk's DELETE /api/v2/oauth/tokens/current.json revokes the
// whole OAuth token, not just the bearer). It reports whether the access
// token was live.
func (s *Server) RevokeGrant(access string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.access[access]
	if !ok {
		return false
	}
	delete(s.access, access)
	if at.refresh == "" {
		return true
	}
	if rt := s.refresh[at.refresh]; rt != nil {
		rt.revoked = true
	}
	for k, t := range s.access {
		if t.refresh == at.refresh {
			delete(s.access, k)
		}
	}
	return true
}

// LiveRefreshTokens counts refresh tokens not revoked.
func (s *Server) LiveRefreshTokens() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, rt := range s.refresh {
		if !rt.revoked {
			n++
		}
	}
	return n
}

func (s *Server) revokeForm(w http.ResponseWriter, r *http.Request, body []byte) int {
	form, _ := url.ParseQuery(string(body))
	tok := form.Get("token")
	if tok == "" {
		tok = r.URL.Query().Get("token")
	}
	if !s.Revoke(tok) {
		return s.oauthError(w, http.StatusBadRequest, "invalid_token", "unknown token")
	}
	w.WriteHeader(http.StatusOK)
	return http.StatusOK
}

// TokenUser returns the user of a live access token, or of a live refresh
// token (token introspection endpoints such as HubSpot's); false when the
// token is unknown, expired, revoked or its user inactive.
func (s *Server) TokenUser(token string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := ""
	if at := s.access[token]; at != nil && (at.expires.IsZero() || time.Now().Before(at.expires)) {
		id = at.user
	} else if rt := s.refresh[token]; rt != nil && !rt.revoked {
		id = rt.user
	}
	u := s.users[id]
	if u == nil || !u.Active {
		return User{}, false
	}
	return *u, true
}
