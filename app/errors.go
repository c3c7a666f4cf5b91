package app

import "errors"

// Sentinel errors.
var (
	// ErrNoAccount is returned by Build when Demo is off and no SIP
	// account is configured.
	ErrNoAccount = errors.New("no phone account is configured")
	// ErrNoKeyring means Salesforce is configured without a keyring to
	// keep its tokens in (Config.Secrets or Salesforce.Keyring).
	ErrNoKeyring = errors.New("a crm account needs the os keyring")
	// ErrNoCRM means SignInCRM was called without an external CRM
	// configured.
	ErrNoCRM = errors.New("no external crm is configured")
	// ErrNotSignedIn means SignInCRM was called while no agent is signed
	// in.
	ErrNotSignedIn = errors.New("no agent is signed in")
)
