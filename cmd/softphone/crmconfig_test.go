package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/callcentre/softphone/app"
	"github.com/callcentre/softphone/crm/crmtest"
	"github.com/callcentre/softphone/crm/dynamics"
	"github.com/callcentre/softphone/crm/hubspot"
	"github.com/callcentre/softphone/crm/servicenow"
	"github.com/callcentre/softphone/secrets"
)

// TestCRMSectionBuildsEachConnector maps every crm type of the file to
// the app's configuration, and the app builds the connector from it.
func TestCRMSectionBuildsEachConnector(t *testing.T) {
	for _, tc := range []struct {
		js    string
		check func(t *testing.T, bc app.Config)
	}{
		{`{"type": "salesforce", "instance_url": "https://acme.my.salesforce.com", "client_id": "3MVG", "call_key_field": "Key__c"}`,
			func(t *testing.T, bc app.Config) {
				if c := bc.Salesforce; c == nil || c.LoginURL != "https://acme.my.salesforce.com" || c.ExternalIDField != "Key__c" || !c.SharedPC {
					t.Fatalf("%+v", c)
				}
			}},
		{`{"type": "hubspot"}`, func(t *testing.T, bc app.Config) {
			if c := bc.HubSpot; c == nil || c.Auth != hubspot.AuthPortalToken {
				t.Fatalf("%+v", c)
			}
		}},
		{`{"type": "hubspot", "client_id": "app-1", "call_key_field": "softphone_key"}`, func(t *testing.T, bc app.Config) {
			if c := bc.HubSpot; c == nil || c.Auth != hubspot.AuthOAuth || c.CallKeyProperty != "softphone_key" {
				t.Fatalf("%+v", c)
			}
		}},
		{`{"type": "dynamics", "instance_url": "https://acme.crm4.dynamics.com", "client_id": "guid", "tenant": "acme.onmicrosoft.com", "call_key_field": "new_callkey"}`,
			func(t *testing.T, bc app.Config) {
				if c := bc.Dynamics; c == nil || c.Tenant != "acme.onmicrosoft.com" || c.Columns[dynamics.ColumnCallKey] != "new_callkey" || !c.SharedPC {
					t.Fatalf("%+v", c)
				}
			}},
		{`{"type": "servicenow", "instance_url": "https://acme.service-now.com", "client_id": "sn"}`, func(t *testing.T, bc app.Config) {
			if c := bc.ServiceNow; c == nil || c.InstanceURL != "https://acme.service-now.com" {
				t.Fatalf("%+v", c)
			}
		}},
		{`{"type": "zendesk", "instance_url": "https://acme.zendesk.com", "client_id": "zd", "call_key_field": "360001"}`,
			func(t *testing.T, bc app.Config) {
				if c := bc.Zendesk; c == nil || c.BaseURL != "https://acme.zendesk.com" || c.CallKeyFieldID != 360001 {
					t.Fatalf("%+v", c)
				}
			}},
		{`{"type": "local"}`, func(t *testing.T, bc app.Config) {
			if bc.Salesforce != nil || bc.HubSpot != nil || bc.Dynamics != nil || bc.ServiceNow != nil || bc.Zendesk != nil || bc.Webhook != nil {
				t.Fatal("an external crm for type local")
			}
		}},
	} {
		cfg, err := parseConfig([]byte(`{"crm": ` + tc.js + `}`))
		if err != nil {
			t.Fatalf("%s: %v", tc.js, err)
		}
		bc := app.Config{DataDir: t.TempDir(), Demo: true, InstanceSocket: "off", ControlAddr: "off",
			Secrets: secrets.New(secrets.WithService("softphone-cmd-test"))}
		if err := cfg.CRM.apply(&bc, true); err != nil {
			t.Fatalf("%s: %v", tc.js, err)
		}
		tc.check(t, bc)
		a, err := app.Build(context.Background(), bc)
		if err != nil {
			t.Fatalf("%s: build: %v", tc.js, err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestNoCRMSection: a file without a crm section (and demo mode without a
// file) keeps the local directory.
func TestNoCRMSection(t *testing.T) {
	var none *crmConfig
	bc := app.Config{}
	if err := none.apply(&bc, true); err != nil || bc.Salesforce != nil || bc.HubSpot != nil || bc.Webhook != nil {
		t.Fatalf("no crm section: %v %+v", err, bc)
	}
	if err := setCRMSecret(configFile{}, crmtest.NewKeyring(), strings.NewReader("x\n"), io.Discard); !errors.Is(err, errBadConfig) {
		t.Fatalf("secret without a crm: %v", err)
	}
}

// TestSetCRMSecret stores what IT provisions where each connector reads
// it, and refuses CRMs that have nothing to store.
func TestSetCRMSecret(t *testing.T) {
	kr := crmtest.NewKeyring()
	set := func(js, input string) error {
		cfg, err := parseConfig([]byte(`{"crm": ` + js + `}`))
		if err != nil {
			t.Fatal(err)
		}
		return setCRMSecret(cfg, kr, strings.NewReader(input), io.Discard)
	}
	if err := set(`{"type": "hubspot"}`, "pat-na1-0123\n"); err != nil {
		t.Fatal(err)
	}
	if v, err := kr.Get(hubspot.PortalAgent, hubspot.Name, secrets.KindAccessToken); err != nil || v != "pat-na1-0123" {
		t.Fatalf("portal token %q %v", v, err)
	}
	if err := set(`{"type": "servicenow", "instance_url": "https://acme.service-now.com", "client_id": "sn"}`, "s3cret\n"); err != nil {
		t.Fatal(err)
	}
	if v, _ := kr.Get(servicenow.DefaultClientSecretAgent, servicenow.Name, secrets.KindClientSecret); v != "s3cret" {
		t.Fatalf("servicenow secret %q", v)
	}
	if err := set(`{"type": "zendesk", "instance_url": "https://acme.zendesk.com", "client_id": "zd"}`, "x\n"); !errors.Is(err, errBadConfig) {
		t.Fatalf("zendesk: %v", err)
	}
	if err := set(`{"type": "hubspot"}`, "\n"); !errors.Is(err, errEmptyPassword) {
		t.Fatalf("empty: %v", err)
	}
	if err := set(`{"type": "webhook", "log_url": "https://hooks.example.com/calls"}`, "short\n"); !errors.Is(err, app.ErrWeakWebhookSecret) {
		t.Fatalf("weak webhook secret: %v", err)
	}
}
