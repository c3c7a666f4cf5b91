package store

import "errors"

// Sentinel errors. Classify with errors.Is; the messages are lowercase and
// the store wraps them with detail using %w.
var (
	// ErrAlreadyRunning means another process (or another Open in this
	// process) holds the database lock: another instance of the app runs.
	ErrAlreadyRunning = errors.New("another instance of the softphone is already running")
	// ErrClosed is returned by every operation after Close.
	ErrClosed = errors.New("store closed")
	// ErrSchemaTooNew means the database was written by a newer version of
	// the app; it is left untouched.
	ErrSchemaTooNew = errors.New("database schema is newer than this version of the app")
	// ErrQueueFull means the call-log writer queue is full; the core retries.
	ErrQueueFull = errors.New("call log queue full")
	// ErrNoSink means SaveCallLog was called before Attach.
	ErrNoSink = errors.New("call logger has no event sink attached")
	// ErrInvalidLog means a call log lacks its key or agent ID.
	ErrInvalidLog = errors.New("invalid call log")
	// ErrInvalidAgent means an empty or oversized agent ID.
	ErrInvalidAgent = errors.New("invalid agent id")
	// ErrFavoritesFull means the profile already has MaxFavorites favorites.
	ErrFavoritesFull = errors.New("favorites list is full")
	// ErrInvalidNumber means a phone number could not be normalised.
	ErrInvalidNumber = errors.New("invalid phone number")
	// ErrInvalidContact means a directory contact lacks its ID or name,
	// has no phone number or an oversized field.
	ErrInvalidContact = errors.New("invalid contact")
	// ErrNotFound means the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrBadTransition means an outbox entry is not in a state that allows
	// the requested change (for example MarkDone on a pending entry).
	ErrBadTransition = errors.New("outbox entry state does not allow this change")
	// ErrSecretInSettings means PutSettings was given a value that looks
	// like a password or token; secrets belong in package secrets.
	ErrSecretInSettings = errors.New("settings must not contain secrets")
	// ErrNoSecrets means Logout on a shared PC was called without a secrets
	// store to remove the agent's credentials.
	ErrNoSecrets = errors.New("logout on a shared pc needs the secrets store")
)
