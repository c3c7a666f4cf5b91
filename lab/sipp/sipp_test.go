package sipp

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/callcentre/softphone/lab/internal/labio"
)

const optionsUAS = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="options uas">
  <recv request="OPTIONS" />
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]lab
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>`

const optionsUAC = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="options uac">
  <send><![CDATA[
OPTIONS sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:lab@[local_ip]:[local_port]>;tag=[pid]lab[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

]]></send>
  <recv response="200" />
</scenario>`

// TestStart runs a UAS and a UAC scenario against each other.
func TestStart(t *testing.T) {
	uas := Start(t, optionsUAS, "-m", "1")
	uac := Start(t, optionsUAC, "-m", "1", uas.Addr)
	if err := uac.Wait(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := uas.Wait(20 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(uac.Messages(), "SIP/2.0 200 OK") {
		t.Errorf("no 200 in the UAC trace:\n%s", uac.Log())
	}
}

// TestStartRetriesATakenPort: a port taken between the pick and sipp's
// bind makes sipp exit "Unable to bind"; Start starts it again on a new
// port instead of failing the test.
func TestStartRetriesATakenPort(t *testing.T) {
	Require(t)
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	busy := taken.LocalAddr().(*net.UDPAddr).Port
	picks := 0
	pickPort = func() (int, error) {
		picks++
		if picks == 1 {
			return busy, nil
		}
		return labio.FreeUDPPort()
	}
	t.Cleanup(func() { pickPort = labio.FreeUDPPort })
	uas := Start(t, optionsUAS, "-m", "1")
	if uas.Port == busy || picks < 3 {
		t.Fatalf("sipp on port %d after %d picks (the taken one is %d)", uas.Port, picks, busy)
	}
	uac := Start(t, optionsUAC, "-m", "1", uas.Addr)
	if err := uac.Wait(20 * time.Second); err != nil {
		t.Fatal(err)
	}
}
