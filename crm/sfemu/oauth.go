package sfemu

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callcentre/softphone/crm/emukit"
)

const codeTTL = 10 * time.Minute

func (s *Server) oauth(w http.ResponseWriter, r *http.Request, body []byte) (int, string) {
	switch p := r.URL.Path; {
	case p == "/services/oauth2/authorize" && r.Method == http.MethodGet:
		return s.authorize(w, r), ""
	case p == "/services/oauth2/token" && r.Method == http.MethodPost:
		return s.token(w, body)
	case p == "/services/oauth2/revoke" && r.Method == http.MethodPost:
		return s.revoke(w, body), ""
	case p == "/services/oauth2/userinfo" || strings.HasPrefix(p, "/id/"):
		user := s.userOf(r)
		if user == "" {
			writeErrors(w, http.StatusForbidden, "Bad_OAuth_Token", "Bad_OAuth_Token")
			return http.StatusForbidden, ""
		}
		s.mu.Lock()
		u := *s.users[user]
		org := s.org
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{
			"user_id": u.ID, "organization_id": org, "preferred_username": u.Username,
			"email": u.Email, "name": u.Name, "active": u.Active,
		})
		return http.StatusOK, user
	}
	writeErrors(w, http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
	return http.StatusNotFound, ""
}

func (s *Server) callbackOK(redirect string) bool {
	if len(s.cfg.CallbackURLs) > 0 {
		return slices.Contains(s.cfg.CallbackURLs, redirect)
	}
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme != "http" || u.Port() == "" {
		return false
	}
	return u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1"
}

// authorize plays the login page: the browser user signs in at once and
// the browser is redirected to the callback with a code.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) int {
	q := r.URL.Query()
	redirect := q.Get("redirect_uri")
	if q.Get("client_id") != s.cfg.ClientID || !s.callbackOK(redirect) {
		// Salesforce shows an error page instead of redirecting to an
		// unregistered callback.
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("<html><body>error=redirect_uri_mismatch&amp;error_description=redirect_uri must match configuration</body></html>"))
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
		return back(url.Values{"error": {"invalid_request"}, "error_description": {"missing required code challenge"}})
	}
	method := q.Get("code_challenge_method")
	if method == "" {
		method = "S256"
	}
	s.mu.Lock()
	s.lastPrompt = q.Get("prompt")
	user := s.browserUser
	u := s.users[user]
	if u == nil || !u.Active {
		s.mu.Unlock()
		return back(url.Values{"error": {"access_denied"}, "error_description": {"end-user denied authorization"}})
	}
	code := "aPrx" + emukit.RandomToken(24)
	s.codes[code] = &authCode{clientID: s.cfg.ClientID, redirect: redirect, challenge: challenge,
		method: method, user: user, expires: time.Now().Add(codeTTL)}
	s.mu.Unlock()
	return back(url.Values{"code": {code}})
}

func oauthError(w http.ResponseWriter, status int, code, desc string) int {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	return status
}

func (s *Server) token(w http.ResponseWriter, body []byte) (int, string) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form body"), ""
	}
	if form.Get("client_id") != s.cfg.ClientID {
		return oauthError(w, http.StatusBadRequest, "invalid_client_id", "client identifier invalid"), ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch form.Get("grant_type") {
	case "authorization_code":
		c := s.codes[form.Get("code")]
		if c == nil || c.used || time.Now().After(c.expires) || c.redirect != form.Get("redirect_uri") {
			return oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid authorization code"), ""
		}
		c.used = true
		verifier := form.Get("code_verifier")
		if c.challenge != "" {
			if verifier == "" {
				return oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid code verifier"), ""
			}
			sum := sha256.Sum256([]byte(verifier))
			if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
				return oauthError(w, http.StatusBadRequest, "invalid_request", "invalid code verifier"), ""
			}
		}
		rt := "5Aep" + emukit.RandomToken(32)
		s.refresh[rt] = &refreshToken{user: c.user}
		return s.issueLocked(w, c.user, rt, true), c.user
	case "refresh_token":
		old := form.Get("refresh_token")
		rt := s.refresh[old]
		if rt == nil || rt.revoked {
			return oauthError(w, http.StatusBadRequest, "invalid_grant", "expired access/refresh token"), ""
		}
		if u := s.users[rt.user]; u == nil || !u.Active {
			return oauthError(w, http.StatusBadRequest, "invalid_grant", "inactive user"), ""
		}
		if s.cfg.RotateRefresh {
			rt.revoked = true
			nrt := "5Aep" + emukit.RandomToken(32)
			s.refresh[nrt] = &refreshToken{user: rt.user}
			return s.issueLocked(w, rt.user, nrt, true), rt.user
		}
		return s.issueLocked(w, rt.user, old, false), rt.user
	}
	return oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant type not supported"), ""
}

func (s *Server) issueLocked(w http.ResponseWriter, user, rt string, withRefresh bool) int {
	at := s.org[:15] + "!AQ" + emukit.RandomToken(40)
	t := &accessToken{user: user, refresh: rt}
	if s.cfg.AccessTTL > 0 {
		t.expires = time.Now().Add(s.cfg.AccessTTL)
	}
	s.access[at] = t
	base := "http://" + s.addr
	resp := map[string]string{
		"access_token": at, "signature": emukit.RandomToken(32), "scope": "api refresh_token",
		"instance_url": base, "id": base + "/id/" + s.org + "/" + user,
		"token_type": "Bearer", "issued_at": strconv.FormatInt(time.Now().UnixMilli(), 10),
	}
	if withRefresh {
		resp["refresh_token"] = rt
	}
	writeJSON(w, http.StatusOK, resp)
	return http.StatusOK
}

func (s *Server) revoke(w http.ResponseWriter, body []byte) int {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return oauthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
	}
	tok := form.Get("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt := s.refresh[tok]; rt != nil && !rt.revoked {
		rt.revoked = true
		for k, at := range s.access {
			if at.refresh == tok {
				delete(s.access, k)
			}
		}
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	}
	if _, ok := s.access[tok]; ok {
		delete(s.access, tok)
		w.WriteHeader(http.StatusOK)
		return http.StatusOK
	}
	return oauthError(w, http.StatusBadRequest, "invalid_token", "invalid token")
}
