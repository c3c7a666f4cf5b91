package crm

import (
	"context"
	"time"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/secrets"
)

// Connector is one configured CRM (an org, a portal, a webhook URL). It
// makes per-agent Sessions; everything that touches the CRM's data goes
// through a Session, so a log can only ever be sent with the token of the
// agent it belongs to.
type Connector interface {
	// Name is the outbox target name ("salesforce", "webhook", "local");
	// store.NewCallLogger queues one entry per target name.
	Name() string
	// Capabilities says how the connector batches and deduplicates.
	Capabilities() Capabilities
	// SignIn runs the interactive sign-in of agentID (a browser with a
	// loopback redirect for OAuth CRMs) and keeps the tokens in the OS
	// keyring under that agent.
	SignIn(ctx context.Context, agentID string, opts SignInOptions) (Session, error)
	// Resume rebuilds agentID's session from the keyring after a restart
	// or for the outbox; ErrSignInRequired when there is nothing usable.
	Resume(ctx context.Context, agentID string) (Session, error)
}

// SignInOptions tune an interactive sign-in.
type SignInOptions struct {
	// ForceLogin asks the identity provider for a fresh login even when
	// the browser holds another user's session (hot desk, shared PCs).
	ForceLogin bool
	// Timeout bounds the whole browser round trip (default 5 minutes).
	Timeout time.Duration
}

// Capabilities describe a connector.
type Capabilities struct {
	// MaxBatch is the most logs one LogCalls request carries (200 for
	// Salesforce sObject Collections, 1 where the CRM has no batch API).
	MaxBatch int
	// Idempotent is true when a replayed log can never create a second
	// record (external-id upsert, idempotency key, client-chosen id).
	Idempotent bool
}

// Identity is who a session is signed in as, shown as "Signed in as ...".
type Identity struct {
	UserID   string // the CRM user (Salesforce 005...)
	OrgID    string
	Username string
	Display  string
}

// Session is one agent's authenticated CRM session. It is safe for
// concurrent use.
type Session interface {
	// AgentID is the softphone agent the session belongs to.
	AgentID() string
	// Identity is the CRM user behind the session.
	Identity() Identity
	// LookupPhone finds the records whose phone fields match p, verified
	// client-side with the same normaliser and ranked exact first.
	LookupPhone(ctx context.Context, p Phone) ([]domain.CRMRecord, error)
	// Search finds records by free text (name, company, number) for
	// click-to-dial.
	Search(ctx context.Context, text string, limit int) ([]domain.CRMRecord, error)
	// LogCalls writes up to Capabilities().MaxBatch logs idempotently and
	// returns one result per item, in order. A non-nil error means the
	// whole request failed (nothing is known per item) and carries the
	// Kind the outbox acts on; per-item failures are in LogResult.Err.
	LogCalls(ctx context.Context, items []LogItem) ([]LogResult, error)
	// RecordURL is the screen-pop URL of a record.
	RecordURL(rec domain.CRMRecord) (string, error)
	// NewRecordURL is the URL of a new-contact form prefilled with p.
	NewRecordURL(p Phone) (string, error)
	// Health checks that the CRM answers with this session's token.
	Health(ctx context.Context) error
	// SignOut revokes the tokens at the CRM and removes them from the
	// keyring. Drain the agent's outbox first (outbox.Worker.Flush).
	SignOut(ctx context.Context) error
}

// LogItem is one queued call log to write.
type LogItem struct {
	// Key is the idempotency key (store.Entry.IdempotencyKey), the same on
	// every attempt; Salesforce stores it in the external ID field.
	Key string
	// AgentID must equal the session's agent; otherwise ErrWrongAgent.
	AgentID string
	// MayExist is set when an earlier attempt may have been applied: the
	// connector must check for the record before writing (read first).
	MayExist bool
	Log      domain.CallLog
}

// LogResult is the outcome of one LogItem.
type LogResult struct {
	ID      string // the CRM record id
	Created bool   // false: it already existed (idempotent replay)
	// Unassociated is set when the referenced contact/account had been
	// deleted and the log was written without it.
	Unassociated bool
	Err          error // per-item failure, classified with KindOf
}

// Keyring is where connectors keep tokens: the OS keyring through
// *secrets.Store in the app, an in-memory fake in tests. Get returns an
// error wrapping secrets.ErrNotFound when nothing is stored.
type Keyring interface {
	Set(agentID, account string, kind secrets.Kind, secret string) error
	Get(agentID, account string, kind secrets.Kind) (string, error)
	Delete(agentID, account string, kind secrets.Kind) error
}

var _ Keyring = (*secrets.Store)(nil)

// ServerPopper is implemented by sessions whose CRM can pop a record in
// the agent's open CRM tab from the server side (Zendesk Talk Partner
// Edition's display API). Directory tries it before opening a browser
// tab: a false or failed pop falls back to the record's URL.
type ServerPopper interface {
	// PopRecord shows rec in the agent's CRM session; false when the
	// CRM's pop API is not configured or the agent has no open session.
	PopRecord(ctx context.Context, rec domain.CRMRecord) (bool, error)
}

// DisplayName is the product name of a connector's target name, for the
// agent ("hubspot" -> "HubSpot"); unknown names come back unchanged.
func DisplayName(target string) string {
	switch target {
	case "salesforce":
		return "Salesforce"
	case "hubspot":
		return "HubSpot"
	case "dynamics":
		return "Dynamics 365"
	case "servicenow":
		return "ServiceNow"
	case "zendesk":
		return "Zendesk"
	case "webhook":
		return "CRM"
	}
	return target
}
