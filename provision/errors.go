package provision

import "errors"

var (
	// ErrSyntax reports a source that is not valid JSON or plist.
	ErrSyntax = errors.New("provisioning: syntax error")
	// ErrUnknownKey reports a key that names no setting.
	ErrUnknownKey = errors.New("provisioning: unknown setting")
	// ErrBadValue reports a value of the wrong type or out of range.
	ErrBadValue = errors.New("provisioning: bad value")
	// ErrSecret reports a password or token in a source; secrets belong
	// in the OS keyring only.
	ErrSecret = errors.New("provisioning: secrets are never provisioned")
	// ErrNeedsAgent reports a sip.user or sip.auth_user template with
	// AgentPlaceholder expanded without an agent ID.
	ErrNeedsAgent = errors.New("provisioning: the SIP user names the agent, and no agent is known")
)
