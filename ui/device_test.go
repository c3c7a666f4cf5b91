package ui

import (
	"context"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/callcentre/softphone/agent/domain"
	"github.com/callcentre/softphone/ui/viewmodel"
)

// deviceAccounts adds the device code sign-in to the fake accounts: it
// shows the code, then waits for the test to "enter" it (or for the
// desk to cancel).
type deviceAccounts struct {
	*fakeAccounts
	entered chan bool // true: entered, false: declined
}

func (f *deviceAccounts) DeviceCodeOffered() bool { return true }

func (f *deviceAccounts) SignInDeviceCode(ctx context.Context, show func(DeviceCode)) (domain.AgentInfo, domain.Config, error) {
	show(DeviceCode{Code: "ABCD-1234", URL: "https://microsoft.com/devicelogin"})
	select {
	case ok := <-f.entered:
		if !ok {
			return domain.AgentInfo{}, domain.Config{}, errDenied
		}
		return domain.AgentInfo{ID: "a1", Name: "Alice Smith"}, f.cfg, nil
	case <-ctx.Done():
		return domain.AgentInfo{}, domain.Config{}, ctx.Err()
	}
}

// TestDeviceCodeSignIn: "Sign in with a code" shows the code and where to
// enter it, waits while the agent enters it elsewhere, then signs the CRM
// user in; the agent can cancel the wait; a declined code says so.
func TestDeviceCodeSignIn(t *testing.T) {
	var da *deviceAccounts
	r := newRig(t, func(r *rig, o *[]Option) {
		da = &deviceAccounts{fakeAccounts: r.accounts, entered: make(chan bool, 1)}
		*o = append(*o, WithAccounts(da))
	})
	l := r.d.login
	if !l.device.Visible() {
		t.Fatal("device code sign-in not offered")
	}
	codeShown := func() bool {
		return l.code.Visible() && strings.Contains(l.code.Text, "open https://microsoft.com/devicelogin and enter the code ABCD-1234")
	}

	// Cancelled while waiting.
	test.Tap(l.device)
	r.until("the code", codeShown)
	if !l.cancel.Visible() || !l.signIn.Disabled() || !strings.Contains(l.message.Text, "Waiting for you to enter the code") {
		t.Fatalf("while waiting: cancel %v message %q", l.cancel.Visible(), l.message.Text)
	}
	test.Tap(l.cancel)
	r.until("cancelled", func() bool { return !l.busy && !l.code.Visible() })
	if !strings.Contains(l.message.Text, "Sign-in failed: context canceled") || r.d.vm.SignedIn() {
		t.Fatalf("after cancel: %q", l.message.Text)
	}

	// Declined on the other device.
	test.Tap(l.device)
	r.until("the code", codeShown)
	da.entered <- false
	r.until("declined", func() bool { return !l.busy })
	if !strings.Contains(l.message.Text, "Sign-in failed") {
		t.Fatalf("declined: %q", l.message.Text)
	}

	// Entered.
	test.Tap(l.device)
	r.until("the code", codeShown)
	da.entered <- true
	r.until("signed in", func() bool { return r.d.vm.SignedIn() })
	r.settle()
	if r.d.header.agent.Text != "Alice Smith (a1)" || l.code.Visible() || l.cancel.Visible() {
		t.Fatalf("header %q", r.d.header.agent.Text)
	}
}

// deviceSync adds the CRM's device code sign-in to the fake sync source.
type deviceSync struct {
	*fakeSync
	shown chan DeviceCode
	done  chan error
}

func (f *deviceSync) DeviceCodeOffered() bool { return true }

func (f *deviceSync) SignInCRMDeviceCode(ctx context.Context, show func(DeviceCode)) error {
	dc := DeviceCode{Code: "WXYZ-9876", URL: "https://microsoft.com/devicelogin"}
	show(dc)
	f.shown <- dc
	select {
	case err := <-f.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestCRMDeviceCodeSignIn: while the CRM needs the agent's sign-in, the
// sync dialog offers the device code sign-in beside the browser's and
// shows the code until it is entered.
func TestCRMDeviceCodeSignIn(t *testing.T) {
	r := newRig(t)
	ds := &deviceSync{fakeSync: &fakeSync{state: viewmodel.Sync{CRM: "Dynamics 365", SignInNeeded: true}},
		shown: make(chan DeviceCode, 1), done: make(chan error, 1)}
	r.sync, r.d.sync = ds.fakeSync, ds
	r.signIn()
	r.d.SampleNow()
	r.tap(r.d.header.crm)
	test.Tap(r.findButton("Sign in to Dynamics 365 with a code"))
	r.until("the code", func() bool {
		return strings.Contains(r.texts(), "open https://microsoft.com/devicelogin and enter the code WXYZ-9876")
	})
	<-ds.shown
	ds.done <- nil
	r.until("the sign-in toast", func() bool { return slices.Contains(r.d.Toasts(), "Signed in to Dynamics 365") })
	r.settle()
}
