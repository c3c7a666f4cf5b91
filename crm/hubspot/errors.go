package hubspot

import "errors"

// Sentinel errors.
var (
	// ErrConfig means the connector's configuration is incomplete or wrong.
	ErrConfig = errors.New("hubspot configuration incomplete")
	// ErrNoPortalToken means IT has not provisioned a portal token on this
	// computer (or for this agent).
	ErrNoPortalToken = errors.New("no hubspot portal token provisioned")
	// ErrNoClientSecret means per-agent OAuth is chosen but IT has not
	// provisioned the app's client secret.
	ErrNoClientSecret = errors.New("no hubspot client secret provisioned")
	// ErrNoOwner means no active HubSpot owner has the agent's e-mail
	// address, so calls could not be attributed.
	ErrNoOwner = errors.New("no hubspot owner for the agent")
)
