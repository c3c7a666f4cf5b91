package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/callcentre/softphone/crm"
)

// DefaultTimeout bounds a browser round trip.
const DefaultTimeout = 5 * time.Minute

// RandomString returns n random bytes, base64url without padding.
func RandomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("oauth: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// PKCE is a code verifier and its S256 challenge (RFC 7636).
type PKCE struct {
	Verifier  string
	Challenge string
}

// NewPKCE makes a fresh verifier (64 characters) and its challenge.
func NewPKCE() (PKCE, error) {
	v, err := RandomString(48)
	if err != nil {
		return PKCE{}, err
	}
	return PKCE{Verifier: v, Challenge: Challenge(v)}, nil
}

// Challenge is the S256 code challenge of verifier.
func Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Loopback runs one authorization-code sign-in in the system browser.
type Loopback struct {
	// CRM names the connector in errors and on the page the browser shows
	// ("HubSpot").
	CRM string
	// RedirectURL is the registered loopback callback, for example
	// http://localhost:1717/callback. Port 0 (or none) picks a free port:
	// only for identity providers that ignore the port of a loopback
	// redirect (Entra ID); the others match it exactly.
	RedirectURL string
	// Opener opens a URL in the system browser (crm.OpenBrowser).
	Opener crm.Opener
	// Timeout bounds the round trip (DefaultTimeout when zero).
	Timeout time.Duration
}

// Grant is what the browser brought back: the code and what the token
// request must repeat.
type Grant struct {
	Code        string
	RedirectURI string // the exact redirect_uri sent to the authorize endpoint
	Verifier    string // the PKCE verifier for the token request
}

// Authorize opens authorizeURL with params plus response_type=code,
// redirect_uri, state and the PKCE challenge, and waits for the browser
// to come back to the loopback listener (bound on 127.0.0.1 only,
// single-shot, state checked). An error or a refusal from the identity
// provider, a closed tab past the timeout, or a cancelled context is
// crm.ErrSignInCancelled.
func (l Loopback) Authorize(ctx context.Context, authorizeURL string, params url.Values) (Grant, error) {
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.Opener == nil {
		l.Opener = crm.OpenBrowser
	}
	ctx, cancel := context.WithTimeout(ctx, l.Timeout)
	defer cancel()
	ru, err := url.Parse(l.RedirectURL)
	if err != nil || ru.Scheme != "http" || (ru.Hostname() != "localhost" && ru.Hostname() != "127.0.0.1") {
		return Grant{}, fmt.Errorf("%s sign-in: redirect url %q is not an http loopback address", l.CRM, l.RedirectURL)
	}
	pk, err := NewPKCE()
	if err != nil {
		return Grant{}, err
	}
	state, err := RandomString(24)
	if err != nil {
		return Grant{}, err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort("127.0.0.1", ru.Port()))
	if err != nil {
		return Grant{}, fmt.Errorf("%s sign-in: listen for the browser redirect: %w", l.CRM, err)
	}
	if ru.Port() == "" || ru.Port() == "0" {
		ru.Host = net.JoinHostPort(ru.Hostname(), fmt.Sprint(ln.Addr().(*net.TCPAddr).Port))
	}
	if ru.Path == "" {
		ru.Path = "/"
	}
	redirect := ru.String()
	type result struct {
		code string
		err  error
	}
	results := make(chan result, 1)
	var once sync.Once
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ru.Path {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if q.Get("state") != state {
			http.Error(w, "This sign-in link is not the one the softphone opened.", http.StatusBadRequest)
			return
		}
		res := result{code: q.Get("code")}
		page := "You are signed in to " + l.CRM + ". You can close this tab and return to the softphone."
		if e := q.Get("error"); e != "" || res.code == "" {
			res.err = fmt.Errorf("%w: %s: %s %s", crm.ErrSignInCancelled, l.CRM, e, q.Get("error_description"))
			page = l.CRM + " sign-in failed: " + q.Get("error_description")
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprintf(w, "<!doctype html><title>Softphone</title><p>%s</p>", html.EscapeString(page))
		once.Do(func() { results <- res })
	})}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		// Let the browser receive the "you can close this tab" page, then
		// stop listening.
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			_ = srv.Close()
		}
	}()

	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("response_type", "code")
	q.Set("redirect_uri", redirect)
	q.Set("state", state)
	q.Set("code_challenge", pk.Challenge)
	q.Set("code_challenge_method", "S256")
	sep := "?"
	if strings.Contains(authorizeURL, "?") {
		sep = "&"
	}
	if err := l.Opener(authorizeURL + sep + q.Encode()); err != nil {
		return Grant{}, fmt.Errorf("%s sign-in: %w", l.CRM, err)
	}
	select {
	case res := <-results:
		if res.err != nil {
			return Grant{}, res.err
		}
		return Grant{Code: res.code, RedirectURI: redirect, Verifier: pk.Verifier}, nil
	case <-ctx.Done():
		return Grant{}, fmt.Errorf("%w: %s: %w", crm.ErrSignInCancelled, l.CRM, ctx.Err())
	}
}
