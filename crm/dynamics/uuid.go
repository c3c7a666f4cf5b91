package dynamics

import (
	"crypto/sha1"
	"fmt"
)

// keyNamespace is the UUIDv5 namespace of activity ids. Never change it:
// a replay after an upgrade must land on the same activityid.
var keyNamespace = [16]byte{0x8a, 0x3f, 0x5c, 0x21, 0x7e, 0x94, 0x4b, 0x0d, 0xa6, 0x1e, 0x52, 0xc9, 0x0f, 0x7b, 0x3d, 0x48}

// ActivityID is the deterministic activityid of the phone call logged
// for idempotency key key: UUIDv5(namespace, key). Every attempt of a log
// writes the same row.
func ActivityID(key string) string {
	h := sha1.New()
	h.Write(keyNamespace[:])
	h.Write([]byte(key))
	var b [16]byte
	copy(b[:], h.Sum(nil))
	b[6] = b[6]&0x0f | 0x50 // version 5
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
