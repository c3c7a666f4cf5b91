//go:build darwin && cgo

package urlevents

/*
#cgo CFLAGS: -x objective-c -fobjc-arc
#cgo LDFLAGS: -framework Foundation -framework CoreServices
void urleventsInstall(void);
*/
import "C"

import (
	"errors"
	"sync"
)

var (
	startOnce sync.Once
	links     *queue
)

// Start installs the Apple Event handler for links; handle receives each
// link (for example "tel:+4930123456") on this package's goroutine, in
// order. Call it once, on the main goroutine, before the Fyne app runs.
func Start(handle func(url string)) error {
	if handle == nil {
		return errors.New("urlevents: nil handler")
	}
	err := errors.New("urlevents: Start was already called")
	startOnce.Do(func() {
		links = newQueue(handle)
		C.urleventsInstall()
		err = nil
	})
	return err
}

//export urleventsGoHandle
func urleventsGoHandle(u *C.char) {
	if links != nil && u != nil {
		links.push(C.GoString(u))
	}
}
