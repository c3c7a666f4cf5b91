package app

import "errors"

// Sentinel errors.
var (
	// ErrNoAccount is returned by Build when Demo is off and no SIP
	// account is configured.
	ErrNoAccount = errors.New("no phone account is configured")
	// ErrNoKeyring means an external CRM is configured without a keyring
	// to keep its tokens or secrets in (Config.Secrets, or for Salesforce
	// Salesforce.Keyring).
	ErrNoKeyring = errors.New("a crm account needs the os keyring")
	// ErrTwoCRMs means more than one external CRM is configured;
	// an install logs to one external CRM.
	ErrTwoCRMs = errors.New("configure one external crm, not several")
	// ErrSecretInConfig means Config.Webhook carries its signing secret
	// or bearer token; those come only from the OS keyring
	// (SetWebhookSecrets).
	ErrSecretInConfig = errors.New("crm secrets come from the os keyring, never from the configuration")
	// ErrNoWebhookSecret means the webhook is configured but its signing
	// secret is not in the OS keyring (store it with SetWebhookSecrets).
	ErrNoWebhookSecret = errors.New("the webhook signing secret is not in the os keyring")
	// ErrWeakWebhookSecret means SetWebhookSecrets got a signing secret
	// shorter than 16 bytes.
	ErrWeakWebhookSecret = errors.New("the webhook signing secret must have at least 16 bytes")
	// ErrNoCRM means SignInCRM was called without an external CRM
	// (Salesforce or the webhook) configured.
	ErrNoCRM = errors.New("no external crm is configured")
	// ErrAudioOff is wrapped by App.AudioErr (and the audio methods'
	// errors) when the app runs without audio (turned off, or the sound
	// system could not be initialised).
	ErrAudioOff = errors.New("audio is off")
	// ErrNotSignedIn means SignInCRM was called while no agent is signed
	// in.
	ErrNotSignedIn = errors.New("no agent is signed in")
	// ErrNoSSO means SignInSSO was called although the configured CRM
	// offers no user sign-in (App.SSOName is "").
	ErrNoSSO = errors.New("the crm offers no sign-in for the desk")
	// ErrNoDeviceCode means SignInDeviceCode was called for a CRM without
	// the device code flow (only Dynamics 365 has it).
	ErrNoDeviceCode = errors.New("the crm offers no device code sign-in")
	// ErrNoCRMIdentity means the CRM signed a user in but said nothing
	// the desk can take an agent ID from.
	ErrNoCRMIdentity = errors.New("the crm did not say who signed in")
	// ErrAlreadySignedIn means a desk sign-in was asked while an agent is
	// signed in.
	ErrAlreadySignedIn = errors.New("an agent is already signed in")
	// ErrEchoCallEnded means the echo test call ended (or was never
	// placed) before the echo check could measure it.
	ErrEchoCallEnded = errors.New("the echo test call ended before it could be measured")
)
