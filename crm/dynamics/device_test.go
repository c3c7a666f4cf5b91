package dynamics_test

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/crm"
	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/dynamicsemu"
	"github.com/callcentre/softphone/secrets"
)

// enterCode plays the agent typing the code on the verification page of
// another device.
func enterCode(t *testing.T, errs chan<- error) func(dynamics.DeviceCode) {
	return func(dc dynamics.DeviceCode) {
		if !strings.Contains(dc.Message, dc.UserCode) || dc.Expires.Before(time.Now()) {
			errs <- errors.New("device code without message or expiry")
			return
		}
		go func() {
			resp, err := http.Get(dc.VerificationURI + "?otc=" + url.QueryEscape(dc.UserCode))
			if err == nil {
				_ = resp.Body.Close()
			}
			errs <- err
		}()
	}
}

func TestSignInDeviceCode(t *testing.T) {
	f := newFixture(t, dynamicsemu.Config{DeviceInterval: time.Second}, nil)
	errs := make(chan error, 1)
	s, err := f.conn.SignInDeviceCode(ctx(t), "alice", enterCode(t, errs))
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if s.Identity().UserID != dynamicsemu.SystemUserID(f.emu.Users()[0].ID) {
		t.Fatalf("identity %+v", s.Identity())
	}
	if v, err := f.keyring.Get("alice", dynamics.Name, secrets.KindRefreshToken); err != nil || v == "" {
		t.Fatalf("no refresh token after a device sign-in: %v", err)
	}
	if len(f.browser.URLs()) != 0 {
		t.Fatal("the device flow opened a browser")
	}
	if _, err := f.conn.Resume(ctx(t), "alice"); err != nil {
		t.Fatal(err)
	}
}

func TestSignInDeviceCodeRefused(t *testing.T) {
	t.Run("declined", func(t *testing.T) {
		f := newFixture(t, dynamicsemu.Config{DeviceInterval: time.Second}, nil)
		f.emu.SetActive(f.emu.Users()[0].ID, false)
		errs := make(chan error, 1)
		_, err := f.conn.SignInDeviceCode(ctx(t), "alice", enterCode(t, errs))
		if !errors.Is(err, crm.ErrSignInCancelled) || f.keyring.Len() != 0 {
			t.Fatalf("declined device sign-in: %v", err)
		}
	})
	t.Run("public client flows off", func(t *testing.T) {
		f := newFixture(t, dynamicsemu.Config{NoPublicClient: true}, nil)
		_, err := f.conn.SignInDeviceCode(ctx(t), "alice", func(dynamics.DeviceCode) { t.Error("a code was shown") })
		if e := kindOf(t, err, crm.KindPermanent); !strings.Contains(e.Message, "AADSTS7000218") {
			t.Fatalf("message %q", e.Message)
		}
	})
	t.Run("abandoned", func(t *testing.T) {
		f := newFixture(t, dynamicsemu.Config{DeviceInterval: time.Second}, nil)
		c, cancel := contextWithTimeout(t, 2500*time.Millisecond)
		defer cancel()
		_, err := f.conn.SignInDeviceCode(c, "alice", func(dynamics.DeviceCode) {})
		if !errors.Is(err, crm.ErrSignInCancelled) {
			t.Fatalf("abandoned device sign-in: %v", err)
		}
	})
}
