package main

import "errors"

// Errors of the command.
var (
	// errBadConfig wraps every problem of the configuration file.
	errBadConfig = errors.New("bad configuration")
	// errEmptyPassword refuses to store an empty SIP password.
	errEmptyPassword = errors.New("empty password: nothing stored")
	// errNotRunning is returned by a verb (answer, hangup, status) when no
	// instance runs to carry it out.
	errNotRunning = errors.New("softphone is not running")
	// errNotSignedIn refuses to save settings while nobody is signed in.
	errNotSignedIn = errors.New("sign in first: settings are kept per agent")
	// errNoAgentPassword refuses an agent password when nothing on this PC
	// can check it.
	errNoAgentPassword = errors.New("this PC has no sign-in server to check agent passwords: sign in with your agent ID only")
	// errBadContact means the new-contact form's contact has no usable
	// phone number.
	errBadContact = errors.New("the contact has no usable phone number")
	// errBadEntryKey means a resend named no outbox entry.
	errBadEntryKey = errors.New("not a call log of the crm outbox")
	// errAutostartLocked refuses to change start at login that IT set
	// and locked (policy.autostart).
	errAutostartLocked = errors.New("start at login is set by your IT department")
	// errNoDisplay stops the window when the display cannot be opened
	// (no X11 or Wayland session, a wrong DISPLAY).
	errNoDisplay = errors.New("cannot open the display")
)

// errBadToken refuses a control API token read from standard input that
// the control API would not accept.
var errBadToken = errors.New("bad control api token")
