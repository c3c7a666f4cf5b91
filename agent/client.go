package agent

import "github.com/callcentre/softphone/agent/domain"

// The client API: every method enqueues a command and returns at once. The
// result arrives as a Notify (state change or Notice), never as a return
// value; the error is only ErrBusy or ErrStopped.

// Login signs an agent in.
func (a *Agent) Login(who domain.AgentInfo, cfg domain.Config) error {
	return a.Do(domain.Login{Agent: who, Config: cfg})
}

// Logout signs the agent out (after the calls and wrap-up, if any).
func (a *Agent) Logout() error { return a.Do(domain.Logout{}) }

// SetStatus chooses a status (the next status during a call or wrap-up).
func (a *Agent) SetStatus(s domain.Status) error { return a.Do(domain.SetStatus{Status: s}) }

// Dial places a call and returns its ID, so the caller can follow it.
func (a *Agent) Dial(target string) (domain.CallID, error) {
	id := domain.NewCallID()
	return id, a.Do(domain.Dial{ID: id, Target: target})
}

// Answer answers a ringing call.
func (a *Agent) Answer(id domain.CallID) error { return a.Do(domain.Answer{ID: id}) }

// Reject rejects a ringing call (486, or 603 with decline).
func (a *Agent) Reject(id domain.CallID, decline bool) error {
	return a.Do(domain.Reject{ID: id, Decline: decline})
}

// Redirect sends a ringing call to another number.
func (a *Agent) Redirect(id domain.CallID, target string) error {
	return a.Do(domain.Redirect{ID: id, Target: target})
}

// Hangup ends, cancels or rejects a call.
func (a *Agent) Hangup(id domain.CallID) error { return a.Do(domain.Hangup{ID: id}) }

// Hold holds a call (or its conference).
func (a *Agent) Hold(id domain.CallID) error { return a.Do(domain.Hold{ID: id}) }

// Resume resumes a held call, holding the active one.
func (a *Agent) Resume(id domain.CallID) error { return a.Do(domain.Resume{ID: id}) }

// Mute mutes or unmutes the microphone.
func (a *Agent) Mute(on bool) error { return a.Do(domain.Mute{On: on}) }

// SendDTMF sends digits on the active call.
func (a *Agent) SendDTMF(id domain.CallID, digits string) error {
	return a.Do(domain.SendDTMF{ID: id, Digits: digits})
}

// BlindTransfer transfers a call without consulting.
func (a *Agent) BlindTransfer(id domain.CallID, target string) error {
	return a.Do(domain.BlindTransfer{ID: id, Target: target})
}

// Consult holds call id and calls target; it returns the consult call's ID.
// From a conference it adds a party (merge with Merge).
func (a *Agent) Consult(id domain.CallID, target string) (domain.CallID, error) {
	nid := domain.NewCallID()
	return nid, a.Do(domain.ConsultStart{ID: id, NewID: nid, Target: target})
}

// CompleteTransfer hands the held caller to the consulted party.
func (a *Agent) CompleteTransfer(consult domain.CallID) error {
	return a.Do(domain.ConsultComplete{ID: consult})
}

// Merge joins the consult call and the held party into a conference.
func (a *Agent) Merge(consult domain.CallID) error { return a.Do(domain.ConsultMerge{ID: consult}) }

// CancelConsult hangs up the consult call and resumes the held caller.
func (a *Agent) CancelConsult(consult domain.CallID) error {
	return a.Do(domain.ConsultCancel{ID: consult})
}

// LeaveConference leaves a conference, keeping the other two connected.
func (a *Agent) LeaveConference(key string) error { return a.Do(domain.ConferenceLeave{Key: key}) }

// EndConference ends a conference for everybody.
func (a *Agent) EndConference(key string) error { return a.Do(domain.ConferenceTerminate{Key: key}) }

// SetDoNotLog sets the "do not log this call" flag.
func (a *Agent) SetDoNotLog(key string, on bool) error {
	return a.Do(domain.SetDoNotLog{Key: key, On: on})
}

// SetOutcome chooses the outcome of an interaction.
func (a *Agent) SetOutcome(key, outcome string) error {
	return a.Do(domain.SetOutcome{Key: key, Outcome: outcome})
}

// Reconfigure changes the live-safe part of the signed-in agent's
// configuration (outcomes, quick notes, screen pop, call subject).
func (a *Agent) Reconfigure(r domain.Reconfigure) error { return a.Do(r) }

// SetNotes replaces the notes of an interaction.
func (a *Agent) SetNotes(key, notes string) error {
	return a.Do(domain.SetNotes{Key: key, Notes: notes})
}

// AddQuickNote appends a configured quick note.
func (a *Agent) AddQuickNote(key, name string) error {
	return a.Do(domain.AddQuickNote{Key: key, Name: name})
}

// ExtendWrapUp extends the wrap-up timer once.
func (a *Agent) ExtendWrapUp(key string) error { return a.Do(domain.ExtendWrapUp{Key: key}) }

// CompleteWrapUp finishes wrap-up and logs the call.
func (a *Agent) CompleteWrapUp(key string) error { return a.Do(domain.CompleteWrapUp{Key: key}) }

// SetRecording starts, pauses, resumes or stops recording.
func (a *Agent) SetRecording(key string, action domain.RecordAction) error {
	return a.Do(domain.SetRecording{Key: key, Action: action})
}

// AddBookmark bookmarks the current moment of a call.
func (a *Agent) AddBookmark(key, label string) error {
	return a.Do(domain.AddBookmark{Key: key, Label: label})
}

// PlayAnnouncement plays an announcement into the active call.
func (a *Agent) PlayAnnouncement(id domain.CallID, name string) error {
	return a.Do(domain.PlayAnnouncement{ID: id, Name: name})
}

// ChooseRecord picks one of several matched CRM records.
func (a *Agent) ChooseRecord(key, recordID string) error {
	return a.Do(domain.ChooseRecord{Key: key, RecordID: recordID})
}

// CreateContact opens the CRM's new-contact page for the caller.
func (a *Agent) CreateContact(key string) error { return a.Do(domain.CreateContact{Key: key}) }
