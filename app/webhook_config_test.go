package app

import (
	"context"
	"errors"
	"testing"

	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/hubspot"
	"github.com/callcentre/softphone/crm/salesforce"
	"github.com/callcentre/softphone/crm/servicenow"
	"github.com/callcentre/softphone/crm/webhook"
	"github.com/callcentre/softphone/crm/zendesk"
	"github.com/callcentre/softphone/secrets"
)

// TestWebhookConfigErrors checks that a bad webhook configuration stops
// Build with a clear error before anything starts.
func TestWebhookConfigErrors(t *testing.T) {
	hook := webhook.Config{LogURL: "http://127.0.0.1:1/calls"}
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		want error
	}{
		{"no keyring", func(c *Config) { c.Webhook = &hook }, ErrNoKeyring},
		{"secret in the config", func(c *Config) {
			h := hook
			h.Secret = []byte("0123456789abcdef0123")
			c.Webhook, c.Secrets = &h, secrets.New()
		}, ErrSecretInConfig},
		{"bearer token in the config", func(c *Config) {
			h := hook
			h.BearerToken = "token"
			c.Webhook, c.Secrets = &h, secrets.New()
		}, ErrSecretInConfig},
		{"two crms", func(c *Config) { c.Webhook, c.Salesforce = &hook, &salesforce.Config{} }, ErrTwoCRMs},
		{"two other crms", func(c *Config) { c.HubSpot, c.Zendesk = &hubspot.Config{}, &zendesk.Config{} }, ErrTwoCRMs},
		{"dynamics without keyring", func(c *Config) { c.Dynamics = &dynamics.Config{OrgURL: "https://x.crm.dynamics.com", ClientID: "c"} }, ErrNoKeyring},
		{"servicenow without client id", func(c *Config) {
			c.ServiceNow, c.Secrets = &servicenow.Config{InstanceURL: "https://x.service-now.com"}, secrets.New()
		}, servicenow.ErrConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{DataDir: t.TempDir(), Demo: true, InstanceSocket: "off", ControlAddr: "off", Logger: quietLog()}
			tc.cfg(&cfg)
			a, err := Build(context.Background(), cfg)
			if !errors.Is(err, tc.want) {
				if a != nil {
					_ = a.Close()
				}
				t.Fatalf("build: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestWebhookSecrets stores and reads the webhook's secrets under the
// machine's keyring entries.
func TestWebhookSecrets(t *testing.T) {
	kr := crmtest.NewKeyring()
	if _, _, err := webhookSecrets(kr, "hook"); !errors.Is(err, ErrNoWebhookSecret) {
		t.Fatalf("empty keyring: %v", err)
	}
	if err := SetWebhookSecrets(kr, "hook", "short", ""); !errors.Is(err, ErrWeakWebhookSecret) {
		t.Fatalf("weak secret: %v", err)
	}
	if err := SetWebhookSecrets(kr, "hook", "0123456789abcdef", "tok"); err != nil {
		t.Fatal(err)
	}
	if s, b, err := webhookSecrets(kr, "hook"); err != nil || s != "0123456789abcdef" || b != "tok" {
		t.Fatalf("read back %q %q %v", s, b, err)
	}
	if _, err := kr.Get(MachineAgent, WebhookAccount("hook"), secrets.KindClientSecret); err != nil {
		t.Fatalf("secret not under the machine's account: %v", err)
	}
	if err := SetWebhookSecrets(kr, "hook", "0123456789abcdef", ""); err != nil {
		t.Fatal(err)
	}
	if _, b, err := webhookSecrets(kr, "hook"); err != nil || b != "" {
		t.Fatalf("bearer token not removed: %q %v", b, err)
	}
	if _, _, err := webhookSecrets(kr, ""); !errors.Is(err, ErrNoWebhookSecret) || WebhookAccount("") != WebhookAccount(webhook.DefaultName) {
		t.Fatalf("default name: %v", err)
	}
}
