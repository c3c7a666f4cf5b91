package sip

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// SDES-SRTP (RFC 4568) over TLS. diago sets up the SRTP contexts for the
// first offer/answer, but any re-INVITE goes through MediaSession.Fork(),
// which drops them: hold offers plain RTP/AVP and the far end's hold is
// refused, and the audio is gone for the rest of the call (diago notes
// 4.2). On an encrypted call we therefore never let diago touch the media
// again: our hold/resume re-INVITEs and our answers to the far end's
// re-INVITEs carry our original SDP (same crypto key, same o= session id
// with a new version, same address and port), only the direction changes;
// the SRTP contexts of the first exchange stay in use.

// sdpPair returns the call's first local and remote SDP bodies.
func (c *call) sdpPair() (local, remote []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.cli != nil && c.cli.InviteResponse != nil:
		return c.cli.InviteRequest.Body(), c.cli.InviteResponse.Body()
	case c.srv != nil && c.srv.InviteResponse != nil:
		return c.srv.InviteResponse.Body(), c.srv.InviteRequest.Body()
	}
	return nil, nil
}

// encrypted reports whether both sides of the call's SDP carry SDES keys.
func (c *call) encrypted() bool {
	l, r := c.sdpPair()
	return len(sdesKeys(l)) > 0 && len(sdesKeys(r)) > 0
}

// sdesKeys returns the inline keys of the SDP's a=crypto lines.
func sdesKeys(sdp []byte) []string {
	var keys []string
	for _, line := range strings.Split(string(sdp), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "a=crypto:") {
			continue
		}
		if i := strings.Index(line, "inline:"); i >= 0 {
			k := line[i+len("inline:"):]
			if j := strings.IndexAny(k, "| "); j >= 0 {
				k = k[:j]
			}
			keys = append(keys, k)
		}
	}
	return keys
}

// sdpDirection is the audio direction an SDP asks for (sendrecv when none).
func sdpDirection(sdp []byte) string {
	for _, line := range strings.Split(string(sdp), "\n") {
		switch d := strings.TrimSpace(line); d {
		case "a=sendonly", "a=recvonly", "a=inactive", "a=sendrecv":
			return d[2:]
		}
	}
	return "sendrecv"
}

// answerDirection is our answer to an offered direction (RFC 3264 6.1):
// the mirror of the offer, with our own hold (localHeld: we send, we do
// not want to receive) kept. Held by us and offered sendrecv: sendonly;
// held by both (offered sendonly): inactive.
func answerDirection(offered string, localHeld bool) string {
	switch offered {
	case "sendonly", "inactive":
		if localHeld || offered == "inactive" {
			return "inactive"
		}
		return "recvonly"
	case "recvonly":
		return "sendonly"
	}
	if localHeld {
		return "sendonly"
	}
	return "sendrecv"
}

// holdDirection is the direction our hold (on) or resume offers: sendonly
// to hold, inactive when the far end holds us too (RFC 3264 8.4), and
// sendrecv to resume.
func holdDirection(on, remoteHeld bool) string {
	switch {
	case on && remoteHeld:
		return "inactive"
	case on:
		return "sendonly"
	}
	return "sendrecv"
}

// rewriteSDP returns sdp with the direction set to dir and the o= version
// set to version; everything else (keys, address, port, codecs) is kept.
func rewriteSDP(sdp []byte, dir string, version uint64) []byte {
	var out bytes.Buffer
	for _, line := range strings.Split(strings.TrimRight(string(sdp), "\r\n"), "\n") {
		line = strings.TrimRight(line, "\r")
		switch line {
		case "a=sendonly", "a=recvonly", "a=inactive", "a=sendrecv":
			continue
		}
		if strings.HasPrefix(line, "o=") {
			if f := strings.Fields(line); len(f) == 6 {
				f[2] = strconv.FormatUint(version, 10)
				line = strings.Join(f, " ")
			}
		}
		out.WriteString(line + "\r\n")
	}
	out.WriteString("a=" + dir + "\r\n")
	return out.Bytes()
}

