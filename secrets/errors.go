package secrets

import "errors"

// Sentinel errors. Classify with errors.Is.
var (
	// ErrNoKeyring means no usable OS keyring answered. The secret was not
	// stored anywhere else; the user has to start or unlock one.
	ErrNoKeyring = errors.New("no usable os keyring: on linux start a secret service " +
		"(gnome-keyring or kwallet) and unlock it, on macos unlock the keychain, " +
		"on windows check the credential manager; the secret was not saved anywhere else")
	// ErrNotFound means the keyring holds no such secret.
	ErrNotFound = errors.New("secret not found in keyring")
	// ErrInvalidKey means an empty agent, account or kind.
	ErrInvalidKey = errors.New("invalid secret key")
	// ErrCorrupt means the chunks of a long secret do not match its
	// manifest (for example an interrupted write); set it again.
	ErrCorrupt = errors.New("secret in keyring is incomplete")
	// ErrTooBig means the keyring refused a value even after chunking.
	ErrTooBig = errors.New("secret too big for the keyring")
)
