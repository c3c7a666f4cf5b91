// Package sip is the telephony adapter: the only package that imports
// github.com/emiago/diago and github.com/emiago/sipgo. It implements
// domain.Telephony (accounts, registration, calls, hold, DTMF, transfer),
// turns diago's callbacks into domain events posted to the core, and exposes
// each call's decoded PCM to package audio with standard-library types only.
// diago's known defects are worked around here with sipgo-level requests and
// our own SDP, never by copying diago's source.
//
// Status: the adapter is built in the SIP engine issue; until then this file
// pins the libraries (the versions in go.mod) so every build compiles them.
//
// It must not import agent (only agent/domain), ui, audio, store or crm.
package sip

import (
	_ "github.com/emiago/diago" // pinned: v0.31.0, the newest the module proxy serves
	_ "github.com/emiago/sipgo" // pinned: v1.7.2
)
