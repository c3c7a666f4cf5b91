package dynamics

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

// DeviceCode is what the agent must see during a device code sign-in:
// open VerificationURI on any device and enter UserCode.
type DeviceCode struct {
	UserCode        string
	VerificationURI string
	// Message is Entra's instruction text, in the user's language.
	Message string
	Expires time.Time
}

// deviceGrant is the RFC 8628 grant type.
const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// SignInDeviceCode signs agentID in with Entra ID's device code flow
// (crm-apis.md §4.1), for desks without a usable browser (thin VDI
// clients): show is called once with the code to display, then the token
// endpoint is polled at the interval Entra asks for until the agent has
// entered the code, declined, the code expired (crm.ErrSignInCancelled)
// or ctx ends. The app registration must allow public client flows;
// Conditional Access may block this flow. It blocks: call it off the UI
// goroutine.
func (c *Connector) SignInDeviceCode(ctx context.Context, agentID string, show func(DeviceCode)) (crm.Session, error) {
	form := url.Values{"client_id": {c.cfg.ClientID}, "scope": {c.cfg.Scope}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("devicecode"), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("dynamics device sign-in: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	body, status, hdr, err := crm.Send(c.cfg.HTTPClient, Name, req, false)
	if err != nil {
		return nil, err
	}
	var dc struct {
		UserCode        string `json:"user_code"`
		DeviceCode      string `json:"device_code"`
		VerificationURI string `json:"verification_uri"`
		ExpiresIn       int    `json:"expires_in"`
		Interval        int    `json:"interval"`
		Message         string `json:"message"`
		Error           string `json:"error"`
		Description     string `json:"error_description"`
	}
	jerr := json.Unmarshal(body, &dc)
	if status != http.StatusOK {
		e := crm.StatusError(Name, status, hdr, false, dc.Error, dc.Description)
		if e.Kind == crm.KindAuthExpired {
			e.Kind = crm.KindPermanent // a refused client, not an expired token
		}
		return nil, e
	}
	if jerr != nil || dc.DeviceCode == "" || dc.UserCode == "" || dc.VerificationURI == "" {
		return nil, badResponse("device code answer", jerr, false)
	}
	interval := time.Duration(max(dc.Interval, 1)) * time.Second
	expires := time.Now().Add(time.Duration(max(dc.ExpiresIn, 60)) * time.Second)
	show(DeviceCode{UserCode: dc.UserCode, VerificationURI: dc.VerificationURI, Message: dc.Message, Expires: expires})
	ctx, cancel := context.WithDeadline(ctx, expires)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: dynamics device sign-in: %w", crm.ErrSignInCancelled, ctx.Err())
		case <-time.After(interval):
		}
		tok, err := c.tok.Exchange(ctx, url.Values{"grant_type": {deviceGrant}, "client_id": {c.cfg.ClientID}, "device_code": {dc.DeviceCode}})
		var e *crm.Error
		switch {
		case err == nil:
			return c.finishSignIn(ctx, agentID, tok)
		case !errors.As(err, &e):
			return nil, err
		case e.Code == "authorization_pending":
			continue
		case e.Code == "slow_down":
			interval += 5 * time.Second
			continue
		case e.Code == "authorization_declined", e.Code == "access_denied", e.Code == "expired_token", e.Code == "bad_verification_code":
			return nil, fmt.Errorf("%w: dynamics device sign-in: %s", crm.ErrSignInCancelled, e.Code)
		case e.Kind == crm.KindTransient || e.Kind == crm.KindOffline:
			continue // the network hiccupped; the code is still valid
		default:
			return nil, err
		}
	}
}
