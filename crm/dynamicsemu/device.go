package dynamicsemu

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/callcentre/softphone/crm/emukit"
)

// DeviceCodeGrant is the token grant type of the device code flow.
const DeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code"

const deviceTTL = 15 * time.Minute

// device is one pending device code sign-in.
type device struct {
	userCode string
	expires  time.Time
	lastPoll time.Time
	user     string // set when approved
	denied   bool
	used     bool
}

// public serves the device code endpoints: POST
// /{tenant}/oauth2/v2.0/devicecode and the page the user enters the code
// on, GET /devicelogin?otc=CODE (approved by the browser user; refused
// when that user is inactive).
func (s *Server) public(w http.ResponseWriter, r *http.Request, body []byte) (int, bool) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/"+s.cfg.Tenant+"/oauth2/v2.0/devicecode":
		return s.deviceCode(w, r, body), true
	case r.Method == http.MethodGet && r.URL.Path == "/devicelogin":
		return s.deviceLogin(w, r), true
	}
	return 0, false
}

func oauthError(w http.ResponseWriter, status int, code, desc string) int {
	emukit.WriteJSON(w, status, map[string]any{"error": code, "error_description": desc})
	return status
}

func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request, body []byte) int {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("client_id") == "" {
		return oauthError(w, http.StatusBadRequest, "invalid_request", "AADSTS900144: The request body must contain the following parameter: 'client_id'.")
	}
	if form.Get("client_id") != s.cfg.ClientID {
		return oauthError(w, http.StatusBadRequest, "unauthorized_client", "AADSTS700016: Application was not found in the directory.")
	}
	if s.cfg.NoPublicClient {
		return oauthError(w, http.StatusUnauthorized, "invalid_client", "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
	d := &device{userCode: strings.ToUpper(emukit.RandomToken(6))[:8], expires: time.Now().Add(deviceTTL)}
	dc := emukit.RandomToken(32)
	s.mu.Lock()
	s.devices[dc] = d
	s.mu.Unlock()
	verify := "http://" + r.Host + "/devicelogin"
	emukit.WriteJSON(w, http.StatusOK, map[string]any{
		"user_code": d.userCode, "device_code": dc, "verification_uri": verify,
		"expires_in": int(deviceTTL / time.Second), "interval": s.interval(),
		"message": fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", verify, d.userCode),
	})
	return http.StatusOK
}

func (s *Server) interval() int {
	return max(int((s.cfg.DeviceInterval+time.Second-1)/time.Second), 1)
}

func (s *Server) deviceLogin(w http.ResponseWriter, r *http.Request) int {
	code := strings.ToUpper(strings.TrimSpace(r.URL.Query().Get("otc")))
	u, ok := s.BrowserUser()
	s.mu.Lock()
	var d *device
	for _, x := range s.devices {
		if x.userCode == code && !x.used && time.Now().Before(x.expires) {
			d = x
		}
	}
	if d != nil {
		if ok && u.Active {
			d.user = u.ID
		} else {
			d.denied = true
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if d == nil {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte("<html><body>That code didn't work. Check the code and try again.</body></html>"))
		return http.StatusBadRequest
	}
	_, _ = w.Write([]byte("<html><body>You have signed in to the Softphone application on your device. You may now close this window.</body></html>"))
	return http.StatusOK
}

// grant is emukit's Config.Grant: the device code token request, with
// Entra's answers authorization_pending, slow_down (polled faster than
// the interval), authorization_declined, expired_token and
// bad_verification_code.
func (s *Server) grant(form url.Values) (string, string, string) {
	if form.Get("grant_type") != DeviceCodeGrant {
		return "", "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type."
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.devices[form.Get("device_code")]
	now := time.Now()
	switch {
	case d == nil || d.used:
		return "", "bad_verification_code", "AADSTS70019: Verification code expired or invalid."
	case now.After(d.expires):
		return "", "expired_token", "AADSTS70020: The provided value for the input parameter 'device_code' is not valid. Device codes expire after 15 minutes."
	case d.denied:
		d.used = true
		return "", "authorization_declined", "AADSTS70000: The user declined the sign-in."
	case d.user == "":
		early := !d.lastPoll.IsZero() && now.Sub(d.lastPoll) < time.Duration(s.interval())*time.Second-200*time.Millisecond
		d.lastPoll = now
		if early {
			return "", "slow_down", "AADSTS70000: polled faster than the interval."
		}
		return "", "authorization_pending", "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending. Continue polling."
	}
	d.used = true
	return d.user, "", ""
}
