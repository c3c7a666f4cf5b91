package sfemu

import (
	"fmt"
	"strings"
)

// Key prefixes of the objects the emulator knows.
const (
	PrefixAccount = "001"
	PrefixContact = "003"
	PrefixLead    = "00Q"
	PrefixTask    = "00T"
	PrefixUser    = "005"
	PrefixOrg     = "00D"
)

// newID returns an 18-character Salesforce id (15 characters plus the
// case-folding checksum) for prefix and counter n.
func newID(prefix string, n int) string {
	id15 := prefix + "emu" + fmt.Sprintf("%09d", n)
	return id15 + checksum(id15)
}

func checksum(id15 string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	var b strings.Builder
	for chunk := 0; chunk < 3; chunk++ {
		bits := 0
		for i := 0; i < 5; i++ {
			c := id15[chunk*5+i]
			if c >= 'A' && c <= 'Z' {
				bits |= 1 << i
			}
		}
		b.WriteByte(alphabet[bits])
	}
	return b.String()
}