// nextSDPVersion returns the o= version for the call's next SDP: one more
// than the original's, counting up.
func (c *call) nextSDPVersion(local []byte) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sdpVersion == 0 {
		for _, line := range strings.Split(string(local), "\n") {
			if f := strings.Fields(strings.TrimSpace(line)); len(f) == 6 && strings.HasPrefix(f[0], "o=") {
				c.sdpVersion, _ = strconv.ParseUint(f[2], 10, 64)
			}
		}
	}
	c.sdpVersion++
	return c.sdpVersion
}

// ownHold holds (or resumes) an encrypted call, or any call over TLS, with
// our own re-INVITE.
func (e *Engine) ownHold(ctx context.Context, c *call, on bool) error {
	local, remote := c.sdpPair()
	c.mu.Lock()
	dir := holdDirection(on, c.remoteHeld)
	c.mu.Unlock()
	body := rewriteSDP(local, dir, c.nextSDPVersion(local))
	c.mu.Lock()
	cli, srv := c.cli, c.srv
	c.mu.Unlock()
	req := sip.NewRequest(sip.INVITE, sip.Uri{})
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(body)
	var res *sip.Response
	var err error
	if cli != nil {
		req.Recipient = cli.RemoteContact().Address
		res, err = cli.DialogClientSession.Do(ctx, req)
	} else {
		req.Recipient = srv.RemoteContact().Address
		res, err = srv.DialogServerSession.Do(ctx, req)
	}
	if err != nil {
		return err
	}
	if !res.IsSuccess() {
		return &sipgo.ErrDialogResponse{Res: res}
	}
	ack := sip.NewRequest(sip.ACK, req.Recipient)
	if cli != nil {
		err = cli.DialogClientSession.WriteRequest(ack)
	} else {
		err = srv.DialogServerSession.WriteRequest(ack)
	}
	if err != nil {
		return fmt.Errorf("ack of our re-invite: %w", err)
	}
	if !sameKeys(sdesKeys(res.Body()), sdesKeys(remote)) {
		// The far end re-keyed: the contexts of the first exchange no
		// longer decrypt its audio, and diago cannot take new ones.
		return fmt.Errorf("the other side changed its encryption key on hold")
	}
	return nil
}

func sameKeys(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	for _, k := range a {
		for _, l := range b {
			if k == l {
				return true
			}
		}
	}
	return false
}

// answerReinvite answers the far end's re-INVITE on an encrypted call
// with our original SDP, the direction mirrored. A re-INVITE that changes
// the far end's key is refused with 488 (the call keeps its media).
func (e *Engine) answerReinvite(c *call, req *sip.Request, tx sip.ServerTransaction) {
	local, remote := c.sdpPair()
	if body := req.Body(); len(body) > 0 && !sameKeys(sdesKeys(body), sdesKeys(remote)) {
		e.log.Warn("re-invite with new srtp keys refused", "call_id", string(c.id))
		_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusNotAcceptableHere, "Not Acceptable Here", nil))
		return
	}
	c.mu.Lock()
	held := c.localHeld
	c.mu.Unlock()
	dir := answerDirection(sdpDirection(req.Body()), held)
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", rewriteSDP(local, dir, c.nextSDPVersion(local)))
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	if ct := c.localContact(); ct != nil {
		res.AppendHeader(ct)
	}
	if cs := req.CSeq(); cs != nil {
		c.mu.Lock()
		c.ownAckCSeq = cs.SeqNo
		c.mu.Unlock()
	}
	if err := tx.Respond(res); err != nil {
		e.log.Warn("answer to re-invite failed", "call_id", string(c.id), "error", err)
	}
}

// localContact is the Contact we used in the dialog.
func (c *call) localContact() sip.Header {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.cli != nil:
		if h := c.cli.InviteRequest.Contact(); h != nil {
			return sip.HeaderClone(h)
		}
	case c.srv != nil && c.srv.InviteResponse != nil:
		if h := c.srv.InviteResponse.Contact(); h != nil {
			return sip.HeaderClone(h)
		}
	}
	return nil
}

// ownAck reports (and forgets) whether an ACK belongs to a re-INVITE we
// answered ourselves.
func (c *call) ownAck(req *sip.Request) bool {
	cs := req.CSeq()
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs == nil || c.ownAckCSeq == 0 || cs.SeqNo != c.ownAckCSeq {
		return false
	}
	c.ownAckCSeq = 0
	return true
}
