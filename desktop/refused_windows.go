//go:build windows

package desktop

import (
	"errors"
	"syscall"
)

// wsaeconnrefused is Winsock's "connection refused" (WSAECONNREFUSED),
// which an AF_UNIX socket file with nobody listening gives.
const wsaeconnrefused = syscall.Errno(10061)

// refused reports a connection refused: nobody listens on the socket.
func refused(err error) bool {
	return errors.Is(err, wsaeconnrefused) || errors.Is(err, syscall.ECONNREFUSED)
}
